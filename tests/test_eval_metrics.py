"""Metric functions, suite loading and case scoring on hand-made inputs with known values (no model)."""

from __future__ import annotations

import json

import pytest

from assistant.evaluation import metrics as m
from assistant.evaluation.command import Gate, gate_metrics
from assistant.evaluation.report import (
    kind_table,
    language_table,
    markdown_summary,
    summary_table,
    to_html,
    to_markdown,
)
from assistant.evaluation.results import (
    STABLE_KEYS,
    EvalReport,
    RunConfig,
    SuiteInfo,
    breakdowns,
    link_alone,
    score_case,
    summarise,
)
from assistant.evaluation.suites import Case, load_suite, parse_jsonl, parse_squad
from assistant.schemas import Answer, Citation, Passage, ScoredPassage, Span

# --- retrieval ---------------------------------------------------------------------------------------------


def test_hit_at_k_and_mrr_on_known_ranks():
    ranks = [1, 3, None, 2]
    assert m.hit_at_k(ranks, 1) == 0.25
    assert m.hit_at_k(ranks, 2) == 0.5
    assert m.hit_at_k(ranks, 3) == 0.75
    assert m.mean_reciprocal_rank(ranks) == pytest.approx((1 + 1 / 3 + 0 + 1 / 2) / 4)
    assert m.hit_at_k([], 1) is None and m.mean_reciprocal_rank([]) is None


def test_first_hit_rank_and_snippet_match_fold_arabic_spelling():
    passages = ["بوتين يستقبل الأسد", "بعد انتهاء الجولة التاسعة من محادثات أستانا", "نص آخر"]
    # The snippet is written without hamza and with extra spaces; the passage with hamza still matches.
    rank = m.first_hit_rank(passages, lambda p: m.contains_snippet(p, ["محادثات   استانا"]))
    assert rank == 2
    assert m.first_hit_rank(passages, lambda p: m.contains_snippet(p, ["سوتشي"])) is None


# --- answers: EM / F1 with Arabic normalisation ----------------------------------------------------------


def test_normalize_answer_handles_diacritics_hamza_article_and_punctuation():
    assert m.normalize_answer("الرُّوسِيَّة") == "روسيه"
    assert m.normalize_answer("«إيران»،") == m.normalize_answer("ايران")
    assert m.normalize_answer("والأسد؟") == "اسد"
    assert m.normalize_answer("سبتمبر/أيلول") == "سبتمبر ايلول"
    assert m.normalize_answer("The Kremlin!") == "kremlin"
    # A short word starting with the two letters of the article keeps them.
    assert m.normalize_answer("الا") == "الا"


def test_exact_match_and_f1_arabic():
    assert m.exact_match("الدول الضامنة: تركيا، وروسيا، وإيران.", ["دول ضامنه تركيا وروسيا وايران"]) == 1.0
    assert m.exact_match("تركيا", ["تركيا وروسيا وإيران"]) == 0.0
    # "تركيا" is one of three reference tokens: precision 1, recall 1/3, F1 0.5.
    assert m.token_f1("تركيا", ["تركيا وروسيا وإيران"]) == pytest.approx(0.5)
    # Best over references.
    assert m.token_f1("سوتشي", ["موسكو", "في سوتشي"]) == pytest.approx(2 / 3)
    assert m.token_f1("", ["سوتشي"]) == 0.0
    assert m.exact_match("x", []) is None and m.token_f1("x", []) is None


def test_contains_reference_matches_whole_words_only():
    answer = "بحسب المقال [1]: «أجرى لقاء مع نظيره السوري بشار الأسد في مدينة سوتشي»"
    assert m.contains_reference(answer, ["مدينة سوتشي"]) is True
    assert m.contains_reference(answer, ["سوت"]) is False
    assert m.contains_reference(answer, []) is None


def test_missing_groups_needs_every_group_and_any_alternative():
    answer = "الدول الضامنة هي تركيا وروسيا وايران"
    groups = [["Turkey", "تركيا"], ["Russia", "روسيا"], ["Iran", "إيران"]]
    assert m.missing_groups(answer, groups) == []
    assert m.missing_groups("تركيا وروسيا", groups) == [["Iran", "إيران"]]


def test_answer_language_reads_the_prose_not_the_quote():
    english = "According to the article [1] (quoted in Arabic): «الأسد يلتقي بوتين في سوتشي»"
    assert m.answer_language(english, "ar") == "en"
    assert m.answer_language("بحسب المقال [1]: «Putin met Assad»", "en") == "ar"
    assert m.answer_core("بحسب المقال [1]: «أ ب» و[2]: «ج»") == "أ ب ج"


# --- refusals and latency ----------------------------------------------------------------------------------


def test_refusal_precision_and_recall():
    # (answerable, refused): 2 correct refusals, 1 wrong refusal, 1 unanswerable answered.
    pairs = [(False, True), (False, True), (True, True), (False, False), (True, False)]
    precision, recall = m.refusal_precision_recall(pairs)
    assert precision == pytest.approx(2 / 3)
    assert recall == pytest.approx(2 / 3)
    assert m.refusal_precision_recall([(True, False)]) == (None, None)


def test_percentiles():
    values = [10.0, 20.0, 30.0, 40.0, 100.0]
    assert m.percentile(values, 50) == 30.0
    assert m.percentile(values, 95) == pytest.approx(88.0)
    assert m.percentile([], 50) is None


# --- suites ------------------------------------------------------------------------------------------------


def test_jsonl_malformed_lines_are_reported_with_line_numbers_and_skipped():
    text = "\n".join([
        json.dumps({"id": "a", "question": "أين التقى الأسد بوتين؟", "must_include": ["سوتشي"],
                    "tags": ["where"]}, ensure_ascii=False),
        "{not json",
        json.dumps({"id": "b"}),
        "",
        json.dumps([1, 2]),
        json.dumps({"id": "a", "question": "again", "answerable": False}),
    ])
    cases, problems = parse_jsonl(text)
    assert [c.id for c in cases] == ["a", "a@6"]
    assert cases[0].must_include == [["سوتشي"]]  # a bare string is a group of one
    assert cases[0].extra_fields() == {"tags": ["where"]}
    assert cases[0].expected_language == "ar"
    assert [p.line for p in problems] == [2, 3, 5, 6]
    assert "question" in problems[1].message
    assert "duplicate" in problems[3].message


def test_squad_loader_maps_contexts_answers_and_impossible(tmp_path):
    suite = load_suite("tests/data/squad_v2_small.json")
    assert suite.format == "squad"
    assert len(suite.contexts) == 6
    assert len(suite.cases) == 13
    assert [p.where for p in suite.problems] == ["data[0].paragraphs[3].qas[1]"]
    by_id = {c.id: c for c in suite.cases}
    assert by_id["nile-length"].answers == ["6650 كيلومترا"]
    assert by_id["nile-length"].evidence_articles == [suite.contexts[0].id]
    assert by_id["na-japan"].answerable is False and by_id["na-japan"].evidence_articles == []
    # Contexts are titled after their entry, as `khabar ingest` titles them: one entry, one story.
    assert {c.title for c in suite.contexts} == {"khabar-test"}
    with pytest.raises(Exception, match="not a SQuAD file"):
        parse_squad(json.dumps({"version": "x"}))
    bad = tmp_path / "suite.txt"
    bad.write_text("x")
    with pytest.raises(Exception, match="unknown suite format"):
        load_suite(bad)


def test_gate_parsing():
    metrics = gate_metrics()
    assert set(STABLE_KEYS) <= metrics
    gate = Gate("extractive:hit@1=0.75", metrics)
    assert (gate.mode, gate.metric, gate.minimum) == ("extractive", "hit@1", 0.75)
    assert Gate("mrr=0.5", metrics).mode is None
    for spec in ("hit@1", "nope=1", "hit@1=high"):
        with pytest.raises(ValueError):
            Gate(spec, metrics)


# --- scoring one answer ------------------------------------------------------------------------------------


def _scored(pid: str, text: str, dense: float) -> ScoredPassage:
    passage = Passage(id=f"art#{pid}", article_id="art", index=0, role="body", text=text,
                      span=Span(start=0, end=len(text)))
    return ScoredPassage(passage=passage, score=dense, dense_score=dense)


def _citation(n: int, scored: ScoredPassage) -> Citation:
    p = scored.passage
    return Citation(n=n, passage_id=p.id, article_id=p.article_id, text=p.text, span=p.span, quote=p.text,
                    passage_span=p.span, score=scored.score)


GUARANTORS = "تحت رعاية الدول الضامنة وهي تركيا وروسيا وإيران"


def _answer(question: str, text: str, mode: str, retrieved: list[ScoredPassage], cited: list[ScoredPassage],
            language: str = "ar") -> Answer:
    return Answer(question=question, answer=text, language=language, mode=mode, retrieved=retrieved,
                  citations=[_citation(n, s) for n, s in enumerate(cited, 1)],
                  timings={"embed": 10.0, "retrieve": 2.0, "total": 15.0})


def test_score_case_answerable_passes_and_measures_everything():
    other, evidence = _scored("p1", "موسكو تحاول فك عزلة الأسد", 0.5), _scored("p8", GUARANTORS, 0.6)
    case = Case(id="g", question="من هي الدول الضامنة لمحادثات أستانا؟", evidence=["الدول الضامنة وهي تركيا"],
                must_include=[["تركيا"], ["روسيا"], ["إيران"]], answers=["تركيا وروسيا وإيران"])
    answer = _answer(case.question, f"بحسب المقال [1]: «{GUARANTORS}»", "extractive", [other, evidence],
                     [evidence])
    r = score_case(case, answer, "extractive", k=5)
    assert r.passed, r.reasons
    assert r.evidence_rank == 2
    assert r.citation_precision == 1.0 and r.citations_in_retrieved is True
    assert r.must_include_ok is True and r.contains_reference is True
    assert r.em == 0.0 and 0 < r.f1 < 1
    assert r.language_match is True


def test_the_answering_words_are_scored_apart_from_the_answer():
    evidence = _scored("p8", GUARANTORS, 0.6)
    case = Case(id="g", question="من هي الدول الضامنة؟", must_include=[["تركيا"], ["إيران"]])
    answer = _answer(case.question, f"بحسب المقال [1]: «{GUARANTORS}»", "extractive", [evidence], [evidence])
    assert score_case(case, answer, "extractive", k=5).answering_words_ok is True
    # The whole sentence is quoted, but the highlighted words stop before the list.
    answer.citations[0].quote = "تحت رعاية الدول الضامنة وهي تركيا"
    r = score_case(case, answer, "extractive", k=5)
    assert r.must_include_ok is True and r.answering_words_ok is False
    refusal = _answer(case.question, "لا يجيب المقال عن هذا السؤال.", "not_found", [evidence], [])
    results = [r, score_case(case, refusal, "extractive", k=5)]
    assert results[1].answering_words_ok is False
    assert summarise(results).answering_words_accuracy == 0.0
    assert summarise(results[:1]).must_include_accuracy == 1.0


def test_score_case_failures_have_reasons():
    evidence = _scored("p8", GUARANTORS, 0.6)
    unrelated = _scored("p3", "موسكو تحاول فك عزلة الأسد", 0.5)
    case = Case(id="g", question="Who are the guarantor states?", evidence=["الدول الضامنة"],
                must_include=[["Turkey", "تركيا"]])
    # Cites a passage that was not retrieved and that holds no evidence, and misses the required name.
    answer = _answer(case.question, "According to the article [1] (quoted in Arabic): «موسكو تحاول»",
                     "extractive", [evidence], [unrelated], language="en")
    r = score_case(case, answer, "extractive", k=5)
    assert not r.passed
    assert any("lacks: Turkey / تركيا" in x for x in r.reasons)
    assert "cites a passage that was not retrieved" in r.reasons
    assert "no cited passage contains the evidence" in r.reasons

    refusal = _answer(case.question, "The article does not answer this question.", "not_found",
                      [evidence], [], language="en")
    r = score_case(case, refusal, "extractive", k=5)
    assert r.refused and not r.passed and r.reasons[0].startswith("refused an answerable question")
    assert r.em is None and r.must_include_ok is False

    unanswerable = Case(id="na", question="What is the capital of France?", answerable=False)
    assert score_case(unanswerable, refusal, "extractive", k=5).passed
    answered = _answer(unanswerable.question, "According to the article [1] (quoted in Arabic): «نص»",
                       "extractive", [evidence], [evidence], language="en")
    assert score_case(unanswerable, answered, "extractive", k=5).reasons == [
        "answered a question the article does not answer"]


def _report(results, modes, split=None) -> EvalReport:
    link_alone(results)
    summary = {mode: summarise([r for r in results if r.mode == mode], wall_seconds=2.0) for mode in modes}
    return EvalReport(
        suite=SuiteInfo(name="s.jsonl", path="s.jsonl", format="jsonl", sha256="0" * 64, cases=2),
        config=RunConfig(modes=modes, split=split, k=5, collection="c", corpus=[], not_found_threshold=0.32,
                         max_lexical_weight=0.7, embedding_model="e", llm_model="l"),
        started_at="now", setup_seconds=0.0, wall_seconds={mode: 2.0 for mode in modes}, summary=summary,
        **breakdowns(results, modes), cases=results)


def test_summary_keys_and_side_by_side_modes():
    evidence = _scored("p8", GUARANTORS, 0.6)
    case = Case(id="g", question="من هي الدول الضامنة؟", evidence=["الدول الضامنة"])
    na = Case(id="na", question="ما هي عاصمة فرنسا؟", answerable=False)
    good = _answer(case.question, f"بحسب المقال [1]: «{GUARANTORS}»", "extractive", [evidence], [evidence])
    refusal = _answer(na.question, "لا يجيب المقال عن هذا السؤال.", "not_found", [evidence], [])
    results = [score_case(case, good, "extractive", 5), score_case(na, refusal, "extractive", 5),
               score_case(case, refusal, "generative", 5), score_case(na, good, "generative", 5)]
    report = _report(results, ["extractive", "generative"])
    data = report.to_json()
    assert set(STABLE_KEYS) <= set(data["summary"]["extractive"])
    ext, gen = data["summary"]["extractive"], data["summary"]["generative"]
    assert (ext["hit@1"], ext["refusal_precision"], ext["refusal_recall"]) == (1, 1, 1)
    assert ext["throughput_qps"] == 1.0  # 2 cases in 2 s
    assert (gen["refusal_precision"], gen["refusal_recall"], gen["must_include_accuracy"]) == (0, 0, None)
    assert ext["latency_p50_ms"] == 15.0 and ext["latency_by_stage_ms"]["embed"]["p95"] == 10.0
    assert data["by_language"]["ar"]["generative"]["cases"] == 2
    assert ext["answer_modes"] == {"extractive": 1, "not_found": 1}
    assert "has_evidence" not in data["cases"][0]
    table = summary_table(report)
    assert [c.header for c in table.columns] == ["metric", "extractive", "generative"]
    assert "| metric | extractive | generative |" in markdown_summary(report)
    page = to_html(report)
    assert 'dir="rtl"' in page and "من هي الدول الضامنة؟" in page
    assert "Failing cases (2)" in page


# --- halves, kinds and topic changes ----------------------------------------------------------------------

WHY = "ويأتي اللقاء الذي لم يعلن عنه مسبقا لدواع أمنية على ما يبدو"
SHIPS = "تخطط موسكو لبلوغ عدد هذه السفن الحربية نحو 102 سفينة لحماية سوريا"


def test_case_kind_is_declared_or_derived():
    history = [{"role": "user", "content": "أين التقى الأسد بوتين؟"},
               {"role": "assistant", "content": "في سوتشي"}]
    assert Case(id="a", question="q").case_kind == "answerable"
    assert Case(id="b", question="q", answerable=False).case_kind == "unanswerable"
    assert Case(id="c", question="q", history=history).case_kind == "follow-up"
    assert Case(id="d", question="q", history=history, kind="topic-change").case_kind == "topic-change"
    cases, problems = parse_jsonl('{"id": "x", "question": "q", "split": "middle"}\n')
    assert cases == [] and "split" in problems[0].message


def test_declared_kind_sets_answerable_and_a_contradiction_is_a_problem():
    # A line with kind "unanswerable" and no "answerable" was once scored as answerable: every correct
    # refusal counted as a wrongly refused question.
    text = ('{"id": "u", "question": "كم استمر اللقاء؟", "kind": "unanswerable"}\n'
            '{"id": "v", "question": "q", "kind": "unanswerable", "answerable": true}\n'
            '{"id": "w", "question": "q", "kind": "answerable", "answerable": false}\n')
    cases, problems = parse_jsonl(text)
    assert [c.id for c in cases] == ["u"]
    assert cases[0].answerable is False and cases[0].case_kind == "unanswerable"
    assert [p.line for p in problems] == [2, 3]
    assert all("contradicts" in p.message for p in problems)


def _topic_change(cited: ScoredPassage, *, refused: bool = False):
    why, ships = _scored("p3", WHY, 0.6), _scored("p6", SHIPS, 0.5)
    case = Case(id="tc", question="لماذا لم يعلن عن الزيارة مسبقا؟", kind="topic-change", alone="alone",
                history=[{"role": "user", "content": "كم عدد السفن الحربية؟"},
                         {"role": "assistant", "content": "نحو 102 سفينة."}],
                must_include=[["أمنية"]], evidence=["لم يعلن عنه مسبقا لدواع أمنية"],
                previous_evidence=["نحو 102 سفينة"], split="held")
    if refused:
        answer = _answer(case.question, "لا يجيب المقال عن هذا السؤال.", "not_found", [ships, why], [])
    else:
        answer = _answer(case.question, f"بحسب المقال [1]: «{cited.passage.text}»", "extractive",
                         [ships, why], [cited])
    return case, answer


def test_topic_change_answered_with_the_old_topic_fails_as_alone():
    case, stale = _topic_change(_scored("p6", SHIPS, 0.5))
    r = score_case(case, stale, "extractive", k=5)
    assert r.kind == "topic-change" and r.split == "held"
    assert r.cites_previous_topic is True and r.as_alone is False and not r.passed
    assert any("earlier topic" in reason for reason in r.reasons)
    case, fresh = _topic_change(_scored("p3", WHY, 0.6))
    r = score_case(case, fresh, "extractive", k=5)
    assert r.cites_previous_topic is False and r.as_alone is True and r.passed, r.reasons
    case, refusal = _topic_change(_scored("p3", WHY, 0.6), refused=True)
    assert score_case(case, refusal, "extractive", k=5).as_alone is False
    # Only topic changes are measured this way.
    alone = Case(id="alone", question=case.question, must_include=[["أمنية"]], evidence=case.evidence)
    assert score_case(alone, fresh, "extractive", k=5).as_alone is None


def test_same_as_alone_compares_the_first_citation_of_the_alone_case_in_the_same_mode():
    case, stale = _topic_change(_scored("p6", SHIPS, 0.5))
    _, fresh = _topic_change(_scored("p3", WHY, 0.6))
    alone = Case(id="alone", question=case.question, must_include=[["أمنية"]], evidence=case.evidence)
    results = [score_case(case, stale, "extractive", 5), score_case(alone, fresh, "extractive", 5),
               score_case(case, fresh, "generative", 5), score_case(alone, fresh, "generative", 5)]
    link_alone(results)
    assert [r.same_as_alone for r in results] == [False, None, True, None]
    lonely = score_case(case, fresh, "extractive", 5)
    link_alone([lonely])  # the alone case is not in this run (e.g. the other half)
    assert lonely.same_as_alone is None


def test_halves_and_kinds_are_reported_side_by_side():
    evidence = _scored("p8", GUARANTORS, 0.6)
    good = _answer("من هي الدول الضامنة؟", f"بحسب المقال [1]: «{GUARANTORS}»", "extractive", [evidence],
                   [evidence])
    refusal = _answer("ما هي عاصمة فرنسا؟", "لا يجيب المقال عن هذا السؤال.", "not_found", [evidence], [])
    tune_ok = Case(id="t1", question="من هي الدول الضامنة؟", evidence=["الدول الضامنة"], split="tune",
                   must_include=[["تركيا"]])
    held_bad = Case(id="h1", question="ما الدول الضامنة لمحادثات أستانا؟", evidence=["الدول الضامنة"],
                    split="held", must_include=[["تركيا"]])
    held_na = Case(id="h2", question="ما هي عاصمة فرنسا؟", answerable=False, split="held")
    case, stale = _topic_change(_scored("p6", SHIPS, 0.5))
    results = [score_case(tune_ok, good, "extractive", 5), score_case(held_bad, refusal, "extractive", 5),
               score_case(held_na, refusal, "extractive", 5), score_case(case, stale, "extractive", 5)]
    report = _report(results, ["extractive"])
    data = report.to_json()
    assert data["summary"]["extractive"]["must_include_accuracy"] == 0.3333  # t1 yes; h1 refused; tc stale
    assert data["by_split"]["tune"]["extractive"]["must_include_accuracy"] == 1.0
    assert data["by_split"]["held"]["extractive"]["must_include_accuracy"] == 0.0
    assert data["by_split"]["held"]["extractive"]["refusal_precision"] == 0.5
    assert data["by_split"]["held"]["extractive"]["topic_change_as_alone"] == 0.0
    assert data["by_split_language"]["held"]["ar"]["extractive"]["cases"] == 3
    assert set(data["by_kind"]) == {"answerable", "unanswerable", "topic-change"}
    assert data["by_kind"]["unanswerable"]["extractive"]["refusal_recall"] == 1.0
    assert data["summary"]["extractive"]["topic_change_as_alone"] == 0.0
    assert [c.header for c in summary_table(report).columns] == [
        "metric", "extractive all", "extractive tune", "extractive held"]
    assert [c.header for c in language_table(report).columns] == [
        "metric", "ar extractive all", "ar extractive tune", "ar extractive held"]
    assert [c.header for c in kind_table(report).columns] == [
        "metric", "answerable", "unanswerable", "topic-change"]
    assert "| metric | extractive all | extractive tune | extractive held |" in markdown_summary(report)
    assert "## Per kind of case" in to_markdown(report)
    page = to_html(report)
    assert "<th>extractive held</th>" in page and "<th>topic-change</th>" in page
    assert "topic_change_as_alone" in page

    # One half only (--split held): no tune column, and the title says so.
    held = [r for r in results if r.split == "held"]
    only = _report(held, ["extractive"], split="held")
    assert [c.header for c in summary_table(only).columns] == ["metric", "extractive held"]
    assert "split held only" in str(summary_table(only).title)


def test_a_reference_in_the_top_passage_and_in_the_answering_words_are_scored():
    top = _scored("p8", GUARANTORS, 0.6)
    other = _scored("p2", "وصل الرئيس السوري إلى سوتشي.", 0.5)
    case = Case(id="g", question="من هي الدول الضامنة؟", answers=["تركيا وروسيا وإيران"])
    answer = _answer(case.question, f"بحسب المقال [1]: «{GUARANTORS}»", "extractive", [top, other], [top])
    r = score_case(case, answer, "extractive", k=5)
    assert r.top_passage_contains_reference is True and r.answering_words_contain_reference is True
    # The highlighted words stop before the list; the top passage still holds it.
    answer.citations[0].quote = "تحت رعاية الدول الضامنة وهي تركيا"
    words_miss = score_case(case, answer, "extractive", k=5)
    assert words_miss.answering_words_contain_reference is False
    # Another passage first: retrieval missed, whatever is quoted.
    answer = _answer(case.question, "بحسب المقال [1]: «وصل الرئيس السوري إلى سوتشي.»", "extractive",
                     [other, top], [other])
    retrieval_miss = score_case(case, answer, "extractive", k=5)
    assert retrieval_miss.top_passage_contains_reference is False
    refused = _answer(case.question, "لا يجيب المقال عن هذا السؤال.", "not_found", [top], [])
    refusal = score_case(case, refused, "extractive", k=5)
    assert refusal.top_passage_contains_reference is True
    assert refusal.answering_words_contain_reference is False
    summary = summarise([r, words_miss, retrieval_miss, refusal])
    assert summary.top_passage_contains_reference == 0.75
    assert summary.answering_words_contain_reference == 0.25
    # Cases without reference answers do not count.
    assert summarise([score_case(Case(id="n", question="?"), answer, "extractive", k=5)]
                     ).top_passage_contains_reference is None
