"""The :class:`Assistant`: the one object the web page, the HTTP API, the CLI and the evaluator call."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from assistant.answer.citations import make_citation, marker_label
from assistant.answer.extractive import compose, select_quotes
from assistant.answer.prompts import render
from assistant.errors import ArticleError, InvalidQuestion
from assistant.ingest.loading import load_article
from assistant.retrieve.embeddings import Embedder
from assistant.retrieve.hybrid import MAX_LEXICAL_WEIGHT, HybridRetriever
from assistant.retrieve.store import PassageStore
from assistant.schemas import (
    Answer,
    AnswerKind,
    Article,
    ArticleInfo,
    IngestReport,
    Language,
    Message,
    ScoredPassage,
)
from assistant.settings import AnswerMode, Settings, get_settings
from assistant.textnorm import clean_question, detect_language

log = logging.getLogger(__name__)
# bm25s logs every index build at DEBUG through a handler of its own, which the CLI would print.
logging.getLogger("bm25s").setLevel(logging.WARNING)

#: Characters per chunk when an extractive answer is streamed (it is computed whole, then sent in pieces
#: so that every interface handles one kind of stream).
STREAM_CHUNK_WORDS = 3


class Timer:
    """Collects milliseconds per named stage."""

    def __init__(self) -> None:
        self.timings: dict[str, float] = {}
        self._start = time.perf_counter()

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time the block under ``name`` (accumulating if the name repeats)."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self.timings[name] = round(self.timings.get(name, 0.0) + (time.perf_counter() - start) * 1000, 2)

    def total(self) -> dict[str, float]:
        """The stage timings plus ``total`` since the timer started."""
        return {**self.timings, "total": round((time.perf_counter() - self._start) * 1000, 2)}


class Assistant:
    """Answers questions about the indexed articles, with citations.

    >>> Assistant().ask("Who are the guarantor states of the Astana talks?").answer  # doctest: +SKIP
    """

    def __init__(self, settings: Settings | None = None, *, embedder: Embedder | None = None,
                 store: PassageStore | None = None, ingest_corpus: bool = True,
                 progress: bool = False) -> None:
        self.settings = settings or get_settings()
        self.embedder = embedder or Embedder(self.settings, progress=progress)
        self.store = store or PassageStore(self.settings, self.embedder)
        self.retriever = HybridRetriever(store=self.store, embedder=self.embedder, k=self.settings.top_k,
                                         max_lexical_weight=0.0 if self.settings.ranking == "dense"
                                         else MAX_LEXICAL_WEIGHT)
        self._generator = None
        self._generator_lock = threading.Lock()
        if ingest_corpus and self.settings.corpus:
            # Idempotent: unchanged articles are recognised by digest and not embedded again.
            self.ingest(self.settings.corpus)
        else:
            self.retriever.refresh()

    # -- corpus ---------------------------------------------------------------------------------------
    def ingest(self, paths: Iterable[Path | str]) -> IngestReport:
        """Index article files; re-ingesting an unchanged file adds nothing."""
        articles = [load_article(p) for p in paths]
        seen: dict[str, str] = {}
        for article in articles:
            if article.id in seen:
                raise ArticleError(f"{seen[article.id]} and {article.source} would both be article "
                                   f"{article.id!r}; rename one of them")
            seen[article.id] = article.source
        return self.ingest_articles(articles)

    def ingest_articles(self, articles: list[Article]) -> IngestReport:
        """Index articles already loaded (e.g. SQuAD contexts)."""
        report = self.store.ingest(articles)
        if report.added or report.replaced:
            log.info("ingested %s", report.model_dump())
        self.retriever.refresh()
        return report

    def articles(self) -> list[ArticleInfo]:
        """The indexed articles."""
        return self.store.list_articles()

    def article(self, article_id: str) -> Article:
        """One indexed article, whole (for reading it with cited spans highlighted)."""
        article = self.store.get_article(article_id)
        if article is None:
            raise ArticleError(f"no article with id {article_id!r}")
        return article

    def ready(self) -> bool:
        """True when the embedding model is loaded and the index holds passages."""
        return self.store.count() > 0

    # -- questions ------------------------------------------------------------------------------------
    def validate(self, question: str) -> str:
        """The cleaned question, or :class:`InvalidQuestion` naming what is wrong."""
        if not isinstance(question, str):
            raise InvalidQuestion("the question must be text")
        if len(question) > self.settings.max_question_chars:
            raise InvalidQuestion(
                f"the question is {len(question)} characters long; the limit is "
                f"{self.settings.max_question_chars}"
            )
        cleaned = clean_question(question)
        if not cleaned:
            raise InvalidQuestion("the question is empty")
        return cleaned

    def retrieve(self, query: str, k: int | None = None) -> list[ScoredPassage]:
        """Ranked passages for ``query`` (hybrid dense + BM25)."""
        ranked, _ = self.retriever.search(query, k=k)
        return ranked

    def ask(self, question: str, history: list[Message] | None = None, *, mode: AnswerMode | None = None,
            language: Language | None = None, k: int | None = None) -> Answer:
        """Answer ``question``; ``history`` holds the earlier turns of the conversation."""
        final = None
        for item in self.stream(question, history, mode=mode, language=language, k=k):
            if isinstance(item, Answer):
                final = item
        assert final is not None  # stream() always ends with an Answer
        return final

    def stream(self, question: str, history: list[Message] | None = None, *,
               mode: AnswerMode | None = None, language: Language | None = None,
               k: int | None = None, cancel: threading.Event | None = None) -> Iterator[str | Answer]:
        """Yield text chunks of the answer, then the final :class:`Answer`.

        ``cancel``: set it when nobody waits for the answer any more; generation stops at the next token.
        """
        timer = Timer()
        question = self.validate(question)
        history = [m if isinstance(m, Message) else Message.model_validate(m) for m in (history or [])]
        turns = self.settings.max_history_turns
        history = history[-2 * turns:] if turns > 0 else []
        language = language or detect_language(question)
        mode = mode or self.settings.mode
        k = k or self.settings.top_k

        search_query = question
        if mode == "generative" and history:
            with timer.stage("condense"):
                search_query = self.generator().condense(question, history, language)
        elif history:
            # Without a model to rewrite the follow-up, the previous question supplies what "there" or
            # "it" refer to; the current question comes last so that it dominates neither list alone.
            previous = next((m.content for m in reversed(history) if m.role == "user"), "")
            search_query = f"{previous} {question}".strip()

        with timer.stage("embed"):
            vector = self.embedder.encode_query(search_query)
        with timer.stage("retrieve"):
            ranked, _ = self.retriever.search(search_query, k=k, vector=vector)

        base = dict(question=question, language=language, retrieved=ranked, search_query=search_query)
        best_dense = max((s.dense_score or 0.0 for s in ranked), default=0.0)
        if best_dense < self.settings.not_found_threshold:
            answer = self._not_found(ranked, language, base, timer,
                                     note=f"best similarity {best_dense:.3f} is below the threshold")
            yield from _chunks(answer.answer)
            yield answer
            return

        with timer.stage("extract"):
            quotes = select_quotes(self.store, ranked, vector, search_query)
        if not quotes:  # nothing quotable retrieved (an empty index, or a threshold of 0)
            answer = self._not_found(ranked, language, base, timer, note="no passage to quote")
            yield from _chunks(answer.answer)
            yield answer
            return
        text, citations = compose(quotes, language)

        if mode == "generative":
            generated = None
            for item in self.generator().stream(question=question, language=language, history=history,
                                                ranked=ranked, fallback_text=text,
                                                fallback_citations=citations, timer=timer,
                                                cancel=cancel):
                if isinstance(item, str):
                    yield item
                else:
                    generated = item
            assert generated is not None
            yield Answer(**base, answer=generated.text, mode=generated.mode, citations=generated.citations,
                         note=generated.note, timings=timer.total())
            return

        yield from _chunks(text)
        yield Answer(**base, answer=text, mode="extractive", citations=citations, timings=timer.total())

    def _not_found(self, ranked: list[ScoredPassage], language: Language, base: dict, timer: Timer,
                   note: str) -> Answer:
        closest = ranked[:2]
        citations = [make_citation(n, s) for n, s in enumerate(closest, 1)]
        text = render("not_found", language, citations=marker_label([c.n for c in citations]))
        kind: AnswerKind = "not_found"
        return Answer(**base, answer=text, mode=kind, citations=citations, note=note, timings=timer.total())

    def generator(self):
        """The generative answerer, created on first use (it may start a local model server)."""
        with self._generator_lock:
            if self._generator is None:
                from assistant.answer.generative import GenerativeAnswerer

                # The embedder lets verification check English sentences against Arabic passages.
                self._generator = GenerativeAnswerer(self.settings, embedder=self.embedder)
            return self._generator

    def close(self) -> None:
        """Stop anything this assistant started (the local model server)."""
        if self._generator is not None:
            self._generator.close()


def _chunks(text: str) -> Iterator[str]:
    words = text.split(" ")
    for i in range(0, len(words), STREAM_CHUNK_WORDS):
        piece = " ".join(words[i:i + STREAM_CHUNK_WORDS])
        yield piece if i + STREAM_CHUNK_WORDS >= len(words) else piece + " "
