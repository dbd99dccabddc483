"""Typed results: one :class:`CaseResult` per case and mode, :class:`Summary` per mode (and language), and
the whole :class:`EvalReport` whose JSON form evaluators' scripts read (keys documented in
docs/evaluation.md; keep them stable).

Over 300 lines on purpose: the result models and the scoring that fills them change together (a new
metric is a field and its computation); the report and metrics modules only read them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from assistant.answer.citations import strip_markers
from assistant.evaluation import metrics as m
from assistant.evaluation.suites import CASE_KINDS, SPLITS, Case, CaseKind, Split, SuiteProblem
from assistant.schemas import Answer, AnswerKind, Language, Message

#: Version of the JSON layout; bumped only when a key changes meaning or disappears.
SCHEMA_VERSION = 1


class RetrievedPassage(BaseModel):
    """A retrieved passage as the report shows it."""

    rank: int
    passage_id: str
    article_id: str
    text: str
    score: float
    dense_score: float | None = None
    lexical_score: float | None = None
    evidence: bool | None = Field(None, description="Contains evidence (None when the case has none).")


class CitedPassage(BaseModel):
    """A citation of the answer as the report shows it."""

    n: int
    passage_id: str
    quote: str
    evidence: bool | None = None
    retrieved: bool = Field(description="The cited passage is among the retrieved ones.")


class CaseResult(BaseModel):
    """One case run in one mode: what came back, each metric's value for it, and pass/fail with reasons."""

    id: str
    mode: str = Field(description="The mode asked for (extractive, generative).")
    line: int | None = None
    question: str
    history: list[Message] = Field(default_factory=list)
    language: Language = Field(description="Expected answer language.")
    answerable: bool
    kind: CaseKind = Field("answerable", description="answerable, unanswerable, topic-change, follow-up.")
    split: Split | None = Field(None, description="The half of the suite (tune or held), if it has halves.")
    answer: str = ""
    answer_mode: AnswerKind | None = Field(None, description="What the assistant did (not_found = refused).")
    answer_language: Language | None = None
    refused: bool = False
    search_query: str | None = None
    note: str | None = None
    fallback_reason: str | None = None
    citations: list[CitedPassage] = Field(default_factory=list)
    retrieved: list[RetrievedPassage] = Field(default_factory=list)
    evidence_rank: int | None = Field(None, description="1-based rank of the first evidence passage.")
    must_include_ok: bool | None = None
    must_include_missing: list[list[str]] = Field(default_factory=list)
    answering_words_ok: bool | None = Field(
        None, description="The first citation's answering words (its span) hold every must-include group.")
    em: float | None = None
    f1: float | None = None
    contains_reference: bool | None = None
    top_passage_contains_reference: bool | None = Field(
        None, description="The first retrieved passage contains a reference answer (answered or not).")
    answering_words_contain_reference: bool | None = Field(
        None, description="The first citation's answering words (its span) contain a reference answer.")
    language_match: bool | None = None
    citation_precision: float | None = None
    citations_in_retrieved: bool | None = None
    cites_previous_topic: bool | None = Field(
        None, description="Topic change: a citation is the earlier topic's passage (and not evidence).")
    as_alone: bool | None = Field(
        None, description="Topic change: answered as the question alone should be (docs/evaluation.md).")
    same_as_alone: bool | None = Field(
        None, description="Topic change: same first citation (or refusal) as the `alone` case in this run.")
    answer_chars: int | None = None
    latency_ms: float | None = None
    timings: dict[str, float] = Field(default_factory=dict)
    passed: bool = False
    reasons: list[str] = Field(default_factory=list, description="Why the case failed (empty if it passed).")
    error: str | None = None
    extra: dict = Field(default_factory=dict, description="Suite fields the runner does not interpret.")
    # Kept for scoring, not in the JSON: whether retrieval is scored for this case.
    has_evidence: bool = Field(False, exclude=True)
    references: list[str] = Field(default_factory=list, exclude=True)
    must_include: list[list[str]] = Field(default_factory=list, exclude=True)
    alone_id: str | None = Field(None, exclude=True)


def _base(case: Case, mode: str) -> dict:
    return dict(id=case.id, mode=mode, line=case.line, question=case.question, history=case.history,
                language=case.expected_language, answerable=case.answerable, kind=case.case_kind,
                split=case.split, extra=case.extra_fields(), has_evidence=case.has_evidence,
                references=case.answers, must_include=case.must_include, alone_id=case.alone)


def error_result(case: Case, mode: str, message: str) -> CaseResult:
    """A case that produced no answer."""
    return CaseResult(**_base(case, mode), error=message, reasons=[message])


def score_case(case: Case, answer: Answer, mode: str, k: int) -> CaseResult:
    """Measure one answer against its case."""

    def is_evidence(article_id: str, text: str) -> bool | None:
        if not case.has_evidence:
            return None
        return article_id in case.evidence_articles or m.contains_snippet(text, case.evidence)

    retrieved = [
        RetrievedPassage(rank=rank, passage_id=s.passage.id, article_id=s.passage.article_id,
                         text=s.passage.text, score=round(s.score, 6),
                         dense_score=None if s.dense_score is None else round(s.dense_score, 4),
                         lexical_score=None if s.lexical_score is None else round(s.lexical_score, 4),
                         evidence=is_evidence(s.passage.article_id, s.passage.text))
        for rank, s in enumerate(answer.retrieved, 1)
    ]
    retrieved_ids = {r.passage_id for r in retrieved}
    citations = [CitedPassage(n=c.n, passage_id=c.passage_id, quote=c.quote,
                              evidence=is_evidence(c.article_id, c.text),
                              retrieved=c.passage_id in retrieved_ids)
                 for c in answer.citations]
    refused = answer.mode == "not_found"
    answered = not refused
    text = strip_markers(answer.answer, keep=set())
    result = CaseResult(
        **_base(case, mode), answer=answer.answer, answer_mode=answer.mode,
        answer_language=m.answer_language(answer.answer, answer.language), refused=refused,
        search_query=answer.search_query, note=answer.note, fallback_reason=answer.fallback_reason,
        citations=citations, retrieved=retrieved,
        latency_ms=answer.timings.get("total"), timings=answer.timings,
        answer_chars=len(text) if answered else None,
    )
    result.language_match = result.answer_language == result.language

    words = citations[0].quote if answered and citations else ""  # the first citation's answering words
    if case.answerable:
        if case.has_evidence:
            result.evidence_rank = m.first_hit_rank(retrieved, lambda r: bool(r.evidence))
        if case.must_include:
            result.must_include_missing = m.missing_groups(text if answered else "", case.must_include)
            result.must_include_ok = not result.must_include_missing
            # The answering words are what the page highlights and a who/where/how-many answer leads with:
            # the answer can hold the must-include words (in its whole-sentence quote) while they miss them.
            result.answering_words_ok = bool(words) and not m.missing_groups(words, case.must_include)
        if case.answers:
            prediction = m.answer_core(answer.answer) if answered else ""
            result.em = m.exact_match(prediction, case.answers)
            result.f1 = m.token_f1(prediction, case.answers)
            result.contains_reference = bool(answered and m.contains_reference(text, case.answers))
            result.top_passage_contains_reference = bool(
                retrieved and m.contains_reference(retrieved[0].text, case.answers))
            result.answering_words_contain_reference = bool(
                words and m.contains_reference(words, case.answers))
        if answered and case.has_evidence and citations:
            result.citation_precision = m.citation_precision([bool(c.evidence) for c in citations])
    if answered and citations:
        result.citations_in_retrieved = all(c.retrieved for c in citations)
    if case.case_kind == "topic-change":
        stale = [m.contains_snippet(c.text, case.previous_evidence)
                 and not m.contains_snippet(c.text, case.evidence) for c in answer.citations]
        result.cites_previous_topic = any(stale)
        result.as_alone = _as_alone(case, result)

    result.reasons = _reasons(case, result, k)
    result.passed = not result.reasons
    return result


def _as_alone(case: Case, r: CaseResult) -> bool:
    """Whether a topic change got the answer its question gets alone, judged by the case's expectations.

    Alone, an unanswerable question is refused; an answerable one is answered, its first citation is an
    evidence passage and its must-include groups are present. On top of that the answer must cite no
    passage of the earlier topic (``previous_evidence``) that is not also evidence.
    """
    if not case.answerable:
        return r.refused
    first_is_evidence = bool(r.citations) and r.citations[0].evidence is not False
    return (not r.refused and first_is_evidence and r.must_include_ok is not False
            and not r.cites_previous_topic)


def _reasons(case: Case, r: CaseResult, k: int) -> list[str]:
    reasons: list[str] = []
    if not case.answerable:
        if not r.refused:
            reasons.append("answered a question the article does not answer")
        return reasons
    if r.refused:
        reasons.append(f"refused an answerable question ({r.note or 'not found'})")
    if case.has_evidence and (r.evidence_rank is None or r.evidence_rank > k):
        reasons.append(f"no evidence passage among the {len(r.retrieved)} retrieved")
    if r.must_include_missing:
        missing = "; ".join(" / ".join(group) for group in r.must_include_missing)
        reasons.append(f"answer lacks: {missing}")
    if r.citation_precision == 0:
        reasons.append("no cited passage contains the evidence")
    if r.citations_in_retrieved is False:
        reasons.append("cites a passage that was not retrieved")
    if not r.refused and r.language_match is False:
        reasons.append(f"answer is in {r.answer_language}, expected {r.language}")
    if r.cites_previous_topic:
        reasons.append("cites the earlier topic's passage (topic change answered with the old topic)")
    return reasons


class Summary(BaseModel):
    """Every metric over a set of case results; ``None`` where no case applies."""

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    cases: int
    hit_at_1: float | None = Field(None, alias="hit@1")
    hit_at_3: float | None = Field(None, alias="hit@3")
    hit_at_5: float | None = Field(None, alias="hit@5")
    mrr: float | None = None
    citation_precision: float | None = None
    must_include_accuracy: float | None = None
    answering_words_accuracy: float | None = None
    em: float | None = None
    f1: float | None = None
    answer_contains_reference: float | None = None
    refusal_precision: float | None = None
    refusal_recall: float | None = None
    language_match: float | None = None
    latency_p50_ms: float | None = None
    latency_p95_ms: float | None = None
    # Beyond the stable keys above:
    passed: int = 0
    pass_rate: float | None = None
    errors: int = 0
    answerable: int = 0
    unanswerable: int = 0
    citations_in_retrieved: float | None = None
    answer_length_chars: float | None = None
    throughput_qps: float | None = Field(None, description="Questions per second of wall time (per mode).")
    latency_by_stage_ms: dict[str, dict[str, float | None]] = Field(default_factory=dict)
    top_passage_contains_reference: float | None = Field(
        None, description="Cases with reference answers whose first retrieved passage contains one (DPR's "
                          "top-1 accuracy: a near-duplicate or sibling paragraph that also answers counts).")
    answering_words_contain_reference: float | None = Field(
        None, description="Cases with reference answers whose first citation's answering words contain one.")
    answer_modes: dict[str, int] = Field(
        default_factory=dict, description="Answers per kind: extractive, generative, fallback, not_found.")
    topic_change_as_alone: float | None = Field(
        None, description="Topic changes answered as the question alone should be (from expectations).")
    topic_change_same_as_alone: float | None = Field(
        None, description="Topic changes whose first citation (or refusal) equals the alone case's.")


#: The stable metric keys, in display order (the `--min` gates accept any numeric summary key).
STABLE_KEYS = ("cases", "hit@1", "hit@3", "hit@5", "mrr", "citation_precision", "must_include_accuracy",
               "answering_words_accuracy", "em", "f1", "answer_contains_reference", "refusal_precision",
               "refusal_recall", "language_match", "latency_p50_ms", "latency_p95_ms")


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


def summarise(results: list[CaseResult], wall_seconds: float | None = None) -> Summary:
    """Aggregate case results (of one mode, or one mode and language)."""
    ok = [r for r in results if r.error is None]
    ranks = [r.evidence_rank for r in ok if r.answerable and r.has_evidence]
    precision, recall = m.refusal_precision_recall([(r.answerable, r.refused) for r in ok])
    latencies = [r.latency_ms for r in ok if r.latency_ms is not None]
    stages = sorted({s for r in ok for s in r.timings if s != "total"})
    by_stage = {s: {"p50": _round(m.percentile([r.timings[s] for r in ok if s in r.timings], 50), 2),
                    "p95": _round(m.percentile([r.timings[s] for r in ok if s in r.timings], 95), 2)}
                for s in stages}
    passed = sum(r.passed for r in results)
    return Summary(
        cases=len(results),
        hit_at_1=_round(m.hit_at_k(ranks, 1)), hit_at_3=_round(m.hit_at_k(ranks, 3)),
        hit_at_5=_round(m.hit_at_k(ranks, 5)), mrr=_round(m.mean_reciprocal_rank(ranks)),
        citation_precision=_round(m.mean(r.citation_precision for r in ok)),
        must_include_accuracy=_round(m.mean(r.must_include_ok for r in ok)),
        answering_words_accuracy=_round(m.mean(r.answering_words_ok for r in ok)),
        em=_round(m.mean(r.em for r in ok)), f1=_round(m.mean(r.f1 for r in ok)),
        answer_contains_reference=_round(m.mean(r.contains_reference for r in ok)),
        refusal_precision=_round(precision), refusal_recall=_round(recall),
        language_match=_round(m.mean(r.language_match for r in ok)),
        latency_p50_ms=_round(m.percentile(latencies, 50), 2),
        latency_p95_ms=_round(m.percentile(latencies, 95), 2),
        passed=passed, pass_rate=_round(passed / len(results)) if results else None,
        errors=sum(r.error is not None for r in results),
        answerable=sum(r.answerable for r in results), unanswerable=sum(not r.answerable for r in results),
        citations_in_retrieved=_round(m.mean(r.citations_in_retrieved for r in ok)),
        answer_length_chars=_round(m.mean(r.answer_chars for r in ok), 1),
        throughput_qps=_round(len(results) / wall_seconds, 3) if wall_seconds else None,
        latency_by_stage_ms=by_stage,
        top_passage_contains_reference=_round(m.mean(r.top_passage_contains_reference for r in ok)),
        answering_words_contain_reference=_round(m.mean(r.answering_words_contain_reference for r in ok)),
        answer_modes=dict(sorted(Counter(r.answer_mode for r in ok if r.answer_mode).items())),
        topic_change_as_alone=_round(m.mean(r.as_alone for r in ok)),
        topic_change_same_as_alone=_round(m.mean(r.same_as_alone for r in ok)),
    )


def breakdowns(results: list[CaseResult], modes: Sequence[str]) -> dict[str, dict]:
    """The report's per-language, per-half (tune/held, and half × language) and per-kind summaries."""

    def per_mode(selected: list[CaseResult]) -> dict[str, Summary]:
        return {mode: summarise([r for r in selected if r.mode == mode]) for mode in modes}

    languages = sorted({r.language for r in results})
    splits = [s for s in SPLITS if any(r.split == s for r in results)]
    kinds = [kind for kind in CASE_KINDS if any(r.kind == kind for r in results)]
    return {
        "by_language": {lang: per_mode([r for r in results if r.language == lang]) for lang in languages},
        "by_split": {s: per_mode([r for r in results if r.split == s]) for s in splits},
        "by_split_language": {s: {lang: per_mode([r for r in results if r.split == s and r.language == lang])
                                  for lang in languages}
                              for s in splits},
        "by_kind": {kind: per_mode([r for r in results if r.kind == kind]) for kind in kinds},
    }


def link_alone(results: list[CaseResult]) -> None:
    """Set ``same_as_alone`` on topic changes whose ``alone`` case ran in the same mode.

    Same means: both refused, or both answered with the same first cited passage. The alone case may be
    absent (e.g. in the other half under ``--split``); the value then stays None.
    """
    by_key = {(r.mode, r.id): r for r in results}
    for r in results:
        if r.kind != "topic-change" or not r.alone_id or r.error:
            continue
        alone = by_key.get((r.mode, r.alone_id))
        if alone is None or alone.error:
            continue
        first = r.citations[0].passage_id if r.citations else None
        alone_first = alone.citations[0].passage_id if alone.citations else None
        r.same_as_alone = r.refused == alone.refused and (r.refused or first == alone_first)


class SuiteInfo(BaseModel):
    """Which suite was run."""

    name: str
    path: str
    format: Literal["jsonl", "squad"]
    sha256: str
    cases: int
    contexts: int = 0


class RunConfig(BaseModel):
    """What the run was configured with, so two reports can be told apart."""

    modes: list[str]
    split: Split | None = Field(None, description="The half run with --split (None: the whole suite).")
    k: int
    ranking: str | None = Field(None, description="KHABAR_RANKING of the run (dense, hybrid, ...).")
    collection: str
    corpus: list[str]
    not_found_threshold: float
    max_lexical_weight: float
    embedding_model: str
    llm_model: str


class GateResult(BaseModel):
    """One `--min metric=value` check."""

    mode: str
    metric: str
    minimum: float
    value: float | None
    passed: bool


class EvalReport(BaseModel):
    """Everything a run produced; ``model_dump(mode="json")`` is the `--json` output."""

    schema_version: int = SCHEMA_VERSION
    suite: SuiteInfo
    config: RunConfig
    started_at: str
    setup_seconds: float = Field(description="Building the Assistant and ingesting the corpus (the embedding "
                                 "model is loaded before and not counted).")
    wall_seconds: dict[str, float] = Field(description="Per mode: time to run every case.")
    summary: dict[str, Summary]
    by_language: dict[str, dict[str, Summary]] = Field(description="{language: {mode: summary}}.")
    by_split: dict[str, dict[str, Summary]] = Field(
        default_factory=dict, description="{split: {mode: summary}} (tune, held), for suites with halves.")
    by_split_language: dict[str, dict[str, dict[str, Summary]]] = Field(
        default_factory=dict, description="{split: {language: {mode: summary}}}.")
    by_kind: dict[str, dict[str, Summary]] = Field(
        default_factory=dict, description="{kind: {mode: summary}}: answerable, unanswerable, ...")
    cases: list[CaseResult]
    problems: list[SuiteProblem] = Field(default_factory=list,
                                         description="Suite entries that failed to load.")
    gates: list[GateResult] = Field(default_factory=list)

    def to_json(self) -> dict:
        """The JSON document written by ``--json``."""
        return self.model_dump(mode="json", by_alias=True)
