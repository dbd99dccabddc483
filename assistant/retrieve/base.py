"""The seams of the retrieval stage: what an embedding model and a passage index must offer, and the one
result retrieval hands to the answer stage.

Any object with these methods plugs in (``Assistant(embedder=..., store=...)``): the sentence-transformers
model and Chroma are the defaults, a hash-based fake embedder serves the tests of logic.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

from assistant.schemas import Article, ArticleInfo, Passage, ScoredPassage, Sentence

if TYPE_CHECKING:
    from assistant.retrieve.focus import NameCue


@runtime_checkable
class TextEmbedder(Protocol):
    """Turns text into L2-normalised vectors; queries and documents may be embedded differently."""

    #: Identifies the model (and anything else that changes its vectors): an index records it.
    fingerprint: str

    @property
    def dimension(self) -> int: ...

    def count_tokens(self, text: str) -> int: ...

    def encode_query(self, text: str) -> np.ndarray: ...

    def encode_documents(self, texts: list[str]) -> np.ndarray: ...


@dataclass(frozen=True)
class IndexedArticle:
    """What the indexer writes for one article: the article, its passages and quotable units, with vectors."""

    article: Article
    passages: list[Passage]
    passage_vectors: np.ndarray
    units: list[Sentence]
    unit_vectors: np.ndarray


class PassageIndex(Protocol):
    """Stores articles' passages and quotable units with their vectors, and searches them."""

    def article_digest(self, article_id: str) -> str | None: ...

    def write(self, item: IndexedArticle) -> None: ...

    def remove(self, article_id: str) -> bool: ...

    def all_passages(self) -> list[Passage]: ...

    def dense_search(self, vector: np.ndarray, k: int) -> list[tuple[Passage, float]]: ...

    def units_of(self, passage_ids: Sequence[str]) -> list[tuple[Sentence, np.ndarray]]: ...

    def list_articles(self) -> list[ArticleInfo]: ...

    def get_article(self, article_id: str) -> Article | None: ...

    def count(self) -> int: ...


#: Weight of the question's focus (retrieve/focus.py) against the question itself in a unit's similarity,
#: when the question has one. Chosen on the shipped suite's tuning half (``khabar eval --split tune``): 0.5 to
#: 1.0 gave the same must-include accuracy (0.941, against 0.921 for the better of the two), 0.7 the best
#: citation precision; 0.3 lost the English flagship paraphrase again.
FOCUS_WEIGHT = 0.7


def unit_similarity(vector: np.ndarray, question: np.ndarray, focus: np.ndarray | None) -> float:
    """Cosine of ``vector`` with the question's vector, blended with its cosine with the focus vector when
    there is one: how retrieval ranks units and how the extractive stage scores them.

    A blend, not the better of the two: with the better of the two, a sentence that merely repeats the
    article's pervasive names («كما تأتي زيارة الأسد إلى روسيا…») kept the full question's pull and beat the
    sentence that answers («ويأتي اللقاء الذي لم يعلن عنه مسبقا لدواع أمنية…»).
    """
    cosine = float(vector @ question)
    if focus is None:
        return cosine
    return (1 - FOCUS_WEIGHT) * cosine + FOCUS_WEIGHT * float(vector @ focus)


@dataclass(frozen=True)
class Unit:
    """A quotable unit (sentence, clause or phrase) of a retrieved passage, with its stored vector and the
    share of the question's words it contains, weighted by IDF over the corpus's passages (retrieval's unit
    ranking; the extractive stage weighs them again over the candidate sentences)."""

    sentence: Sentence
    vector: np.ndarray
    lexical: float = 0.0


@dataclass(frozen=True)
class RetrievalResult:
    """What retrieval found for one query: the ranking, the query vector, and the units the answer stage
    chooses its quote from (so that the answer stage never reads the store)."""

    query: str
    vector: np.ndarray
    passages: list[ScoredPassage]
    units: list[Unit] = field(default_factory=list)
    #: The vector of the question without the article's pervasive names (retrieve/focus.py), or None.
    focus_vector: np.ndarray | None = None
    #: Share of the question's tokens the passages in its language know (0 when none is in its language).
    coverage: float = 0.0
    #: The question's names that most passages of the best passage's article mention (lower case,
    #: retrieve/focus.py): a passage of that article that leaves one of them out still speaks of it.
    topic_names: frozenset[str] = frozenset()
    #: The question whose kind of answer is sought, without the conversation the query may carry ("" when
    #: the query is the question).
    asked: str = ""
    #: The question's names that few passages of the article mention, when it is asked across languages
    #: (retrieve/focus.py): a unit naming them is likelier the answer.
    names: tuple[NameCue, ...] = ()
    #: The story each retrieved article tells, by article id: its title. An answer rests on one story; the
    #: paragraphs of one encyclopaedia entry, indexed from a SQuAD file as articles of their own, share it.
    stories: dict[str, str] = field(default_factory=dict)

    def story(self, article_id: str) -> str:
        """The story of an article (:attr:`stories`; the article itself when its title is not known)."""
        return self.stories.get(article_id) or article_id

    def similarity(self, vector: np.ndarray) -> float:
        """Similarity of a unit's ``vector`` with the question (and its focus, :func:`unit_similarity`)."""
        return unit_similarity(vector, self.vector, self.focus_vector)

    @property
    def best_dense(self) -> float:
        """The best cosine similarity between the query and a retrieved passage (0 when none)."""
        return max((s.dense_score or 0.0 for s in self.passages), default=0.0)

    @property
    def best_unit(self) -> float:
        """The best similarity between the question (or its focus) and a unit of the retrieved passages."""
        return max((self.similarity(u.vector) for u in self.units), default=0.0)
