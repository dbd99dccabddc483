// Khabar's one script: runs as the sources panel's js_on_load (gr.HTML gives `element`, `trigger`, `watch`).
// A click on a citation marker [n] (a.khabar-cite, href "#khabar-src-TURN-N") opens that source in the panel,
// highlighted; "show in the article" links (a.khabar-goto) open the whole article at the marked span. Sources
// of an answer the panel is not showing are asked for with the panel's "cite" event and shown once rendered.
const K = window.__khabar || (window.__khabar = {});
K.panel = element;
K.trigger = trigger;
// On a phone (<= 480 px) the sources panel is a sheet over the chat: opened by a citation, closed by its
// "back to the conversation" button or Escape.
K.narrow = function () { return window.matchMedia('(max-width: 480px)').matches; };
K.openSheet = function () {
  if (K.narrow()) document.documentElement.classList.add('khabar-sheet-open');
};
K.closeSheet = function () {
  document.documentElement.classList.remove('khabar-sheet-open');
};
K.show = function (target) {
  if (!target) return false;
  K.openSheet();
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
    if (ev.target && ev.target.closest && ev.target.closest('.khabar-sheet-close')) {
      K.closeSheet();
      return;
    }
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
  // The panel's new HTML can reach the page after this callback (seen on a loaded machine: the earlier
  // answer's source then never opened), so look again for a few seconds before giving up.
  const id = K.pending;
  let tries = 0;
  const attempt = function () {
    if (K.pending !== id) return;
    const el = document.getElementById(id);
    if (el) {
      K.pending = null;
      K.show(el);
    } else if (++tries < 60) {
      setTimeout(attempt, 50);
    }
  };
  attempt();
});
// Gradio labels each chat message for screen readers with its raw content, here HTML markup: label it with
// the text the reader sees instead (re-applied whenever Gradio re-renders a message).
// Gradio's own controls keep English names on the Arabic page: they are given the page language's names,
// which the panel carries (#khabar-aria, from strings.py). Every name ever given is remembered with its
// key, so that a language switch renames them again.
K.ariaKeys = K.ariaKeys || {'Copy message': 'copy', 'Toggle Sidebar': 'sidebar', 'chatbot conversation': 'chat',
                           "user's message: ": 'user', "bot's message: ": 'bot'};
K.ariaName = function (key) {
  const names = document.getElementById('khabar-aria');
  const name = names ? names.getAttribute('data-' + key) : null;
  if (name) K.ariaKeys[name] = key;
  return name;
};
if (!K.labels) {
  const relabel = function () {
    document.querySelectorAll('[aria-label*="khabar-msg"]').forEach(function (el) {
      const label = el.getAttribute('aria-label');
      let prefix = label.slice(0, Math.max(0, label.indexOf('<')));
      if (K.ariaKeys[prefix]) prefix = K.ariaName(K.ariaKeys[prefix]) || prefix;
      const text = Array.from(el.querySelectorAll('.khabar-msg')).map(function (m) {
        return m.textContent.trim();
      }).join(' ');
      if (text) el.setAttribute('aria-label', prefix + text);
    });
    document.querySelectorAll('[aria-label]').forEach(function (el) {
      const label = el.getAttribute('aria-label');
      const key = K.ariaKeys[label];
      const name = key && K.ariaName(key);
      if (name && name !== label) el.setAttribute('aria-label', name);
    });
  };
  K.labels = new MutationObserver(relabel);
  K.labels.observe(document.body, {subtree: true, childList: true, attributes: true,
                                   attributeFilter: ['aria-label']});
  relabel();
}
// The comment box that a rating opens is placed under the message rated (not below the whole chat, where
// it may be out of sight), and follows it when the chat scrolls.
if (!K.feedback) {
  K.feedback = true;
  const RATE = "#khabar-chat button[aria-label='Like'], #khabar-chat button[aria-label='Dislike']";
  K.placeFeedback = function () {
    const box = document.getElementById('khabar-feedback');
    const column = document.getElementById('khabar-chat-column');
    const chat = document.getElementById('khabar-chat');
    const anchor = document.querySelectorAll('#khabar-chat .message-buttons')[K.rated];
    if (!box || !column || !chat || !anchor || !box.offsetHeight) return;
    const c = column.getBoundingClientRect();
    const limits = chat.getBoundingClientRect();
    // Under the rated message's buttons; above them when there is no room below inside the chat (the last
    // answer), so that the thumbs just pressed stay in sight; inside the chat when the message scrolls away.
    const buttons = anchor.getBoundingClientRect();
    let top = buttons.bottom + 4;
    if (top + box.offsetHeight > limits.bottom) top = buttons.top - 4 - box.offsetHeight;
    top = Math.max(limits.top, Math.min(top, limits.bottom - box.offsetHeight));
    box.classList.add('khabar-feedback-anchored');
    box.style.top = (top - c.top) + 'px';
  };
  document.addEventListener('click', function (ev) {
    const button = ev.target && ev.target.closest ? ev.target.closest(RATE) : null;
    if (!button) return;
    const rows = Array.from(document.querySelectorAll('#khabar-chat .message-buttons'));
    K.rated = rows.indexOf(button.closest('.message-buttons'));
    if (K.rated < 0) K.rated = rows.length - 1;
    const box = document.getElementById('khabar-feedback');
    if (box) box.style.top = '';
    // The box appears once the server has stored the rating (seconds on a busy server): place it as soon
    // as it is shown, and again while it settles.
    const started = Date.now();
    const place = function () {
      K.placeFeedback();
      if (Date.now() - started < 30000) setTimeout(place, 150);
    };
    place();
  }, true);
  document.addEventListener('scroll', function () { K.placeFeedback(); }, true);
  window.addEventListener('resize', function () { K.placeFeedback(); });
  document.addEventListener('keydown', function (ev) {
    if (ev.key !== 'Escape') return;
    K.closeSheet();
    const box = document.getElementById('khabar-feedback');
    const close = document.getElementById('khabar-feedback-close');
    if (box && close && box.offsetHeight) close.click();  // the comment box closes as its button does
  });
}
// Gradio's copy button copies a message's value, which is the page's markup; the reader wants its words.
// The mode line and timings are the page's, not the answer's, and are left out.
K.plainMessage = function (markup) {
  const doc = new DOMParser().parseFromString(markup, 'text/html');
  doc.querySelectorAll('.khabar-meta').forEach(function (e) { e.remove(); });
  doc.querySelectorAll('br').forEach(function (e) { e.replaceWith('\n'); });
  doc.querySelectorAll('div, p, li').forEach(function (e) { e.append('\n'); });
  return doc.body.textContent.replace(/[ \t]+\n/g, '\n').replace(/\n{3,}/g, '\n\n').trim();
};
K.isMessage = function (text) {
  return typeof text === 'string' && text.indexOf('class="khabar-msg') >= 0;
};
if (!K.copying) {
  K.copying = true;
  if (navigator.clipboard && navigator.clipboard.writeText) {
    const write = navigator.clipboard.writeText.bind(navigator.clipboard);
    navigator.clipboard.writeText = function (text) {
      return write(K.isMessage(text) ? K.plainMessage(text) : text);
    };
  }
  // Without the Clipboard API (a page served over plain http to another machine) Gradio copies from a
  // hidden textarea holding the same markup.
  document.addEventListener('copy', function (ev) {
    const el = document.activeElement;
    if (el && el.tagName === 'TEXTAREA' && K.isMessage(el.value) && ev.clipboardData) {
      ev.clipboardData.setData('text/plain', K.plainMessage(el.value));
      ev.preventDefault();
    }
  });
}
