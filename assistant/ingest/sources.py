"""Stage 1 for folders and bulk files: what ``khabar ingest`` is given, turned into :class:`Article` objects.

A path may be a file or a folder (walked recursively, in sorted order; hidden files and folders are left
out). Each file becomes articles by its extension:

* ``.txt``, ``.md``/``.markdown``, ``.html``/``.htm``: one article, read by :mod:`assistant.ingest.loading`
  (its id is the file name without extensions).
* ``.jsonl``: one article a line, a JSON object with ``text`` (or ``content``/``body``), and optionally ``id``
  (default ``<file>-<line>``), ``title`` (put first, as the article's title line, unless the text already
  starts with it) and ``source`` or ``url`` (default ``<file>:<line>``). A bad line is skipped with a note;
  the other lines load.
* ``.json``: a SQuAD v1.1/v2.0 file (ARCD, XQuAD, MLQA): each paragraph's ``context`` is one article, as
  ``khabar eval`` indexes it, id ``<file>-<i>-<j>`` (entry ``i`` of ``data``, paragraph ``j``), title the
  entry's ``title``. Contexts are kept apart rather than joined per entry: a SQuAD question's evidence is its
  own paragraph, and joined entries would make articles hundreds of passages long.

Anything else is skipped with a note, as is a file that cannot be read or holds no text, and an article whose
id another file already gave (the first one wins).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, Field

from assistant.errors import ArticleError
from assistant.ingest.loading import SUPPORTED, article_from_text, article_id_for, load_article
from assistant.schemas import Article

JSONL = (".jsonl",)
SQUAD = (".json",)
ALL_SUPPORTED = SUPPORTED + JSONL + SQUAD
_TEXT_FIELDS = ("text", "content", "body")


class Skipped(BaseModel):
    """A file (or a line or paragraph of one) that was not ingested, and why."""

    source: str = Field(description="The file, with `:line` for a JSONL line or `#data[i].paragraphs[j]`.")
    reason: str


@dataclass
class Collected:
    """The articles found under the given paths and what was skipped."""

    articles: list[Article] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


def collect(paths: Iterable[Path | str]) -> Collected:
    """Load every article in ``paths`` (files or folders); see the module docstring for the formats."""
    out = Collected()
    seen: dict[str, str] = {}
    for path in _files(Path(p) for p in paths):
        for item in _load(path):
            if isinstance(item, Skipped):
                out.skipped.append(item)
                continue
            where = _where(item, path)
            if item.id in seen:
                out.skipped.append(Skipped(source=where, reason=f"article id {item.id!r} is already "
                                                                f"given by {seen[item.id]}"))
            else:
                seen[item.id] = where
                out.articles.append(item)
    return out


def _where(article: Article, path: Path) -> str:
    """Where ``article`` was read, written as every skip note writes it: the file's path as given (with the
    line of a JSONL file), or the URL a JSONL line names as its source."""
    if article.source == path.name:
        return str(path)
    if article.source.startswith((f"{path.name}:", f"{path.name}#")):  # a JSONL line, a SQuAD paragraph
        return f"{path.parent / article.source}" if str(path.parent) != "." else article.source
    return article.source


def _files(paths: Iterable[Path]) -> Iterator[Path]:
    """Each file under ``paths`` once (a file given both alone and inside a folder is read once)."""
    done: set[Path] = set()
    for path in paths:
        found = []
        if path.is_dir():
            for root, dirs, names in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                found += [Path(root) / n for n in sorted(names) if not n.startswith(".")]
        else:
            found.append(path)
        for file in found:
            # The same path reached twice; a symbolic link is a file of its own (its own id), as before.
            key = Path(os.path.abspath(file))
            if key not in done:
                done.add(key)
                yield file


def _load(path: Path) -> Iterator[Article | Skipped]:
    suffix = path.suffix.lower()
    try:
        if suffix in SUPPORTED:
            yield load_article(path)
        elif suffix in JSONL:
            yield from _jsonl(path)
        elif suffix in SQUAD:
            yield from _squad(path)
        else:
            yield Skipped(source=str(path), reason=f"unsupported file type (use {', '.join(ALL_SUPPORTED)})")
    except ArticleError as exc:
        yield Skipped(source=str(path), reason=_reason(exc, path))


def _reason(exc: ArticleError, path: Path) -> str:
    # The loaders' messages start with the file name, which the report already shows.
    return str(exc).removeprefix(f"{path.name}: ")


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ArticleError(f"{path.name}: cannot read as UTF-8 text ({type(exc).__name__})") from exc


def _jsonl(path: Path) -> Iterator[Article | Skipped]:
    stem = article_id_for(path)
    for number, line in enumerate(_read(path).splitlines(), 1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            yield Skipped(source=where, reason=f"not valid JSON ({exc.msg} at column {exc.colno})")
            continue
        if not isinstance(record, dict):
            yield Skipped(source=where, reason=f"expected a JSON object, got {type(record).__name__}")
            continue
        text = next((record[k] for k in _TEXT_FIELDS if isinstance(record.get(k), str)), None)
        if text is None or not text.strip():  # a title alone is no article
            yield Skipped(source=where, reason=f"no text (one of {', '.join(_TEXT_FIELDS)})")
            continue
        title = record.get("title")
        if isinstance(title, str) and title.strip() and not text.lstrip().startswith(title.strip()):
            text = f"{title.strip()}\n\n{text}"
        article_id = _clean_id(record.get("id")) or f"{stem}-{number}"
        source = record.get("source") or record.get("url") or f"{path.name}:{number}"
        try:
            yield article_from_text(text, source=str(source), article_id=article_id)
        except ArticleError as exc:
            yield Skipped(source=where, reason=str(exc).removeprefix(f"{source}: "))


def _squad(path: Path) -> Iterator[Article | Skipped]:
    try:
        document = json.loads(_read(path))
    except json.JSONDecodeError as exc:
        raise ArticleError(f"{path.name}: not valid JSON ({exc.msg} at line {exc.lineno})") from exc
    if not isinstance(document, dict) or not isinstance(document.get("data"), list):
        raise ArticleError(f"{path.name}: not a SQuAD file (expected an object with a `data` list)")
    stem = article_id_for(path)
    for i, entry in enumerate(document["data"]):
        paragraphs = entry.get("paragraphs") if isinstance(entry, dict) else None
        if not isinstance(paragraphs, list):
            yield Skipped(source=f"{path}#data[{i}]", reason="no `paragraphs` list")
            continue
        title = entry.get("title")
        for j, paragraph in enumerate(paragraphs):
            where = f"{path}#data[{i}].paragraphs[{j}]"
            context = paragraph.get("context") if isinstance(paragraph, dict) else None
            if not isinstance(context, str) or not context.strip():
                yield Skipped(source=where, reason="no `context` text")
                continue
            article = article_from_text(context, source=f"{path.name}#data[{i}].paragraphs[{j}]",
                                        article_id=f"{stem}-{i}-{j}")
            if isinstance(title, str) and title.strip():
                article = article.model_copy(update={"title": title.strip().replace("_", " ")})
            yield article


def _clean_id(value: object) -> str | None:
    # Ids end up in record ids (`<id>@<sha8>#p3`) and URLs: `@`, `#`, `/` and spaces would be ambiguous there.
    if value is None or isinstance(value, bool) or not isinstance(value, str | int):
        return None
    cleaned = re.sub(r"[\s@#/?]+", "-", str(value).strip()).strip("-")
    return cleaned or None
