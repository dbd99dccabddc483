// Khabar's one script: runs as the sources panel's js_on_load (gr.HTML gives `element`, `trigger`, `watch`).
// A click on a citation marker [n] (a.khabar-cite, href "#khabar-src-TURN-N") opens that source in the panel,
// highlighted; "show in the article" links (a.khabar-goto) open the whole article at the marked span. Sources
// of an answer the panel is not showing are asked for with the panel's "cite" event and shown once rendered.
const K = window.__khabar || (window.__khabar = {});
K.panel = element;
K.trigger = trigger;
K.show = function (target) {
  if (!target) return false;
  document.querySelectorAll('.khabar-sources .khabar-active').forEach(function (e) {
    e.classList.remove('khabar-active');
  });
  for (let d = target.closest('details'); d; d = d.parentElement && d.parentElement.closest('details')) {
    d.open = true;
  }
  const shown = target.classList.contains('khabar-anchor') ? target.parentElement : target;
  shown.classList.add('khabar-active');
  shown.scrollIntoView({block: 'nearest', behavior: 'smooth'});
  if (shown.focus) shown.focus({preventScroll: true});
  return true;
};
if (!K.installed) {
  K.installed = true;
  // Capture phase: the chat bubble must not treat the marker as an ordinary link.
  document.addEventListener('click', function (ev) {
    const link = ev.target && ev.target.closest ? ev.target.closest('a.khabar-cite, a.khabar-goto') : null;
    if (!link) return;
    ev.preventDefault();
    ev.stopPropagation();
    const id = (link.getAttribute('href') || '').replace(/^#/, '');
    if (K.show(document.getElementById(id))) return;
    const m = /^khabar-src-(\d+)-(\d+)$/.exec(id);
    if (m && K.trigger) {
      K.pending = id;
      K.trigger('cite', {turn: Number(m[1]), n: Number(m[2])});
    }
  }, true);
}
watch('value', function () {
  if (!K.pending) return;
  const el = document.getElementById(K.pending);
  if (el) {
    K.pending = null;
    K.show(el);
  }
});
// Gradio labels each chat message for screen readers with its raw content, here HTML markup: label it with
// the text the reader sees instead (re-applied whenever Gradio re-renders a message).
if (!K.labels) {
  const relabel = function () {
    document.querySelectorAll('[aria-label*="khabar-msg"]').forEach(function (el) {
      const label = el.getAttribute('aria-label');
      const prefix = label.slice(0, Math.max(0, label.indexOf('<')));
      const text = Array.from(el.querySelectorAll('.khabar-msg')).map(function (m) {
        return m.textContent.trim();
      }).join(' ');
      if (text) el.setAttribute('aria-label', prefix + text);
    });
  };
  K.labels = new MutationObserver(relabel);
  K.labels.observe(document.body, {subtree: true, childList: true, attributes: true,
                                   attributeFilter: ['aria-label']});
  relabel();
}
