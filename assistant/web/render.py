"""HTML for the chat page: messages laid out in their own direction, citation markers, the sources panel.

Everything a person or an article supplies is escaped here (``html.escape``) before it is put in markup, so a
question such as ``<img src=x onerror=alert(1)>`` is shown as text. The markup carries no event handlers: the
page's one script (``static/khabar.js``) reacts to clicks on ``a.khabar-cite`` by its ``href``.

Rendered fragments hold no newline: inside a Markdown-rendering chat bubble a blank line would end the HTML
block and let Markdown rewrite what follows.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from assistant.schemas import Answer, Article, ArticleInfo, Citation, Passage
from assistant.textnorm import detect_language
from assistant.web.strings import t

# A marker or a «quoted» run (quotes are the article's words: their own direction inside any answer).
_TOKEN = re.compile(r"\[(\d{1,2})\]|«([^«»]*)»")
_PASSAGE_NO = re.compile(r"#p(\d+)$")


def esc(text: str) -> str:
    """Text made inert for HTML, quotes included; ``{``/``}``/``$`` too, as gr.HTML reads templates."""
    return (html.escape(text, quote=True).replace("{", "&#123;").replace("}", "&#125;")
            .replace("$", "&#36;").replace("`", "&#96;"))


def direction(text: str, default: str = "en") -> str:
    """``rtl`` for Arabic text, ``ltr`` otherwise."""
    return "rtl" if detect_language(text, default=default) == "ar" else "ltr"  # type: ignore[arg-type]


def _lines(escaped: str) -> str:
    return escaped.replace("\r\n", "\n").replace("\n", "<br>")


def source_id(turn: int, n: int) -> str:
    """DOM id of citation ``n`` of answer ``turn`` in the sources panel (markers link to it)."""
    return f"khabar-src-{turn}-{n}"


def article_mark_id(turn: int, n: int) -> str:
    """DOM id of the highlighted span of citation ``n`` in the whole-article view."""
    return f"khabar-art-{turn}-{n}"


# -- chat messages ----------------------------------------------------------------------------------------

def render_user(question: str) -> str:
    """A question as its bubble shows it: escaped, in its own direction."""
    lang = detect_language(question)
    return (f'<div class="khabar-msg khabar-user" dir="{direction(question)}" lang="{lang}">'
            f"{_lines(esc(question))}</div>")


#: A quote in the other direction than its answer and at least this long is set as its own block: wrapped
#: over several lines inside a paragraph of the other direction, its lines would read in a confusing order.
BLOCK_QUOTE_CHARS = 60


def _quote(quote: str, answer_dir: str) -> str:
    quote_dir = direction(quote)
    lang = "ar" if quote_dir == "rtl" else "en"
    if quote_dir != answer_dir and len(quote) >= BLOCK_QUOTE_CHARS:
        return (f'<bdi class="khabar-quote khabar-quote-block" dir="{quote_dir}" lang="{lang}">'
                f"«{_lines(esc(quote))}»</bdi>")
    return f'«<bdi class="khabar-quote" dir="{quote_dir}" lang="{lang}">{_lines(esc(quote))}</bdi>»'


def _answer_body(text: str, turn: int, cited: set[int], answer_dir: str) -> str:
    out: list[str] = []
    pos = 0
    for m in _TOKEN.finditer(text):
        out.append(_lines(esc(text[pos:m.start()])))
        if m.group(1) is not None:
            n = int(m.group(1))
            if n in cited:
                out.append(f'<a class="khabar-cite" href="#{source_id(turn, n)}" '
                           f'data-turn="{turn}" data-n="{n}">[{n}]</a>')
            else:  # while streaming, or a marker the answer does not back with a citation
                out.append(f'<span class="khabar-cite-pending">[{n}]</span>')
        else:
            out.append(_quote(m.group(2), answer_dir))
        pos = m.end()
    out.append(_lines(esc(text[pos:])))
    return "".join(out)


def render_partial(text: str, language: str) -> str:
    """An answer still streaming: markers are shown but not yet clickable."""
    dir_ = "rtl" if language == "ar" else "ltr"
    body = _answer_body(text, -1, set(), dir_) if text else '<span class="khabar-typing">…</span>'
    return f'<div class="khabar-msg khabar-answer" dir="{dir_}" lang="{language}">{body}</div>'


def _timings(answer: Answer, ui: str) -> str:
    parts = [f"{esc(name if name != 'total' else t(ui, 'timing_total'))} {ms:.0f} {t(ui, 'ms')}"
             for name, ms in answer.timings.items()]
    return " · ".join(parts)


def render_answer(answer: Answer, turn: int, ui: str) -> str:
    """A finished answer: clickable markers, the answer mode, and timings on demand (a details element)."""
    dir_ = "rtl" if answer.language == "ar" else "ltr"
    cited = {c.n for c in answer.citations}
    body = _answer_body(answer.answer, turn, cited, dir_)
    ui_dir = "rtl" if ui == "ar" else "ltr"
    details = [f'<div class="khabar-timings-row">{_timings(answer, ui)}</div>']
    if answer.note:
        details.append(f'<div>{t(ui, "note")}: <bdi>{esc(answer.note)}</bdi></div>')
    if answer.search_query and answer.search_query != answer.question:
        details.append(f'<div>{t(ui, "search_query")}: <bdi>{esc(answer.search_query)}</bdi></div>')
    meta = (f'<div class="khabar-meta" dir="{ui_dir}" lang="{ui}">'
            f'<span class="khabar-mode khabar-mode-{answer.mode}" data-mode="{answer.mode}">'
            f'{t(ui, "mode_" + answer.mode)}</span>'
            f'<details class="khabar-timings"><summary>{t(ui, "details")}</summary>'
            f'{"".join(details)}</details>'
            "</div>")
    # Why the written answer was replaced by the article's words, in one line of the page's language.
    why = (f'<div class="khabar-fallback-why" dir="{ui_dir}" lang="{ui}">'
           f'{t(ui, "fallback_" + answer.fallback_reason)}</div>'
           if answer.mode == "fallback" and answer.fallback_reason else "")
    return (f'<div class="khabar-msg khabar-answer" dir="{dir_}" lang="{answer.language}" '
            f'data-turn="{turn}">{body}</div>{why}{meta}')


def render_error(message: str, ui: str) -> str:
    """A short error in the chat (never a stack trace); the message is in its own direction."""
    ui_dir = "rtl" if ui == "ar" else "ltr"
    return (f'<div class="khabar-msg khabar-error" dir="{ui_dir}" lang="{ui}" role="alert">'
            f'⚠️ {t(ui, "error_prefix")}: <bdi>{esc(message)}</bdi></div>')


# -- sources panel ----------------------------------------------------------------------------------------

@dataclass
class PanelData:
    """What the sources panel shows: one answer's citations and the articles they point into."""

    turn: int | None = None
    answer: Answer | None = None
    articles: list[Article] = field(default_factory=list)
    infos: list[ArticleInfo] = field(default_factory=list)
    active: int | None = None


def _passage_of(citation: Citation, answer: Answer) -> Passage | None:
    for scored in answer.retrieved:
        if scored.passage.id == citation.passage_id:
            return scored.passage
    return None


def _place(citation: Citation, answer: Answer, infos: Sequence[ArticleInfo], ui: str) -> str:
    passage = _passage_of(citation, answer)
    if passage is not None:
        index, role = passage.index, passage.role
    else:
        m = _PASSAGE_NO.search(citation.passage_id)
        index, role = (int(m.group(1)) if m else None), None
    total = next((i.passages for i in infos if i.id == citation.article_id), None)
    parts = []
    if index is not None:
        key = "passage_place" if total else "passage_place_unknown"
        parts.append(t(ui, key, index=index + 1, total=total))
    if role:
        parts.append(t(ui, f"role_{role}"))
    return " · ".join(parts)


def _highlighted_passage(citation: Citation) -> str:
    text = citation.text
    start = citation.span.start - citation.passage_span.start
    end = start + (citation.span.end - citation.span.start)
    if not (0 <= start <= end <= len(text)) or text[start:end] != citation.quote:
        # Offsets that do not match the quote (should not happen): find the quote, else mark it all.
        found = text.find(citation.quote) if citation.quote else -1
        start, end = (found, found + len(citation.quote)) if found >= 0 else (0, len(text))
    return f"{esc(text[:start])}<mark>{esc(text[start:end])}</mark>{esc(text[end:])}"


def _article_view(article: Article, marks: list[tuple[int, int, int]], turn: int | None) -> str:
    """The whole article with the spans ``(start, end, n)`` marked.

    Overlapping spans become one mark; every citation still gets an element with its id to scroll to.
    """
    text = article.text.rstrip()
    clusters: list[list] = []  # [start, end, [n, ...]]
    for start, end, n in sorted(marks):
        start, end = max(0, start), min(end, len(text))
        if end <= start:
            continue
        if clusters and start < clusters[-1][1]:
            clusters[-1][1] = max(clusters[-1][1], end)
            clusters[-1][2].append(n)
        else:
            clusters.append([start, end, [n]])
    out: list[str] = []
    pos = 0
    for start, end, ns in clusters:
        out.append(esc(text[pos:start]))
        ids = "".join(f'<span class="khabar-anchor" id="{article_mark_id(turn, n)}"></span>'
                      for n in ns[1:]) if turn is not None else ""
        mark_id = f' id="{article_mark_id(turn, ns[0])}"' if turn is not None else ""
        out.append(f'<mark{mark_id} data-n="{" ".join(map(str, ns))}">{ids}{esc(text[start:end])}</mark>')
        pos = end
    out.append(esc(text[pos:]))
    lang = article.language
    return (f'<article class="khabar-article-text" dir="{"rtl" if lang == "ar" else "ltr"}" lang="{lang}" '
            f'data-article="{esc(article.id)}">{"".join(out)}</article>')


def render_sources(data: PanelData, ui: str) -> str:
    """The sources panel: the cited passages with the supporting span marked, and the whole article."""
    ui_dir = "rtl" if ui == "ar" else "ltr"
    # The close button shows only on a phone, where the panel is a sheet over the chat.
    # The page language's accessible names for Gradio's controls, read by khabar.js (relabel).
    aria = " ".join(f'data-{key}="{esc(t(ui, "aria_" + key))}"'
                    for key in ("copy", "sidebar", "chat", "user", "bot"))
    parts = [f'<div class="khabar-sources" dir="{ui_dir}" lang="{ui}">',
             f'<div id="khabar-aria" hidden {aria}></div>',
             f'<div class="khabar-sources-head"><h2 class="khabar-sources-title">{t(ui, "sources")}</h2>'
             f'<button type="button" class="khabar-sheet-close">{t(ui, "back_to_chat")}</button></div>']
    answer, turn = data.answer, data.turn
    marks: dict[str, list[tuple[int, int, int]]] = {}
    if answer is None or turn is None:
        parts.append(f'<p class="khabar-sources-empty">{t(ui, "sources_empty")}</p>')
    else:
        parts.append(f'<p class="khabar-sources-for">{t(ui, "sources_for")} '
                     f'<bdi class="khabar-question" dir="{direction(answer.question)}">'
                     f"{esc(answer.question)}</bdi></p>")
        if not answer.citations:
            parts.append(f'<p class="khabar-sources-empty">{t(ui, "no_citations")}</p>')
        related = bool(answer.citations) and all(c.kind == "related" for c in answer.citations)
        if related:
            # The article does not answer: these are the closest passages, not evidence of anything.
            parts.append(f'<p class="khabar-related-note" role="note">{t(ui, "related_note")}</p>')
        parts.append(f'<ol class="khabar-source-list{" khabar-related" if related else ""}">')
        for c in answer.citations:
            active = " khabar-active" if data.active == c.n else ""
            place = _place(c, answer, data.infos, ui)
            text_lang = next((a.language for a in data.articles if a.id == c.article_id),
                             detect_language(c.text))
            text_dir = "rtl" if text_lang == "ar" else "ltr"
            parts.append(
                f'<li id="{source_id(turn, c.n)}" class="khabar-source{active}" data-n="{c.n}" '
                f'data-passage="{esc(c.passage_id)}" tabindex="-1">'
                f'<div class="khabar-source-head"><span class="khabar-source-n">[{c.n}]</span> '
                f'<span class="khabar-source-place">{esc(place)}</span> '
                f'<a class="khabar-goto" href="#{article_mark_id(turn, c.n)}">{t(ui, "show_in_article")}</a>'
                "</div>"
                f'<blockquote class="khabar-passage" dir="{text_dir}" lang="{text_lang}">'
                f"{esc(c.text) if c.kind == 'related' else _highlighted_passage(c)}</blockquote></li>")
            if c.kind != "related":
                marks.setdefault(c.article_id, []).append((c.span.start, c.span.end, c.n))
        parts.append("</ol>")
    articles = [a for a in data.articles if a.id in marks] or data.articles[:1]
    for article in articles:
        summary = t(ui, "read_article_marked" if marks else "read_article")
        parts.append(
            f'<details class="khabar-article"><summary>{summary}: '
            f'<bdi dir="{"rtl" if article.language == "ar" else "ltr"}">{esc(article.title)}</bdi></summary>'
            f"{_article_view(article, marks.get(article.id, []), turn)}</details>")
    parts.append("</div>")
    return "".join(parts)


#: Article titles the page heading names; the rest are counted.
HEADER_TITLES = 3


def render_header(ui: str, titles: Sequence[str]) -> str:
    """The page heading: the name, what to do, and the article(s) being asked about (``titles``, the main
    article's first)."""
    ui_dir = "rtl" if ui == "ar" else "ltr"
    separator = "، " if ui == "ar" else ", "
    shown = list(dict.fromkeys(titles))[:HEADER_TITLES]  # a SQuAD file is hundreds of titles, many alike
    cites = separator.join(f'<bdi dir="{direction(x)}">{esc(x)}</bdi>' for x in shown)
    if len(titles) > len(shown):
        cites += f" {esc(t(ui, 'more_articles', n=len(titles) - len(shown)))}"
    article = f'<p class="khabar-header-article">{t(ui, "article")}: {cites}</p>' if titles else ""
    return (f'<header class="khabar-header" dir="{ui_dir}" lang="{ui}"><h1>{t(ui, "app_name")}</h1>'
            f'<p class="khabar-tagline">{t(ui, "tagline")}</p>{article}</header>')


def render_history(items: Sequence[tuple[str, str]], current: str | None, ui: str) -> str:
    """The side list of a browser's conversations, most recent first: ``(id, first question)`` pairs, each
    title in its own direction, each with a delete button (``static/khabar.js`` turns clicks into the list's
    ``pick`` and ``drop`` events by the item's ``data-id``)."""
    ui_dir = "rtl" if ui == "ar" else "ltr"
    rows = []
    delete = esc(t(ui, "delete_conversation"))
    for conv_id, title in items:
        lang = detect_language(title)
        current_class = " khabar-conv-current" if conv_id == current else ""
        aria = ' aria-current="true"' if conv_id == current else ""
        rows.append(
            f'<li class="khabar-conv{current_class}" data-id="{esc(conv_id)}">'
            f'<button type="button" class="khabar-conv-open" dir="{direction(title)}" lang="{lang}"{aria} '
            f'title="{esc(title)}">'
            f"{esc(title)}</button>"
            f'<button type="button" class="khabar-conv-delete" aria-label="{delete}: {esc(title)}" '
            f'title="{delete}">×</button></li>')
    body = (f'<ul class="khabar-conv-list">{"".join(rows)}</ul>' if rows
            else f'<p class="khabar-conv-empty">{t(ui, "no_conversations")}</p>')
    return (f'<nav class="khabar-history" dir="{ui_dir}" lang="{ui}" aria-label="{t(ui, "conversations")}">'
            f'<h2>{t(ui, "conversations")}</h2>{body}</nav>')
