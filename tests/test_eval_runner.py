"""The evaluation runner end to end: a SQuAD v2 file and a JSONL suite through the real Assistant (real
embedding model, real Chroma), the `khabar eval` command's outputs, gates and errors, and the shipped suite.

Extractive mode only: generative mode needs the local LLM (minutes per suite on this CPU); the runner
accepts it the same way (`--mode generative`).
"""

from __future__ import annotations

import json
from collections import Counter

import pytest
from typer.testing import CliRunner

from assistant import cli
from assistant.evaluation import command, evaluate, load_suite
from assistant.evaluation.report import write_json, write_report
from assistant.evaluation.results import STABLE_KEYS
from assistant.settings import PROJECT_ROOT

SQUAD_SMALL = PROJECT_ROOT / "tests" / "data" / "squad_v2_small.json"
SHIPPED = PROJECT_ROOT / "data" / "suites" / "article.jsonl"
runner = CliRunner()


def test_shipped_suite_has_the_promised_shape():
    suite = load_suite(SHIPPED)
    assert suite.problems == []
    cases = suite.cases
    languages = Counter(c.expected_language for c in cases)
    kinds = Counter(c.case_kind for c in cases)
    assert len(cases) >= 160
    assert languages["ar"] == languages["en"]
    on_topic = [c for c in cases if not c.answerable and "on-topic" in c.extra_fields().get("tags", [])]
    assert len(on_topic) >= 24
    assert {c.expected_language for c in on_topic} == {"ar", "en"}
    assert kinds["topic-change"] >= 12 and kinds["follow-up"] >= 12
    assert all(c.history for c in cases if c.case_kind in ("topic-change", "follow-up"))
    assert not any(c.history for c in cases if c.case_kind in ("answerable", "unanswerable"))
    questions = " ".join(c.question for c in cases)
    assert "أستانا" in questions and "استانا" in questions  # both spellings are asked
    assert "اين التقى الاسد" in questions  # and a question typed without hamza
    # Every answerable case can be scored on retrieval and on content.
    assert all(c.evidence and c.must_include for c in cases if c.answerable)
    # Evidence snippets are real text of the article (after folding), or every hit would be a miss.
    from assistant.textnorm import fold_for_match

    article = fold_for_match((PROJECT_ROOT / "data" / "articles" / "assad-putin-sochi.ar.txt").read_text())
    assert all(fold_for_match(e) in article for c in cases for e in [*c.evidence, *c.previous_evidence])


def test_shipped_suite_holds_the_issue_examples_and_topic_changes_point_at_the_question_alone():
    cases = {c.id: c for c in load_suite(SHIPPED).cases}
    questions = {c.question: c for c in cases.values() if not c.history}
    for question in ("Why was Assad's visit to Sochi not announced beforehand?",
                     "لماذا لم يعلن عن زيارة الأسد مسبقا؟",
                     "How was the meeting between Putin and Assad described?",
                     "Which round of the Astana talks had just ended before the meeting?"):
        assert questions[question].answerable, question
    for question in ("What did Erdogan say about the meeting?", "ما هو موقف الصين من زيارة الأسد؟",
                     "How many hours did the meeting between Putin and Assad last?"):
        assert not questions[question].answerable, question
    changes = [c for c in cases.values() if c.case_kind == "topic-change"]
    pairs = {(c.history[0].content, c.question) for c in changes}
    assert ("How many warships does Moscow plan to have in the Mediterranean?",
            "Who are the guarantor states of the Astana talks?") in pairs
    assert ("أين التقى الأسد وبوتين؟", "لماذا لم يعلن عن الزيارة مسبقا؟") in pairs
    for case in changes:
        # The expectations of a topic change are those of the same question asked alone, which the suite
        # also holds; and the earlier topic's passage is named so that citing it can be caught.
        alone = cases[case.alone]
        assert alone.question == case.question and not alone.history
        assert (alone.answerable, alone.must_include, alone.evidence) == (
            case.answerable, case.must_include, case.evidence)
        assert case.previous_evidence and not set(case.previous_evidence) & set(case.evidence)


def test_shipped_suite_splits_are_the_seeded_stratified_draw():
    from assistant.evaluation.splits import SPLIT_SEED, assign_splits

    cases = load_suite(SHIPPED).cases
    assert [c.split for c in cases] == [assign_splits(cases, SPLIT_SEED)[c.id] for c in cases]
    # Each half holds half of every (kind, language) stratum, within one case.
    strata = Counter((c.case_kind, c.expected_language, c.split) for c in cases)
    for kind, language, _ in strata:
        assert abs(strata[(kind, language, "tune")] - strata[(kind, language, "held")]) <= 1
    # A different seed draws differently: the split is a draw, not an order of the file.
    assert assign_splits(cases, SPLIT_SEED + 1) != assign_splits(cases, SPLIT_SEED)


@pytest.fixture
def no_model(monkeypatch):
    """Fail the test if the command gets as far as loading the embedding model."""
    monkeypatch.setattr(command, "load_embedder", lambda settings: pytest.fail("model loaded"))


def test_unknown_mode_missing_files_and_bad_gates_are_clear_errors(no_model, tmp_path):
    cases = [
        (["eval", str(SHIPPED), "--mode", "poetry"], "unknown mode 'poetry'"),
        (["eval", str(tmp_path / "missing.jsonl")], "no such suite file"),
        (["eval", str(SHIPPED), "--corpus", str(tmp_path / "missing.txt")], "no such corpus file"),
        (["eval", str(SHIPPED), "--min", "hit@1"], "write METRIC=VALUE"),
        (["eval", str(SHIPPED), "--min", "speed=3"], "unknown metric 'speed'"),
        (["eval", str(SHIPPED), "--mode", "extractive", "--min", "generative:mrr=0.5"], "not run"),
        (["eval", str(SHIPPED), "--k", "0"], "--k must be at least 1"),
        (["eval", str(SHIPPED), "--split", "middle"], "unknown split 'middle'"),
        (["eval", str(SQUAD_SMALL), "--split", "held"], "no case in split 'held'"),
        # Output that could not be written is refused before the run, not after it.
        (["eval", str(SHIPPED), "--json", str(tmp_path)], "is a folder"),
        (["eval", str(SHIPPED), "--report", str(SHIPPED / "report.html")], "is not a folder"),
    ]
    for args, message in cases:
        result = runner.invoke(cli.app, args)
        assert result.exit_code == 2, (args, result.output)
        assert message in " ".join(result.output.split()), (args, result.output)  # rich wraps lines
        assert "Traceback" not in result.output
    empty = tmp_path / "empty.jsonl"
    empty.write_text("{broken\n")
    result = runner.invoke(cli.app, ["eval", str(empty)])
    assert result.exit_code == 2
    assert "line 1: not valid JSON" in result.output and "no valid case" in result.output


def test_squad_v2_file_runs_end_to_end(make_settings, embedder, tmp_path):
    suite = load_suite(SQUAD_SMALL)
    settings = make_settings()
    report = evaluate(suite, settings, modes=["extractive"], k=3, embedder=embedder, show_progress=False)

    assert report.config.collection.startswith("squad_")
    assert report.suite.contexts == 6 and len(report.problems) == 1
    summary = report.summary["extractive"]
    assert summary.cases == 13 and summary.answerable == 10 and summary.unanswerable == 3
    assert report.by_language["ar"]["extractive"].cases == 8
    assert report.by_language["en"]["extractive"].cases == 5
    # Six unrelated paragraphs: each question's own context comes first.
    assert summary.hit_at_1 == 1.0
    # The two off-topic questions are refused; every refusal is of an unanswerable question.
    refused = {r.id for r in report.cases if r.refused}
    assert {"na-japan", "na-telephone"} <= refused
    assert summary.refusal_precision == 1.0 and summary.refusal_recall >= 2 / 3
    # Extractive answers quote whole sentences: they contain the reference but never equal it.
    assert summary.answer_contains_reference >= 0.8
    assert summary.em == 0.0 and 0.0 < summary.f1 < 1.0
    assert summary.language_match == 1.0
    assert summary.throughput_qps > 0 and summary.latency_p95_ms >= summary.latency_p50_ms > 0

    out_json, out_html = tmp_path / "r.json", tmp_path / "r.html"
    write_json(report, out_json)
    write_report(report, out_html)
    data = json.loads(out_json.read_text(encoding="utf-8"))
    assert set(STABLE_KEYS) <= set(data["summary"]["extractive"])
    assert set(STABLE_KEYS) <= set(data["by_language"]["ar"]["extractive"])
    assert len(data["cases"]) == 13
    case = next(c for c in data["cases"] if c["id"] == "nile-length")
    assert "6650" in case["answer"] and case["retrieved"][0]["article_id"] == "ctx0000"
    assert case["passed"] is True and case["reasons"] == []
    page = out_html.read_text(encoding="utf-8")
    assert '<div dir="rtl">كم عدد زوار البتراء سنويا؟</div>' in page or "Failing cases (0)" in page
    assert "hit@1" in page

    # Running the same file again reuses its collection: nothing is embedded twice.
    again = evaluate(suite, settings, modes=["extractive"], k=3, embedder=embedder, show_progress=False)
    assert again.summary["extractive"].hit_at_1 == 1.0


def test_eval_command_reports_malformed_line_writes_outputs_and_gates(assistant, embedder, monkeypatch,
                                                                      tmp_path):
    monkeypatch.setattr(command, "load_settings", lambda: assistant.settings)
    monkeypatch.setattr(command, "load_embedder", lambda settings: embedder)
    suite = tmp_path / "mini.jsonl"
    suite.write_text("\n".join([
        json.dumps({"id": "where", "question": "أين التقى الأسد بوتين؟", "must_include": [["سوتشي"]],
                    "evidence": ["في مدينة سوتشي", "يلتقي بوتين في سوتشي"], "answers": ["سوتشي"],
                    "owner": "desk", "split": "tune"},
                   ensure_ascii=False),
        '{"id": "broken", "question": ',
        json.dumps({"id": "france", "question": "What is the capital of France?", "answerable": False,
                    "split": "held"}),
    ]) + "\n", encoding="utf-8")
    out_json, out_md = tmp_path / "out.json", tmp_path / "out.md"
    result = runner.invoke(cli.app, [
        "eval", str(suite), "--mode", "extractive", "--json", str(out_json), "--report", str(out_md),
        "--quiet", "--min", "hit@1=0.5", "--min", "refusal_recall=1", "--min", "extractive:em=0.5",
    ])
    # EM of a quoted sentence against "سوتشي" is 0: that gate fails the run, the others pass.
    assert result.exit_code == 1, result.output
    assert "line 2: not valid JSON" in result.output
    assert "gate extractive:em >= 0.5: 0 FAILED" in result.output
    assert "gate extractive:hit@1 >= 0.5: 1 ok" in result.output
    data = json.loads(out_json.read_text(encoding="utf-8"))
    assert [c["id"] for c in data["cases"]] == ["where", "france"]
    assert data["problems"][0]["line"] == 2
    assert data["cases"][0]["extra"] == {"owner": "desk"}
    assert data["cases"][0]["line"] == 1 and data["cases"][0]["passed"] is True
    assert data["cases"][1]["refused"] is True
    assert [g["passed"] for g in data["gates"]] == [True, True, False]
    assert data["summary"]["extractive"]["refusal_recall"] == 1.0
    assert "| hit@1 | 1.000 | 1.000 | - |" in out_md.read_text(encoding="utf-8")  # all, tune, held
    assert data["by_split"]["tune"]["extractive"]["cases"] == 1
    assert data["by_split"]["held"]["extractive"]["refusal_recall"] == 1.0
    assert data["config"]["split"] is None

    # One half only; without --quiet and not on a terminal, progress is a count line, not a bar.
    result = runner.invoke(cli.app, ["eval", str(suite), "--mode", "extractive", "--split", "held",
                                     "--json", str(out_json), "--min", "refusal_recall=1"])
    assert result.exit_code == 0, result.output
    assert "extractive: 1/1 questions answered" in result.output
    assert "split held only" in result.output
    data = json.loads(out_json.read_text(encoding="utf-8"))
    assert [c["id"] for c in data["cases"]] == ["france"] and data["config"]["split"] == "held"
    assert data["suite"]["cases"] == 1
