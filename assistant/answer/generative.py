"""Stage 5b, answer by generating: a language model writes the answer from numbered passages, and the answer
is verified before it is handed back.

The model is reached through LangChain's ``ChatOpenAI``, so the local GGUF (served in-process by
:mod:`assistant.models.llm_server`) and any remote OpenAI-compatible server share one code path. The chain is
plain LCEL over the retriever's LangChain ``Document``s:
``{documents, question, history} | prompt | chat model | StrOutputParser``.

The checks a generated answer must pass (cited passages, numbers, names, support) are in
:mod:`assistant.answer.verification`; this module gives them the passages and, for the cross-language support
check, the embedding model's similarities. The answerer returns :class:`Generated` or :class:`Rejected`; what
the user gets instead of a rejected answer is the facade's decision.

Over 300 lines on purpose: the model's life cycle (lazy start, local server, close), condensing, the
chain and the verified result belong to one object that owns one chat model; split, they would share its
lock and state through each other's internals.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING

import httpx
import numpy as np
import openai
from langchain_core.documents import Document
from langchain_core.language_models import BaseChatModel
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import Runnable, RunnablePassthrough

from assistant.answer.answerability import confident, threshold_for
from assistant.answer.base import Generated, Rejected
from assistant.answer.citations import make_citation, marker_label
from assistant.answer.directives import neutralise
from assistant.answer.followup import combined_query
from assistant.answer.prompts import render, template
from assistant.answer.verification import strip_chat_artefacts, verify
from assistant.errors import LLMUnavailable, ModelUnavailable
from assistant.ingest.splitting import sentence_spans
from assistant.models.files import resolve_llm_file
from assistant.models.llm_server import LocalLLMServer
from assistant.retrieve.hybrid import to_document
from assistant.retrieve.word_vectors import WordSimilarity
from assistant.schemas import Language, Message, ScoredPassage, Span
from assistant.settings import Settings
from assistant.textnorm import tokenize
from assistant.timing import Timer

if TYPE_CHECKING:
    from assistant.retrieve.embeddings import Embedder

log = logging.getLogger(__name__)

#: Passages put into the prompt: prompt length is what costs most on a small CPU.
MAX_PROMPT_PASSAGES = 5
#: Tokens for a rewritten follow-up question.
CONDENSE_MAX_TOKENS = 64
#: Turns of history shown to the model when condensing, and characters kept of each.
CONDENSE_TURNS = 4
CONDENSE_TURN_CHARS = 300
#: Passage vectors kept for the cross-language support check.
PASSAGE_VECTOR_CACHE = 1024
#: Errors that mean "the language model cannot answer now": the user gets the extractive answer.
LLM_ERRORS: tuple[type[BaseException], ...] = (
    openai.OpenAIError, httpx.HTTPError, OSError, LLMUnavailable, ModelUnavailable,
)

# ---------------------------------------------------------------------------------------------------
# The answerer
# ---------------------------------------------------------------------------------------------------

class Cancelled(Exception):
    """The caller no longer wants the answer (e.g. the HTTP client disconnected)."""


class GenerativeAnswerer:
    """Answers with a language model over numbered passages, verified (an ``answer.base.Generator``).

    ``llm`` replaces the configured model (tests use a fake chat model). ``embedder`` enables the
    cross-language support check (an English sentence against an Arabic passage); without it, such
    sentences are checked for numbers and names only. ``words``: the word vectors to share (the
    facade's), else a cache of its own.
    """

    def __init__(self, settings: Settings, *, llm: BaseChatModel | None = None,
                 embedder: Embedder | None = None, words: WordSimilarity | None = None) -> None:
        self.settings = settings
        self.embedder = embedder
        self._llm = llm
        self._server: LocalLLMServer | None = None
        self._start_error: str | None = None
        self._lock = threading.Lock()
        self._passage_vectors: dict[str, np.ndarray] = {}
        # Single-word vectors for the word-level checks (a cause's words, a verb's anchor).
        self._words = words or (WordSimilarity(embedder) if embedder is not None else None)

    @property
    def start_error(self) -> str | None:
        """Why the local model could not be started (it is not tried again), or None."""
        return self._start_error

    # -- the model ------------------------------------------------------------------------------------
    def _model(self) -> BaseChatModel:
        """The chat model, created on first use; the local server is started here, not at construction."""
        with self._lock:
            if self._llm is not None:
                return self._llm
            if self._start_error:
                # A local model that failed to start fails the same way again: do not reload per question.
                raise LLMUnavailable(self._start_error)
            base_url = self.settings.llm_base_url
            if not base_url:
                base_url = self._start_local()
            from langchain_openai import ChatOpenAI

            self._llm = ChatOpenAI(
                model=self.settings.llm_model, base_url=base_url, api_key=self.settings.llm_api_key,
                timeout=self.settings.llm_timeout, max_tokens=self.settings.llm_max_tokens,
                temperature=0, streaming=True,
                # A refused connection or a timeout means fall back now; retries only delay the answer.
                max_retries=0,
            )
            return self._llm

    def _start_local(self) -> str:
        try:
            # Local copies only: a 1.1 GB download must not happen inside a user's request (and under
            # this answerer's lock); `khabar fetch-models --llm` fetches it ahead of time.
            path = resolve_llm_file(self.settings.model_copy(update={"model_source": "local"}),
                                    progress=False)
        except ModelUnavailable as exc:
            self._start_error = ("the local language model file is not available "
                                 "(run `khabar fetch-models --llm`)")
            raise LLMUnavailable(self._start_error) from exc
        server = LocalLLMServer.from_settings(self.settings, path)
        try:
            base_url = server.start()
        except LLMUnavailable as exc:
            self._start_error = str(exc)
            raise
        self._server = server
        return base_url

    def close(self) -> None:
        """Stop the local model server if this answerer started one."""
        with self._lock:
            server, self._server = self._server, None
            if server is not None:
                self._llm = None
        if server is not None:
            server.close()

    # -- follow-up questions ------------------------------------------------------------------------
    def condense(self, question: str, history: list[Message], language: Language) -> str:
        """``question`` rewritten to stand alone (for retrieval), or the previous question + ``question``
        when the model cannot be used."""
        fallback = combined_query(question, history)
        if not history:
            return question
        turns = "\n".join(
            f"{'User' if m.role == 'user' else 'Assistant'}: {_shorten(m.content, CONDENSE_TURN_CHARS)}"
            for m in history[-CONDENSE_TURNS:]
        )
        prompt = ChatPromptTemplate.from_messages([("human", template("condense", language))])
        try:
            chain = prompt | self._model().bind(max_tokens=CONDENSE_MAX_TOKENS) | StrOutputParser()
            rewritten = chain.invoke({"history": turns, "question": question})
        except LLM_ERRORS as exc:
            log.warning("condense failed, combining with the previous question: %s", exc)
            return fallback
        rewritten = _clean_condensed(rewritten)
        # A rewrite that is empty or rambles is worse than the plain combination.
        if not rewritten or len(rewritten) > 2 * len(fallback) + 40:
            return fallback
        return rewritten

    # -- answers ------------------------------------------------------------------------------------
    def prompt(self, language: Language) -> ChatPromptTemplate:
        """The generation prompt of ``language`` (system rules, then passages and question)."""
        return ChatPromptTemplate.from_messages([
            ("system", template("generate_system", language)),
            ("human", template("generate_user", language)),
        ])

    def chain(self, language: Language) -> Runnable:
        """The generation chain: takes ``{"documents", "question", "history"}`` (documents as the retriever
        returns them, numbered in order) and returns the model's raw text."""
        return (RunnablePassthrough.assign(passages=lambda x: number_documents(x["documents"]),
                                           history=lambda x: self._history_block(x["history"], language))
                | self.prompt(language) | self._model() | StrOutputParser())

    def _history_block(self, history: list[Message], language: Language) -> str:
        earlier = [m.content for m in history if m.role == "user"][-2:]
        return (render("generate_history", language, questions=" | ".join(earlier)) + "\n\n"
                if earlier else "")

    def generate(self, question: str, language: Language, history: list[Message],
                 passages: list[ScoredPassage], cancel: threading.Event | None = None) -> Iterator[str]:
        """The model's raw answer as it is written (raises one of :data:`LLM_ERRORS` when the model cannot
        answer, and :class:`Cancelled` as soon as ``cancel`` is set)."""
        chain = self.chain(language)
        values = {"documents": [to_document(p) for p in passages], "question": question, "history": history}
        # Streamed from the server so that a per-read timeout applies, not one for the whole answer, and
        # so that a cancelled request stops the model within a token: leaving the loop closes the stream.
        for piece in chain.stream(values):
            if cancel is not None and cancel.is_set():
                raise Cancelled
            yield piece

    def stream(self, question: str, language: Language, history: list[Message],
               passages: list[ScoredPassage], cancel: threading.Event | None = None, *,
               closeness: float | None = None) -> Iterator[str | Generated | Rejected]:
        """Yield the model's text as it comes, then one :class:`Generated` or :class:`Rejected`.

        Setting ``cancel`` (the client left) stops the model. ``closeness`` is how close the article comes to
        the question (:func:`~assistant.answer.answerability.closeness`, the scale of the not-found
        threshold); without it, the best passage's similarity. At or above the threshold the model may not
        decline.
        """
        passages = passages[:MAX_PROMPT_PASSAGES]
        timer = Timer()
        if not passages:
            yield Rejected("no_passages", "no passages were retrieved")
            return
        pieces: list[str] = []
        try:
            # Separate from "generate": the first question may wait for the local model to load.
            with timer.stage("load_model"):
                self._model()
            with timer.stage("generate"):
                for piece in self.generate(question, language, history, passages, cancel):
                    pieces.append(piece)
                    yield piece
        except Cancelled:
            yield Rejected("cancelled", "cancelled before the language model finished", timer.timings)
            return
        except LLM_ERRORS as exc:
            log.warning("language model unavailable: %s: %s", type(exc).__name__, exc)
            yield Rejected("llm_unavailable", f"the language model is unavailable ({_error_kind(exc)})",
                           timer.timings)
            return
        with timer.stage("verify"):
            yield self._verified("".join(pieces).strip(), question, language, passages, timer, closeness)

    def _verified(self, raw: str, question: str, language: Language, passages: list[ScoredPassage],
                  timer: Timer, closeness: float | None = None) -> Generated | Rejected:
        best = closeness if closeness is not None else max((p.dense_score or 0.0 for p in passages),
                                                           default=0.0)
        checked = verify(raw, passages, language, question=question,
                         confident=confident(best, threshold_for(
                             self.settings.not_found_threshold, question,
                             passages[0].passage.text if passages else None)),
                         similarity=self._similarity if self.embedder is not None else None,
                         word_similarity=self._word_similarity if self.embedder is not None else None,
                         every_word=self.settings.verify_every_word)
        log.info("generated %r: %s", raw, "passed" if checked.ok else checked.reason)
        if not checked.ok:
            return Rejected("rejected", checked.reason or "the answer failed verification", timer.timings)
        if checked.declined:
            return Generated(text=checked.text, citations=[], timings=timer.timings,
                             note="the language model found no answer in the passages")
        citations = [
            make_citation(new, passages[old - 1], self._supporting_span(passages[old - 1], support))
            for new, (old, support) in enumerate(zip(checked.cited, checked.support, strict=True), 1)
        ]
        note = None
        if checked.dropped:
            note = "dropped citations to passages that were not given: " + marker_label(checked.dropped)
        return Generated(text=checked.text, citations=citations, note=note, timings=timer.timings)

    # -- helpers ------------------------------------------------------------------------------------
    def _similarity(self, sentences: list[str], passages: list[str]) -> np.ndarray:
        assert self.embedder is not None
        queries = np.stack([self.embedder.encode_query(s) for s in sentences])
        # Passage vectors are kept: the same few passages come back question after question, and
        # embedding them is the slow part of this check on a small CPU.
        vectors = self._documents(passages, self._passage_vectors, PASSAGE_VECTOR_CACHE)
        return queries @ np.stack([vectors[p] for p in passages]).T

    def _documents(self, texts: list[str], kept: dict[str, np.ndarray], limit: int) -> dict[str, np.ndarray]:
        """Document vectors of ``texts``, from ``kept`` where it has them (emptied when past ``limit``)."""
        assert self.embedder is not None
        vectors = {t: kept.get(t) for t in dict.fromkeys(texts)}
        missing = [t for t, v in vectors.items() if v is None]
        if missing:
            vectors.update(zip(missing, self.embedder.encode_documents(missing), strict=True))
            if len(kept) > limit:
                kept.clear()
            kept.update((t, vectors[t]) for t in missing)
        return vectors  # type: ignore[return-value]

    def _word_similarity(self, left: list[str], right: list[str]) -> np.ndarray:
        """Cosine similarities of single words (:class:`WordSimilarity`)."""
        assert self._words is not None
        return self._words(left, right)

    def _supporting_span(self, scored: ScoredPassage, support: list[str]) -> Span | None:
        """The passage sentence sharing most words with the answer sentences citing it (whole passage
        when none shares any, e.g. an English answer about an Arabic passage)."""
        passage = scored.passage
        spans = sentence_spans(passage.text, passage.span)
        if len(spans) < 2:
            return None
        wanted = set(tokenize(" ".join(support)))
        best, best_overlap = None, 0
        for span in spans:
            offset = span.start - passage.span.start
            words = set(tokenize(passage.text[offset: offset + span.end - span.start]))
            overlap = len(words & wanted)
            if overlap > best_overlap:
                best, best_overlap = span, overlap
        return best


def number_documents(documents: list[Document]) -> str:
    """The passages of the prompt: ``[n] text`` per document, numbered from 1 in the order given."""
    # Sentences of the article that address the model are not shown to it (see answer.directives).
    return "\n".join(f"[{n}] {neutralise(d.page_content)}" for n, d in enumerate(documents, 1))


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _clean_condensed(text: str) -> str:
    """The first line of a rewritten question, without labels or quotes the model may add."""
    lines = [line.strip() for line in strip_chat_artefacts(text).splitlines() if line.strip()]
    if not lines:
        return ""
    line = re.sub(r"^(rewritten|standalone)?\s*question\s*:\s*|^السؤال[^:]{0,25}:\s*", "", lines[0],
                  flags=re.IGNORECASE)
    return line.strip().strip("\"'«»“”").strip()


def _error_kind(exc: BaseException) -> str:
    """A short, user-safe description of why the model could not answer."""
    if isinstance(exc, openai.APITimeoutError | httpx.TimeoutException | TimeoutError):
        return "it did not reply in time"
    if isinstance(exc, openai.APIConnectionError | httpx.ConnectError | ConnectionError):
        return "its server cannot be reached"
    if isinstance(exc, openai.APIStatusError):
        return f"its server answered with HTTP {exc.status_code}"
    if isinstance(exc, LLMUnavailable | ModelUnavailable):
        return str(exc)
    return type(exc).__name__
