"""Sweeps for choosing defaults by numbers: the lexical fusion weight and the not-found threshold.

Each case's search query is learnt once (through the Assistant, so it is exactly the one the app uses,
history included); the retrieval is then repeated for every lexical weight with that query's vector, and the
refusal decision ("closeness < threshold", :func:`assistant.answer.answerability.closeness`, as in the
facade) is replayed for every threshold without asking again. Question and focus vectors come from the
embedder's query cache (``KHABAR_QUERY_CACHE_SIZE``), so each is embedded once while the cache holds them all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel

from assistant.answer.answerability import closeness, confident, language_allowance
from assistant.answer.extractive import compose, select_quotes
from assistant.evaluation import metrics as m
from assistant.evaluation.suites import Case
from assistant.facade import Assistant
from assistant.schemas import ScoredPassage


@dataclass(frozen=True)
class Probe:
    """A case with the query the app searches with and its vector."""

    case: Case
    search_query: str
    vector: np.ndarray


class WeightResult(BaseModel):
    """Retrieval (and extractive must-include) quality at one lexical weight."""

    weight: float
    hit_at_1: float | None
    hit_at_3: float | None
    mrr: float | None
    hit_at_1_by_language: dict[str, float | None]
    must_include_accuracy: float | None
    #: Per case, what the not-found threshold is compared with (answerability.closeness).
    best_dense: dict[str, float]


class ThresholdResult(BaseModel):
    """Refusals at one not-found threshold."""

    threshold: float
    refusal_precision: float | None
    refusal_recall: float | None
    refusal_f1: float | None
    false_refusals: int


def probe(assistant: Assistant, cases: Sequence[Case]) -> list[Probe]:
    """Learn each case's search query and vector: a case with history is asked once (extractive), since
    whether it is a follow-up decides its query; one without is searched as it is (``Assistant._retrieve``),
    so only its vector is needed."""
    probes = []
    for case in cases:
        if case.history:
            answer = assistant.ask(case.question, case.history, mode="extractive", language=case.language)
            query = answer.search_query or case.question
        else:
            query = assistant.validate(case.question)
        probes.append(Probe(case=case, search_query=query, vector=assistant.embedder.encode_query(query)))
    return probes


def _is_evidence(case: Case, scored: ScoredPassage) -> bool:
    return scored.passage.article_id in case.evidence_articles or m.contains_snippet(scored.passage.text,
                                                                                      case.evidence)


def sweep_weights(assistant: Assistant, probes: Sequence[Probe], weights: Sequence[float],
                  k: int = 5) -> list[WeightResult]:
    """Retrieval quality at each lexical weight (the assistant's weight is restored afterwards)."""
    retriever = assistant.retriever
    saved = retriever.max_lexical_weight
    try:
        return [_at_weight(assistant, probes, weight, k) for weight in weights]
    finally:
        retriever.max_lexical_weight = saved


def _at_weight(assistant: Assistant, probes: Sequence[Probe], weight: float, k: int) -> WeightResult:
    retriever = assistant.retriever
    retriever.max_lexical_weight = weight
    ranks: list[tuple[str, int | None]] = []
    must: list[bool] = []
    best: dict[str, float] = {}
    for p in probes:
        result = retriever.retrieve(p.search_query, k=k, vector=p.vector)
        ranked = result.passages
        # What the not-found threshold is compared with: the closeness, plus the allowance of a question in
        # another language than its closest passage (answerability.threshold_for).
        top = ranked[0].passage.text if ranked else None
        best[p.case.id] = closeness(result) + language_allowance(p.case.question, top)
        if not p.case.answerable:
            continue
        if p.case.has_evidence:
            ranks.append((p.case.expected_language,
                          m.first_hit_rank(ranked, lambda s, c=p.case: _is_evidence(c, s))))
        if p.case.must_include:
            quotes = select_quotes(result)
            text, _ = compose(quotes, p.case.expected_language)
            must.append(not m.missing_groups(text, p.case.must_include))
    all_ranks = [r for _, r in ranks]
    languages = sorted({lang for lang, _ in ranks})
    return WeightResult(
        weight=weight, hit_at_1=m.hit_at_k(all_ranks, 1), hit_at_3=m.hit_at_k(all_ranks, 3),
        mrr=m.mean_reciprocal_rank(all_ranks),
        hit_at_1_by_language={lang: m.hit_at_k([r for g, r in ranks if g == lang], 1) for lang in languages},
        must_include_accuracy=m.mean(must), best_dense=best,
    )


def sweep_thresholds(probes: Sequence[Probe], best_dense: dict[str, float],
                     thresholds: Sequence[float]) -> list[ThresholdResult]:
    """Refusal precision/recall if the not-found threshold were each of ``thresholds``."""
    results = []
    for threshold in thresholds:
        pairs = [(p.case.answerable, not confident(best_dense[p.case.id], threshold)) for p in probes]
        precision, recall = m.refusal_precision_recall(pairs)
        f1 = (2 * precision * recall / (precision + recall)
              if precision is not None and recall is not None and precision + recall > 0 else None)
        results.append(ThresholdResult(threshold=round(threshold, 4), refusal_precision=precision,
                                       refusal_recall=recall, refusal_f1=f1,
                                       false_refusals=sum(1 for a, refused in pairs if a and refused)))
    return results
