"""The :class:`Assistant`: the one object the web page, the HTTP API, the CLI and the evaluator call.

It only composes the stages: ingest (:mod:`assistant.ingest`), retrieve (:mod:`assistant.retrieve`), answer
and cite (:mod:`assistant.answer`). Each stage is a seam: ``Assistant(embedder=, store=, generator=)``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Generator as Generator_
from collections.abc import Iterable, Iterator
from pathlib import Path

from assistant.answer.answerability import closeness, judge, judge_quotes
from assistant.answer.availability import AVAILABLE, GenerativeStatus, check_generative
from assistant.answer.base import Generated, Generator
from assistant.answer.citations import make_citation, marker_label
from assistant.answer.extractive import compose, compose_gist, select_quotes
from assistant.answer.followup import combined_query
from assistant.answer.prompts import render
from assistant.answer.streaming import chunks
from assistant.colloquial import is_acknowledgement
from assistant.errors import ArticleError, InvalidQuestion, StoreUnavailable
from assistant.ingest.indexer import Indexer
from assistant.ingest.loading import article_id_for, load_article
from assistant.questions import asks_for_gist, asks_for_words, looks_like_followup, points_back, reading
from assistant.retrieve.base import PassageIndex, RetrievalResult, TextEmbedder
from assistant.retrieve.embedding_cache import with_cache
from assistant.retrieve.hybrid import MAX_LEXICAL_WEIGHT, UNIT_WEIGHT, HybridRetriever
from assistant.retrieve.word_vectors import WordSimilarity
from assistant.schemas import Answer, Article, ArticleInfo, IngestReport, Language, Message, Replace
from assistant.settings import AnswerMode, Settings, get_settings
from assistant.textnorm import clean_question, detect_language, plain_text, written_language
from assistant.timing import Timer

log = logging.getLogger(__name__)
#: How long a check of the generative model's availability is reused.
STATUS_SECONDS = 30.0
# bm25s logs every index build at DEBUG through a handler of its own, which the CLI would print.
logging.getLogger("bm25s").setLevel(logging.WARNING)


class Assistant:
    """Answers questions about the indexed articles, with citations.

    >>> Assistant().ask("Who are the guarantor states of the Astana talks?").answer  # doctest: +SKIP

    ``embedder``, ``store`` and ``generator`` replace the configured embedding model, Chroma index and
    language model (anything with the methods of :class:`~assistant.retrieve.base.TextEmbedder`,
    :class:`~assistant.retrieve.base.PassageIndex` and :class:`~assistant.answer.base.Generator`).
    """

    def __init__(self, settings: Settings | None = None, *, embedder: TextEmbedder | None = None,
                 store: PassageIndex | None = None, generator: Generator | None = None,
                 ingest_corpus: bool = True, progress: bool = False) -> None:
        self.settings = settings or get_settings()
        if store is None:
            from assistant.retrieve.store import claim_index

            claim_index(self.settings)
        if embedder is None:
            from assistant.retrieve.embeddings import Embedder

            embedder = Embedder(self.settings, progress=progress)
        self.embedder = embedder
        if store is None:
            from assistant.retrieve.store import ChromaIndex

            store = ChromaIndex(self.settings, self.embedder)
        self.store = store
        #: The LangChain retriever over the index: usable in chains of one's own (docs/architecture.md).
        self.retriever = HybridRetriever(
            store=self.store, embedder=self.embedder, k=self.settings.top_k,
            max_lexical_weight=0.0 if self.settings.ranking == "dense" else MAX_LEXICAL_WEIGHT,
            unit_weight=UNIT_WEIGHT if self.settings.ranking == "sentence" else 0.0)
        cached = with_cache(self.embedder, self.settings.embedding_cache)
        # Single words embedded once: answerability looks for an English word the article translates.
        self.words = WordSimilarity(cached)
        self.indexer = Indexer(self.store, cached,
                               max_passage_tokens=self.settings.max_passage_tokens,
                               progress=progress, on_written=self.retriever.written)
        self._generator = generator
        self._generator_lock = threading.Lock()
        self._status: tuple[float, GenerativeStatus] | None = None
        if ingest_corpus and self.settings.corpus:
            # Idempotent: unchanged articles are recognised by digest and not embedded again.
            self.ingest(self.settings.corpus)

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
        report = self.indexer.run(articles)
        if report.added or report.replaced:
            log.info("ingested %s", report.model_dump())
        return report

    def articles(self) -> list[ArticleInfo]:
        """The indexed articles."""
        return self.store.list_articles()

    def remove_article(self, article_id: str) -> None:
        """Delete an article from the index. One of the configured corpus (``KHABAR_CORPUS``) is indexed again
        at the next start."""
        if not self.store.remove(article_id):
            raise ArticleError(f"no article with id {article_id!r}")
        self.retriever.removed(article_id)

    def main_article(self) -> str | None:
        """The id of the article a question names no other of: the first of the configured corpus
        (``KHABAR_CORPUS``) when it is indexed, else the first indexed article; None for an empty index."""
        indexed = [info.id for info in self.articles()]
        configured = [article_id_for(path) for path in self.settings.corpus]
        return next((a for a in configured if a in indexed), indexed[0] if indexed else None)

    def article(self, article_id: str) -> Article:
        """One indexed article, whole (for reading it with cited spans highlighted)."""
        article = self.store.get_article(article_id)
        if article is None:
            raise ArticleError(f"no article with id {article_id!r}")
        return article

    def ready(self) -> bool:
        """True when the embedding model is loaded and the index holds passages and answers."""
        try:
            return self.store.count() > 0
        except StoreUnavailable:
            return False

    # -- questions ------------------------------------------------------------------------------------
    def validate(self, question: str) -> str:
        """The cleaned question, or :class:`InvalidQuestion` naming what is wrong (the one length rule of
        every interface)."""
        if not isinstance(question, str):
            raise InvalidQuestion("the question must be text")
        if len(question) > self.settings.max_question_chars:
            raise InvalidQuestion(
                f"the question is {len(question)} characters long; the limit is "
                f"{self.settings.max_question_chars}"
            )
        cleaned = clean_question(question)
        if not cleaned or not plain_text(cleaned).strip():  # only tatweel or vowel marks is empty too
            raise InvalidQuestion("the question is empty")
        return cleaned

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
               k: int | None = None, cancel: threading.Event | None = None,
               live: bool = False) -> Iterator[str | Replace | Answer]:
        """Yield text chunks of the answer, then the final :class:`Answer`.

        ``cancel``: set it when nobody waits for the answer any more; generation stops at the next token.
        ``live``: a generative answer streams as the model writes it, before verification; if verification
        then rejects it (or cleans it up), a :class:`Replace` with the answer's final text follows. Without
        it the model's text is held back until verified, so the chunks always add up to the answer.
        """
        timer = Timer()
        question = self.validate(question)
        history = [m if isinstance(m, Message) else Message.model_validate(m) for m in (history or [])]
        turns = self.settings.max_history_turns
        history = history[-2 * turns:] if turns > 0 else []
        chosen_language, language = language, language or detect_language(question)
        mode = mode or self.settings.mode
        k = k or self.settings.top_k

        if is_acknowledgement(question):
            # "thanks!", «شكرا», 👍: nothing to look up (joined to the previous question, it was answered with
            # that question's passage). Emoji alone are answered in the language of the conversation.
            if chosen_language is None and not written_language(question):
                language = next((detect_language(m.content) for m in reversed(history) if m.role == "user"),
                                language)
            answer = Answer(question=question, language=language, mode="not_found",
                            answer=render("acknowledged", language), timings=timer.total(),
                            note="an acknowledgement or greeting, not a question about the article")
            yield from chunks(answer.answer)
            yield answer
            return

        # Retrieval and the answerability checks read the question in plain letters with its names
        # capitalised (the checks leave a likely typo in lower case); the answer repeats it as asked.
        result = self._retrieve(reading(question), history, language, mode, k, timer)

        shown: list[str] = []
        answer = yield from self._answer(question, history, language, mode, result, timer, cancel,
                                         shown if live else None, read=reading(question, typos=True))
        if not shown:
            yield from chunks(answer.answer)
        elif "".join(shown).strip() != answer.answer.strip():
            yield Replace(text=answer.answer, reason=answer.fallback_reason)
        yield answer

    def _retrieve(self, question: str, history: list[Message], language: Language, mode: AnswerMode, k: int,
                  timer: Timer) -> RetrievalResult:
        """Retrieve for the question alone, unless it is a follow-up: its pronouns point back at the
        conversation, or alone it finds nothing close while the conversation's context does (an opening
        "and" or «و» alone does not make a follow-up of a question that finds its answer by itself)."""
        def search(query: str) -> RetrievalResult:
            with timer.stage("embed"):
                vector = self.embedder.encode_query(query)
            with timer.stage("retrieve"):
                return self.retriever.retrieve(query, k=k, vector=vector, asked=question)

        alone = None
        if not history or not points_back(question):
            alone = search(question)
            # Judged as the answer will be («من هو الوسيط الأممي؟» is in the article's words, a little under
            # the threshold): a question answerable alone is not joined to the conversation.
            if not history or judge(alone, self.settings.not_found_threshold, question).answerable:
                return alone  # a self-contained question is answered exactly as if asked alone
        if mode == "generative":
            with timer.stage("condense"):
                query = self.generator().condense(question, history, language)
        else:
            query = combined_query(question, history)
        combined = search(query)
        # A question that alone finds nothing close is taken as a follow-up only if the context helps.
        if alone is not None and combined.best_dense <= alone.best_dense:
            return alone
        return combined

    def _answer(self, question: str, history: list[Message], language: Language, mode: AnswerMode,
                result: RetrievalResult, timer: Timer, cancel: threading.Event | None,
                shown: list[str] | None, read: str | None = None) -> Generator_[str, None, Answer]:
        """The answer (the generator's return value); the model's text is yielded as it is written only if
        ``shown`` is given (it collects what was yielded). ``read``: the question as the checks read it
        (:func:`assistant.questions.reading`), by default as asked."""
        read = read or question
        base = dict(question=question, language=language, retrieved=result.passages,
                    search_query=result.query)
        if asks_for_gist(read) and not (history and looks_like_followup(question)):
            return self._gist(self._gist_article(question, history, result), result, language, base, timer)
        verdict = judge(result, self.settings.not_found_threshold, read, self.words)
        if not verdict.answerable:
            return self._not_found(result, language, base, timer, note=verdict.note)
        with timer.stage("extract"):
            quotes = select_quotes(result, stories=verdict.stories)
        if not quotes:  # nothing quotable retrieved (an empty index, or a threshold of 0)
            return self._not_found(result, language, base, timer, note="no passage to quote")
        if mode != "generative":  # a model reads the whole passages, not only the quoted sentences
            verdict = judge_quotes(read, [q.sentence.text for q in quotes])
            if not verdict.answerable:
                return self._not_found(result, language, base, timer, note=verdict.note)
        text, citations = compose(quotes, language, lead=asks_for_words(read))
        if mode != "generative":
            return Answer(**base, answer=text, mode="extractive", citations=citations, timings=timer.total())

        outcome = None
        # Unless the caller streams live, the model's text is kept back until verified, so that what a
        # client shows is what the answer says.
        for item in self.generator().stream(question, language, history, result.passages, cancel,
                                            closeness=closeness(result)):
            if not isinstance(item, str):
                outcome = item
            elif shown is not None and item:
                shown.append(item)
                yield item
        assert outcome is not None  # a generator always ends with its outcome
        for name, ms in outcome.timings.items():
            timer.add(name, ms)
        if isinstance(outcome, Generated):
            return Answer(**base, answer=outcome.text, mode="generative", citations=outcome.citations,
                          note=outcome.note, timings=timer.total())
        return Answer(**base, answer=text, mode="fallback", citations=citations,
                      note=f"{outcome.detail}; this is the extractive answer",
                      fallback_reason=outcome.reason, timings=timer.total())

    def _gist_article(self, question: str, history: list[Message], result: RetrievalResult) -> str | None:
        """Which article "What is the article about?" asks about: the one the conversation's last question
        found (when it found one close enough to answer from), the only one indexed, or the main one. The
        question alone finds no article: no passage is close to "summarise"."""
        articles = {s.passage.article_id for s in result.passages}
        if len(articles) <= 1 and len(self.articles()) <= 1:
            return next(iter(articles), None)
        # The last question asked of the article: not thanks, and not an earlier "what is it about?".
        asked = next((m.content for m in reversed(history) if m.role == "user"
                      and not is_acknowledgement(m.content) and not asks_for_gist(reading(m.content))), None)
        if asked:
            found = self.retriever.retrieve(asked, vector=self.embedder.encode_query(asked))
            verdict = judge(found, self.settings.not_found_threshold, reading(asked))
            if verdict.answerable:
                return next((s.passage.article_id for s in found.passages
                             if not verdict.stories or found.story(s.passage.article_id) in verdict.stories),
                            self.main_article())
        return self.main_article()

    def _gist(self, article: str | None, result: RetrievalResult, language: Language, base: dict,
              timer: Timer) -> Answer:
        """What ``article`` is about, in its headline and summary lines, in either mode (a model's summary of
        the whole article would be longer than its context and unverifiable)."""
        passages = self.retriever.passages_of(article) if article else []
        if not passages:
            return self._not_found(result, language, base, timer, note="no passage to quote")
        text, citations = compose_gist(passages, language)
        return Answer(**base, answer=text, mode="extractive", citations=citations, timings=timer.total())

    def _not_found(self, result: RetrievalResult, language: Language, base: dict, timer: Timer,
                   note: str | None) -> Answer:
        # The closest passages are offered as related reading, never as support.
        citations = [make_citation(n, s, kind="related") for n, s in enumerate(result.passages[:2], 1)]
        text = render("not_found", language, citations=marker_label([c.n for c in citations]))
        return Answer(**base, answer=text, mode="not_found", citations=citations, note=note,
                      timings=timer.total())

    def generative_status(self) -> GenerativeStatus:
        """Whether generative answers can be offered now (checked at most every ``STATUS_SECONDS``)."""
        generator = self._generator
        if generator is not None:
            error = getattr(generator, "start_error", None)
            # A generator passed in (the seam) is available; the built-in one is, unless it failed to start.
            return GenerativeStatus(False, "failed", error) if error else AVAILABLE
        now = time.monotonic()
        cached = self._status
        if cached is None or now - cached[0] > STATUS_SECONDS:
            cached = self._status = (now, check_generative(self.settings))
        return cached[1]

    def generator(self) -> Generator:
        """The generative answerer, created on first use (it may start a local model server)."""
        with self._generator_lock:
            if self._generator is None:
                from assistant.answer.generative import GenerativeAnswerer

                # The embedder lets verification check English sentences against Arabic passages.
                self._generator = GenerativeAnswerer(self.settings, embedder=self.embedder, words=self.words)
            return self._generator

    def close(self) -> None:
        """Stop anything this assistant started (the local model server)."""
        if self._generator is not None:
            self._generator.close()
