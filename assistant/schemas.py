"""Typed data passed between pipeline stages, and the answer object every interface returns."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Language = Literal["ar", "en"]
PassageRole = Literal["headline", "lede", "subheadline", "body"]
AnswerKind = Literal["extractive", "generative", "fallback", "not_found"]
#: Why a generative request got the extractive answer instead (``Answer.fallback_reason``).
FallbackReason = Literal["llm_unavailable", "rejected", "cancelled", "no_passages"]


class Span(BaseModel):
    """Character offsets ``[start, end)`` into an article's source text."""

    start: int
    end: int


class Article(BaseModel):
    """One source document, as loaded from disk."""

    id: str = Field(description="Stable id: the file name without extension(s).")
    title: str
    language: Language
    text: str = Field(description="The full source text; passage offsets point into it.")
    source: str = Field(description="File name the article came from.")
    sha256: str = Field(description="Digest of `text`: a changed article gets new passages.")


class Passage(BaseModel):
    """A retrievable unit of an article: a headline, a sub-headline or a bounded run of sentences."""

    id: str
    article_id: str
    index: int = Field(description="Position in the article, from 0.")
    role: PassageRole
    text: str
    span: Span


UnitKind = Literal["sentence", "clause", "phrase"]


class Sentence(BaseModel):
    """A quotable unit inside a passage: a sentence, one of its clauses, or a phrase (a short window of a
    long sentence, so that the few words that answer can be found and highlighted)."""

    id: str
    passage_id: str
    article_id: str
    text: str
    span: Span
    kind: UnitKind = "sentence"


class ScoredPassage(BaseModel):
    """A passage with the scores that put it where it is in the ranking."""

    passage: Passage
    score: float = Field(description="Fused score used for the final ranking.")
    dense_score: float | None = Field(None, description="Cosine similarity to the question.")
    lexical_score: float | None = Field(None, description="BM25 score over normalised tokens.")
    dense_rank: int | None = None
    lexical_rank: int | None = None


CitationKind = Literal["support", "related"]


class Citation(BaseModel):
    """A passage an answer cites as ``[n]``, with the span that supports the answer."""

    n: int = Field(description="The marker number used in the answer text.")
    passage_id: str
    article_id: str
    text: str = Field(description="The whole cited passage.")
    span: Span = Field(description="Offsets of the supporting span in the article's source text.")
    quote: str = Field(description="The supporting span's text.")
    passage_span: Span = Field(description="Offsets of the whole passage in the article.")
    score: float = Field(description="Retrieval score of the passage.")
    kind: CitationKind = Field(
        "support", description="`support`: the answer rests on it; `related`: offered as the closest reading "
                               "when the article does not answer (a not-found answer).")


class Message(BaseModel):
    """One turn of a conversation."""

    role: Literal["user", "assistant"]
    content: str


class Answer(BaseModel):
    """What the assistant returns for one question."""

    question: str
    answer: str
    language: Language
    mode: AnswerKind
    citations: list[Citation] = Field(default_factory=list)
    retrieved: list[ScoredPassage] = Field(default_factory=list)
    timings: dict[str, float] = Field(
        default_factory=dict, description="Milliseconds per stage, plus `total`."
    )
    search_query: str | None = Field(None, description="The query actually retrieved with.")
    note: str | None = Field(None, description="Why a fallback or not-found answer was given.")
    fallback_reason: FallbackReason | None = Field(
        None, description="Set when mode is `fallback`: the model was unavailable, its answer was "
                          "rejected by verification, the request was cancelled, or nothing was retrieved.")


class Replace(BaseModel):
    """An item of a live answer stream (``Assistant.stream(live=True)``): forget the text streamed so far and
    show ``text`` instead. Sent when a generated answer streamed as the model wrote it was then rejected by
    verification (``reason`` is the fallback's reason) or cleaned up (``reason`` None)."""

    text: str
    reason: FallbackReason | None = None


class IngestReport(BaseModel):
    """What an ingest did, per article."""

    added: list[str] = Field(default_factory=list)
    replaced: list[str] = Field(default_factory=list)
    unchanged: list[str] = Field(default_factory=list)
    passages: int = 0


class ArticleInfo(BaseModel):
    """An indexed article, as listed to users."""

    id: str
    title: str
    language: Language
    passages: int
    source: str
