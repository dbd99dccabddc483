"""Stage 4, retrieve: dense search in Chroma fused with BM25 over Arabic-normalised tokens.

Plain reciprocal-rank fusion hurts when the lexical list is noise: an English question shares almost no
tokens with an Arabic article, and BM25's order is then arbitrary. The lexical list is therefore weighted by
how much of the question's vocabulary the passages in the question's language know (the only ones it
searches, :class:`LexicalIndexes`), so it only speaks when it has something to say.
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from functools import lru_cache
from typing import Any

import bm25s
import numpy as np
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, PrivateAttr

from assistant.questions import answer_type_bonus, asked_roles
from assistant.retrieve.base import IndexedArticle, RetrievalResult, Unit, unit_similarity
from assistant.retrieve.focus import NameCue, focus, rare_names, topic_names
from assistant.schemas import Passage, ScoredPassage
from assistant.textnorm import detect_language, tokenize, written_language

RRF_K = 60
#: Most the lexical list can weigh against the dense list's 1.0; reached when every question token is
#: known to the passages in the question's language. Chosen on the shipped suite (`khabar eval`), see
#: bench/README.md.
MAX_LEXICAL_WEIGHT = 0.7
#: Dense results whose share in the question's language scales the lexical list (LexicalIndex.share_of).
LANGUAGE_SAMPLE = 10
#: Top passages whose quotable units come with the result (the extractive stage quotes from these).
UNIT_PASSAGES = 3
#: Sentence ranking: units searched directly, and the weight of their passage order against the fused one.
UNIT_DEPTH = 40
UNIT_WEIGHT = 1.0
#: Unit score = cosine + this × coverage × the question's IDF-weighted words in the unit (+ the answer-type
#: cue); coverage (the share of question tokens the corpus knows) silences it for cross-language questions.
#: Retrieval weighs the words by IDF over the corpus's passages; the extractive stage over the candidate
#: sentences (:func:`sentence_idf`).
UNIT_LEXICAL_BONUS = 0.25
#: Unit score + this × the share of the question's rare names (:func:`focus.rare_names`, across languages
#: only) the unit mentions.
UNIT_NAME_BONUS = 0.05


#: Unit texts whose tokens are kept: an article has a few hundred units; a large corpus evicts the oldest.
UNIT_TOKEN_CACHE_SIZE = 8192


@lru_cache(maxsize=UNIT_TOKEN_CACHE_SIZE)
def unit_tokens(text: str) -> frozenset[str]:
    """The BM25 tokens of a unit's text, computed once: every question scores the same units of the top
    passages, and tokenising them again was about a tenth of an extractive answer's time."""
    return frozenset(tokenize(text))


class LexicalIndex:
    """BM25 (bm25s) over the normalised tokens of passages in one language. bm25s indexes are immutable:
    the retriever builds new ones (:class:`LexicalIndexes`), lazily, at the first search after passages
    changed."""

    def __init__(self, passages: list[Passage]) -> None:
        self.passages = passages
        self._ids = frozenset(p.id for p in passages)
        corpus = [tokenize(p.text) for p in passages]
        self.document_frequency = Counter(token for tokens in corpus for token in set(tokens))
        self.vocabulary = set(self.document_frequency)
        self._bm25: bm25s.BM25 | None = None
        if passages:
            self._bm25 = bm25s.BM25()
            self._bm25.index(corpus, show_progress=False)

    def coverage(self, tokens: list[str]) -> float:
        """Share of the question's tokens that occur in these passages (0 for an empty question)."""
        return sum(t in self.vocabulary for t in tokens) / len(tokens) if tokens else 0.0

    def idf(self, token: str) -> float:
        """BM25's inverse document frequency of a token over the passages (rare words weigh more)."""
        return idf(self.document_frequency.get(token, 0), len(self.passages))

    def weighted_overlap(self, query_tokens: set[str], text: str) -> float:
        """Share of the question's token weight (IDF) that ``text`` contains, in [0, 1]: "لم يعلن مسبقا"
        outweighs "زيارة الأسد", which every other sentence of the article also contains."""
        return weighted_share({t: self.idf(t) for t in query_tokens}, text)

    def share_of(self, ranked: list[tuple[Passage, float]]) -> float:
        """Share of ``ranked`` passages this index holds (1 for none ranked).

        BM25 searches only the passages in the question's language. When the dense search finds the answer
        in another language's article, a common word ("talks") shared with an English article made that
        article's passages the lexical list's best: the English question about the Arabic article then
        quoted the rail strike. In a corpus of one language this is 1."""
        if not ranked:
            return 1.0
        return sum(1 for passage, _ in ranked if passage.id in self._ids) / len(ranked)

    def search(self, tokens: list[str], k: int) -> list[tuple[Passage, float]]:
        """Passages with a positive BM25 score for ``tokens``, best first."""
        known = [t for t in tokens if t in self.vocabulary]
        if self._bm25 is None or not known:
            return []
        k = min(k, len(self.passages))
        ids, scores = self._bm25.retrieve([known], k=k, show_progress=False)
        return [(self.passages[int(i)], float(s)) for i, s in zip(ids[0], scores[0], strict=True) if s > 0]


class LexicalIndexes:
    """One :class:`LexicalIndex` per language, over the passages written in it (by script,
    :func:`detect_language`); a question searches the index of its own language.

    Arabic encyclopaedia paragraphs carry English words: the subject's English name ("State of Alaska",
    "Game of Thrones"), a term in brackets. Searched by one index, an English question matched those words,
    so the lexical side promoted the paragraph that glosses the subject over the one that answers: on
    ARCD's questions translated into English (bench/data/arcd-train-en.jsonl), hit@1 fell from 0.736 dense
    to 0.658 fused. A word shared across languages is a gloss, not evidence; in a corpus that mixes
    languages each language's passages still have BM25 for questions asked in it.
    """

    def __init__(self, passages: list[Passage]) -> None:
        by_language: dict[str, list[Passage]] = {}
        letterless: list[Passage] = []  # "2019 – 2021": no language of its own, searched in every one
        for passage in passages:
            language = written_language(passage.text)
            if language is None:
                letterless.append(passage)
            else:
                by_language.setdefault(language, []).append(passage)
        self.by_language = {language: LexicalIndex(group + letterless)
                            for language, group in by_language.items()}
        self._empty = LexicalIndex(letterless)

    def for_question(self, question: str) -> LexicalIndex:
        """The index of the passages in ``question``'s language (empty when the corpus has none)."""
        return self.by_language.get(detect_language(question), self._empty)


def idf(document_frequency: int, documents: int) -> float:
    """BM25's inverse document frequency (rare words weigh more, a word in every document still a little)."""
    return math.log(1 + (documents - document_frequency + 0.5) / (document_frequency + 0.5))


def weighted_share(weights: dict[str, float], text: str) -> float:
    """Share of the question tokens' total ``weights`` that ``text`` contains, in [0, 1]."""
    total = sum(weights.values())
    if not total:
        return 0.0
    tokens = unit_tokens(text)
    return sum(w for t, w in weights.items() if t in tokens) / total


def sentence_idf(query_tokens: set[str], sentences: list[str]) -> dict[str, float]:
    """The question's tokens weighted by their IDF over ``sentences`` (the candidates an answer is chosen
    from), not over the corpus's passages.

    Which sentence of a paragraph answers is told by the question's words that few of those sentences share:
    asked «ما هي عاصمة آيسلندا؟», the paragraph about Iceland names Iceland in several sentences and the
    capital in one. Over the corpus "Iceland" is the rarer word (a few paragraphs of 231), and the climate
    sentence that repeats it used to beat «عاصمتها هي ريكيافيك».
    """
    token_sets = [unit_tokens(s) for s in sentences]
    return {t: idf(sum(t in tokens for tokens in token_sets), len(token_sets)) for t in query_tokens}


def fuse(dense: list[tuple[Passage, float]], lexical: list[tuple[Passage, float]],
         lexical_weight: float, k: int) -> list[ScoredPassage]:
    """Weighted reciprocal-rank fusion of the two lists; dense has weight 1."""
    table: dict[str, ScoredPassage] = {}
    for rank, (passage, score) in enumerate(dense, 1):
        table[passage.id] = ScoredPassage(passage=passage, score=1.0 / (RRF_K + rank), dense_score=score,
                                          dense_rank=rank)
    for rank, (passage, score) in enumerate(lexical, 1):
        entry = table.setdefault(passage.id, ScoredPassage(passage=passage, score=0.0))
        entry.lexical_score, entry.lexical_rank = score, rank
        entry.score += lexical_weight / (RRF_K + rank)
    ranked = sorted(table.values(), key=lambda s: (-s.score, s.dense_rank or 10**6))
    return ranked[:k]


class HybridRetriever(BaseRetriever):
    """Dense search in the passage index fused with BM25; a LangChain retriever.

    ``retrieve()`` returns the typed :class:`RetrievalResult` the facade composes with; LangChain's
    ``invoke()`` returns the same ranking as Documents whose metadata carry the scores, for one's own chains.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    store: Any  # a PassageIndex (Protocol; pydantic cannot validate it)
    embedder: Any  # a TextEmbedder
    k: int = 5
    #: 0 disables the lexical side entirely (dense only), for comparisons.
    max_lexical_weight: float = MAX_LEXICAL_WEIGHT
    #: > 0 adds the sentence ranking: passages also ordered by their best quotable unit (KHABAR_RANKING).
    unit_weight: float = 0.0
    _passages: dict[str, list[Passage]] | None = PrivateAttr(None)
    _lexical: LexicalIndexes | None = PrivateAttr(None)
    _titles: dict[str, str] = PrivateAttr(default_factory=dict)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    def refresh(self) -> None:
        """Re-read every passage from the index (at start-up, or after another process wrote to it)."""
        by_article: dict[str, list[Passage]] = {}
        for passage in self.store.all_passages():
            by_article.setdefault(passage.article_id, []).append(passage)
        titles = {info.id: info.title for info in self.store.list_articles()}
        with self._lock:
            self._passages, self._lexical, self._titles = by_article, None, titles

    def written(self, item: IndexedArticle) -> None:
        """An article was written: replace its postings (the BM25 index is rebuilt at the next search, so
        ingesting N articles one by one costs N small updates, not N full re-reads)."""
        with self._lock:
            if self._passages is None:
                return  # not loaded yet: the first search reads everything anyway
            self._passages[item.article.id] = list(item.passages)
            self._titles[item.article.id] = item.article.title
            self._lexical = None

    def removed(self, article_id: str) -> None:
        """An article was removed: drop its postings."""
        with self._lock:
            self._titles.pop(article_id, None)
            if self._passages is not None and self._passages.pop(article_id, None) is not None:
                self._lexical = None

    def _stories(self, ranked: list[ScoredPassage]) -> dict[str, str]:
        with self._lock:
            return {s.passage.article_id: self._titles.get(s.passage.article_id, "") for s in ranked}

    def passages_of(self, article_id: str) -> list[Passage]:
        """The passages of one article in reading order, from the passages kept for BM25 (no index read
        after the first search)."""
        if self._passages is None:
            self.refresh()
        with self._lock:
            assert self._passages is not None
            return sorted(self._passages.get(article_id, []), key=lambda p: p.span.start)

    def _lexical_index(self, query: str) -> LexicalIndex:
        if self._passages is None:
            self.refresh()
        with self._lock:
            if self._lexical is None:
                assert self._passages is not None
                ordered = [p for article in sorted(self._passages) for p in self._passages[article]]
                self._lexical = LexicalIndexes(ordered)
            return self._lexical.for_question(query)

    def retrieve(self, query: str, k: int | None = None, vector: np.ndarray | None = None,
                 asked: str | None = None) -> RetrievalResult:
        """Ranked passages for ``query``, the query vector, and the quotable units of the top passages.

        ``asked``: the question whose kind of answer is sought (a date, a reason, the headline), when the
        query also carries the conversation before it («أين التقى…؟ ومتى؟» asks only when); by default the
        query.
        """
        k = k or self.k
        asked = asked or query
        if vector is None:
            vector = self.embedder.encode_query(query)
        # Dense and lexical lists are taken deeper than k so that fusion can promote from below.
        depth = max(k * 3, 15)
        dense = self.store.dense_search(vector, depth)
        tokens = tokenize(query)
        lexical_index = self._lexical_index(query)
        coverage = lexical_index.coverage(tokens)
        weight = self.max_lexical_weight * coverage * lexical_index.share_of(dense[:LANGUAGE_SAMPLE])
        lexical = lexical_index.search(tokens, depth) if weight > 0 else []
        q_tokens = set(tokens)

        def unit(sentence, vec) -> Unit:
            return Unit(sentence, vec, coverage * lexical_index.weighted_overlap(q_tokens, sentence.text))

        if self.unit_weight <= 0:
            ranked = fuse(dense, lexical, weight, k)
            focus_vector = self._focus_vector(query, ranked)
            top = [s.passage.id for s in ranked[:UNIT_PASSAGES]]
            units = [unit(sentence, vec) for sentence, vec in self.store.units_of(top)]
            return RetrievalResult(query=query, vector=vector, passages=ranked, units=units,
                                   stories=self._stories(ranked),
                                   focus_vector=focus_vector, coverage=coverage,
                                   topic_names=self._topic_names(query, ranked), asked=asked)

        # Sentence ranking: questions are short and specific, passages long and mixed, so the units
        # (sentences, clauses, phrases) are searched directly; each passage is also ranked by its best unit.
        fused = fuse(dense, lexical, weight, depth)
        names = self._rare_names(asked, dense)
        focus_vector = self._focus_vector(query, fused)
        hits = self.store.unit_search(vector, UNIT_DEPTH)
        if focus_vector is not None:
            hits += self.store.unit_search(focus_vector, UNIT_DEPTH)
        best_unit: dict[str, float] = {}
        found: dict[str, Unit] = {}
        for sentence, vec, _ in hits:
            found[sentence.id] = hit = unit(sentence, vec)
            score = (unit_similarity(vec, vector, focus_vector)
                     + unit_bonus(asked, sentence.text, hit.lexical, names))
            if score > best_unit.get(sentence.passage_id, -1.0):
                best_unit[sentence.passage_id] = score
        unit_rank = {pid: rank for rank, pid in enumerate(sorted(best_unit, key=lambda p: -best_unit[p]), 1)}
        roles = asked_roles(asked)
        for entry in fused:
            if entry.passage.id in best_unit:
                entry.score += self.unit_weight / (RRF_K + unit_rank[entry.passage.id])
            if entry.passage.role in roles:
                # Asked about the headline by name: its passages rank as if first in a list of their own.
                entry.score += self.unit_weight / (RRF_K + 1)
        ordered = sorted(fused, key=lambda s: (-s.score, s.dense_rank or 10**6))
        ranked = ordered[:k]
        quoted = min(k, UNIT_PASSAGES)
        if best_unit:
            # The passage of the single best unit is among those quoted from, however low the fusion ranked
            # it (if it ranked it at all): the sentence search found the sentence.
            best = max(best_unit, key=best_unit.__getitem__)
            place = next((i for i, s in enumerate(ordered) if s.passage.id == best), None)
            if place is not None and place >= quoted:
                rest = [s for s in ordered[quoted - 1:] if s.passage.id != best]
                ranked = [*ordered[:quoted - 1], ordered[place], *rest[:k - quoted]]
        top = [s.passage.id for s in ranked[:UNIT_PASSAGES]]
        for sentence, vec in self.store.units_of(top):
            if sentence.id not in found:
                found[sentence.id] = unit(sentence, vec)
        return RetrievalResult(query=query, vector=vector, passages=ranked, units=list(found.values()),
                               stories=self._stories(ranked),
                               focus_vector=focus_vector, coverage=coverage,
                               topic_names=self._topic_names(query, ranked), asked=asked, names=names)

    def _focus_vector(self, query: str, ranked: list[ScoredPassage]) -> np.ndarray | None:
        """The vector of ``query`` without the names most passages of the best passage's article mention
        (retrieve/focus.py), or None when it names none of them."""
        if not ranked or self._passages is None:
            return None
        focused = focus(query, self._passages.get(ranked[0].passage.article_id, []))
        return None if focused is None else self.embedder.encode_query(focused)

    def _rare_names(self, asked: str, dense: list[tuple[Passage, float]]) -> tuple[NameCue, ...]:
        """The names of the question ``asked`` that few passages of the closest passage's article mention."""
        if not dense or self._passages is None:
            return ()
        return rare_names(asked, self._passages.get(dense[0][0].article_id, []))

    def _topic_names(self, query: str, ranked: list[ScoredPassage]) -> frozenset[str]:
        """The names of ``query`` that most passages of the best passage's article mention."""
        if not ranked or self._passages is None:
            return frozenset()
        return topic_names(query, self._passages.get(ranked[0].passage.article_id, []))

    def _get_relevant_documents(self, query: str, *,
                                run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        return [to_document(s) for s in self.retrieve(query).passages]


def unit_bonus(asked: str, text: str, lexical: float, names: tuple[NameCue, ...] = ()) -> float:
    """What a unit's words add to its cosine: the question's (IDF-weighted) words, ``lexical`` (their share in
    ``text``, times coverage), the answer-type cue of the question ``asked``, and the share of its rare
    ``names`` (asked across languages) the unit mentions."""
    named = sum(1 for cue in names if cue.found_in(text)) / len(names) if names else 0.0
    return UNIT_LEXICAL_BONUS * lexical + answer_type_bonus(asked, text) + UNIT_NAME_BONUS * named


def to_document(scored: ScoredPassage) -> Document:
    """A LangChain Document for a scored passage (the chain formats these into the prompt)."""
    meta = scored.model_dump(exclude={"passage"})
    meta.update(scored.passage.model_dump(exclude={"text"}))
    return Document(page_content=scored.passage.text, metadata=meta, id=scored.passage.id)
