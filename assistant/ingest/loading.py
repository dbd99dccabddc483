"""Stage 1, load: article files (plain text, Markdown, HTML) into :class:`Article` objects."""

from __future__ import annotations

import hashlib
from html.parser import HTMLParser
from pathlib import Path

import yaml
from markdown_it import MarkdownIt
from mdit_py_plugins.front_matter import front_matter_plugin

from assistant.errors import ArticleError
from assistant.schemas import Article
from assistant.textnorm import detect_language

SUPPORTED = (".txt", ".md", ".markdown", ".html", ".htm")
_BLOCK_TAGS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "div", "br", "title", "blockquote", "tr"}
#: Never article text: code, styling, embedded documents and page chrome (dropped with their content, so an
#: article's scripts and CSS become nothing at all, not visible text).
_SKIP_TAGS = {"script", "style", "nav", "footer", "header", "noscript", "template", "iframe", "object",
              "embed", "svg", "math", "noembed", "noframes", "select", "textarea", "button"}


class _TextExtractor(HTMLParser):
    """Block-level text of an HTML page, one block per line. The stdlib parser suffices for articles."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self._buffer: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in _SKIP_TAGS:
            self._skip += 1
        elif tag in _BLOCK_TAGS:
            self._flush()

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self._skip = max(0, self._skip - 1)
        elif tag in _BLOCK_TAGS:
            self._flush()

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self._buffer.append(data)

    def _flush(self) -> None:
        line = " ".join("".join(self._buffer).split())
        if line:
            self.lines.append(line)
        self._buffer = []

    def text(self) -> str:
        self._flush()
        # A page's <title> is usually its <h1> too: the headline once, not as two passages.
        kept = [line for n, line in enumerate(self.lines) if n == 0 or line != self.lines[n - 1]]
        return "\n\n".join(kept)


def _html_to_text(source: str) -> str:
    parser = _TextExtractor()
    parser.feed(source)
    parser.close()
    return parser.text()


def _markdown_to_text(source: str) -> tuple[str, str | None]:
    """The text of a Markdown article, and the title its YAML front matter gives (None without one)."""
    # Rendered by a CommonMark parser, then read as HTML: headings, emphasis and links become their text, and
    # raw HTML inside the Markdown (scripts, event handlers, styles) goes the way of any HTML article's.
    # Front matter (`---` … `---` at the top: title, author, date) is metadata, not the article's text.
    parser = MarkdownIt("commonmark").use(front_matter_plugin)
    # Every link is parsed as a link, `javascript:` ones too, so that it is reduced to its text like the
    # others instead of staying in the article as literal Markdown (only the text is kept, never an href).
    parser.validateLink = lambda url: True
    tokens = parser.parse(source)
    title = None
    if tokens and tokens[0].type == "front_matter":
        try:
            # Every value as written: a title "2018-05-17" or "yes" stays text, not a date or True.
            meta = yaml.load(tokens[0].content, Loader=yaml.BaseLoader)
        except yaml.YAMLError:
            meta = None
        if not isinstance(meta, dict):
            # Two rules (`---`) around text, not metadata: the text is the article's.
            parser = MarkdownIt("commonmark")
            parser.validateLink = lambda url: True
            tokens = parser.parse(source)
        elif isinstance(meta.get("title"), str):
            title = " ".join(meta["title"].split()) or None
    return _html_to_text(parser.renderer.render(tokens, parser.options, {})), title


def article_id_for(path: Path) -> str:
    """The id of the article in ``path``: its name without extensions (``a.ar.txt`` -> ``a``)."""
    return path.name.split(".")[0] or path.stem


def load_article(path: Path | str, *, article_id: str | None = None) -> Article:
    """Read one article file. The first non-empty line is its title."""
    path = Path(path)
    if path.suffix.lower() not in SUPPORTED:
        raise ArticleError(f"{path.name}: unsupported file type (use {', '.join(SUPPORTED)})")
    try:
        raw = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ArticleError(f"{path.name}: cannot read as UTF-8 text ({type(exc).__name__})") from exc
    return article_from_text(raw, source=path.name, article_id=article_id or article_id_for(path),
                             kind=path.suffix.lower())


def article_from_text(raw: str, *, source: str, article_id: str, kind: str = ".txt") -> Article:
    """Build an :class:`Article` from text already in memory (SQuAD contexts, uploads)."""
    title = None
    raw = raw.removeprefix("\ufeff")  # a byte-order mark would hide front matter
    if kind in (".html", ".htm"):
        text = _html_to_text(raw)
    elif kind in (".md", ".markdown"):
        text, title = _markdown_to_text(raw)
    else:
        text = raw
    text = text.replace("\r\n", "\n").replace("\ufeff", "").strip()
    if not text:
        raise ArticleError(f"{source}: no text")
    if title and not text.startswith(title):
        # The front matter's title heads the text, as a title line does: the splitter makes it the
        # headline, and it can be searched and quoted.
        text = f"{title}\n\n{text}"
    title = title or text.split("\n", 1)[0].strip()
    return Article(id=article_id, title=title, language=detect_language(text, default="ar"), text=text,
                   source=source, sha256=hashlib.sha256(text.encode()).hexdigest())
