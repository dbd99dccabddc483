"""Stages 2 and 3 together: split articles, embed their passages and quotable units, write them to the index.

The indexer owns "split, embed, write" so that the index only stores and the splitter only splits. Texts are
embedded in batches that cross article boundaries (sentence-transformers sorts each call's texts by length,
so one call over many short articles pads far less than one call per article), and each article is written
as soon as its vectors exist: an interrupted ingest keeps every article written so far, and the next run
finds them unchanged and resumes with the rest.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from tqdm import tqdm

from assistant.ingest.splitting import split_article, split_units
from assistant.retrieve.base import IndexedArticle, PassageIndex, TextEmbedder
from assistant.schemas import Article, IngestReport, Passage, Sentence

log = logging.getLogger(__name__)

#: Texts embedded per call: large enough to sort away padding, small enough to commit articles often.
BATCH_TEXTS = 256


@dataclass(frozen=True)
class _Planned:
    article: Article
    passages: list[Passage]
    units: list[Sentence]

    @property
    def texts(self) -> list[str]:
        return [p.text for p in self.passages] + [u.text for u in self.units]


class Indexer:
    """Adds articles to a :class:`PassageIndex`; an unchanged article (same sha256) is not embedded again."""

    def __init__(self, index: PassageIndex, embedder: TextEmbedder, *, max_passage_tokens: int,
                 progress: bool = False, on_written: Callable[[IndexedArticle], None] | None = None) -> None:
        self.index = index
        self.embedder = embedder
        self.max_passage_tokens = max_passage_tokens
        self.progress = progress
        #: Called after each article is committed (the retriever updates its lexical index from it).
        self.on_written = on_written

    def plan(self, article: Article) -> tuple[list[Passage], list[Sentence]]:
        """The passages and quotable units of one article."""
        passages = split_article(article, max_tokens=self.max_passage_tokens,
                                 count_tokens=self.embedder.count_tokens)
        return passages, [u for p in passages for u in split_units(article, p)]

    def run(self, articles: Sequence[Article]) -> IngestReport:
        """Index ``articles``; the report says which were added, replaced or unchanged."""
        report = IngestReport()
        todo: list[_Planned] = []
        for article in articles:
            digest = self.index.article_digest(article.id)
            if digest == article.sha256:
                report.unchanged.append(article.id)
                continue
            (report.added if digest is None else report.replaced).append(article.id)
            todo.append(_Planned(article, *self.plan(article)))
        total = sum(len(p.texts) for p in todo)
        with _progress(total, self.progress) as bar:
            for batch in _batches(todo, BATCH_TEXTS):
                vectors = self.embedder.encode_documents([t for planned in batch for t in planned.texts])
                offset = 0
                for planned in batch:
                    n_p, n_u = len(planned.passages), len(planned.units)
                    item = IndexedArticle(
                        article=planned.article, passages=planned.passages,
                        passage_vectors=vectors[offset:offset + n_p], units=planned.units,
                        unit_vectors=vectors[offset + n_p:offset + n_p + n_u])
                    offset += n_p + n_u
                    log.info("writing %s: %d passages, %d units", planned.article.id, n_p, n_u)
                    self.index.write(item)
                    if self.on_written is not None:
                        self.on_written(item)
                    report.passages += n_p
                    bar.update(n_p + n_u)
        return report


def _batches(planned: list[_Planned], size: int) -> Iterator[list[_Planned]]:
    """Consecutive groups of whole articles holding about ``size`` texts each."""
    batch: list[_Planned] = []
    count = 0
    for item in planned:
        batch.append(item)
        count += len(item.texts)
        if count >= size:
            yield batch
            batch, count = [], 0
    if batch:
        yield batch


class _LineProgress:
    """Progress for a log file or a pipe: a line every tenth of the way instead of a redrawn bar."""

    def __init__(self, total: int) -> None:
        self.total, self.done, self._next = total, 0, 0.1

    def update(self, n: int) -> None:
        self.done += n
        if self.total and self.done / self.total >= self._next:
            log.info("embedded %d of %d texts", self.done, self.total)
            while self._next <= self.done / self.total:
                self._next += 0.1

    def __enter__(self) -> _LineProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def _progress(total: int, enabled: bool):
    """A tqdm bar (items/s, ETA) on a terminal; quiet log lines otherwise."""
    if enabled and total and sys.stderr.isatty():
        return tqdm(total=total, unit="text", desc="embedding", leave=False)
    return _LineProgress(total)
