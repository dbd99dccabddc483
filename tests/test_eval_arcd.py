"""bench/arcd.py: ARCD is read from ../shared/data (never from the repository), skipped cleanly when absent,
and run once per ranking of ``assistant.settings.RANKINGS`` (here on the small SQuAD file, real model)."""

from __future__ import annotations

import json

import pytest

from assistant.settings import PROJECT_ROOT, RANKINGS
from tests.conftest import load_script

SQUAD_SMALL = PROJECT_ROOT / "tests" / "data" / "squad_v2_small.json"


@pytest.fixture(scope="module")
def arcd():
    return load_script("bench/arcd.py", "bench_arcd")


def test_the_data_is_looked_for_next_to_the_repository_or_where_the_env_says(arcd, monkeypatch, tmp_path):
    monkeypatch.delenv(arcd.PATH_ENV, raising=False)
    assert arcd.arcd_path() == PROJECT_ROOT.parent / "shared" / "data" / "arcd-train.json"
    monkeypatch.setenv(arcd.PATH_ENV, str(tmp_path / "arcd.json"))
    assert arcd.arcd_path() == tmp_path / "arcd.json"
    assert not list(PROJECT_ROOT.rglob("arcd-train.json"))  # never copied into the repository


def test_missing_arcd_is_a_clean_skip_before_any_model_loads(arcd, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv(arcd.PATH_ENV, str(tmp_path / "shared" / "data" / "arcd-train.json"))
    monkeypatch.setattr(arcd, "Embedder", lambda *a, **k: pytest.fail("the model was loaded"))
    monkeypatch.setattr(arcd, "get_settings", lambda: pytest.fail("settings were read"))
    assert arcd.main(["--json", str(tmp_path / "out.json")]) == 0
    out = capsys.readouterr()
    assert "ARCD skipped" in out.out and "arcd-train.json not found" in out.out
    assert "Traceback" not in out.out + out.err
    assert not (tmp_path / "out.json").exists()


def test_every_ranking_is_reported_on_a_squad_file(arcd, monkeypatch, tmp_path, make_settings, embedder,
                                                   capsys):
    monkeypatch.setenv(arcd.PATH_ENV, str(SQUAD_SMALL))
    out_json = tmp_path / "arcd.json"
    assert arcd.main(["--json", str(out_json), "--quiet"], settings=make_settings(), embedder=embedder) == 0
    result = json.loads(out_json.read_text(encoding="utf-8"))
    assert list(result["rankings"]) == list(RANKINGS)
    for summary in result["rankings"].values():
        assert summary["cases"] == 13 and summary["hit@1"] == 1.0  # six unrelated paragraphs
        assert 0 < summary["answer_contains_reference"] <= 1 and 0 <= summary["refused"] < 1
        assert 0 < summary["top_passage_contains_reference"] <= 1
        assert 0 <= summary["answering_words_contain_reference"] <= summary["answer_contains_reference"]
    printed = capsys.readouterr().out
    assert "| metric | " + " | ".join(RANKINGS) + " |" in printed and "| hit@1 |" in printed
    # A quick run on the first paragraphs keeps only their questions.
    small = arcd.first_paragraphs(arcd.load_suite(SQUAD_SMALL), 2)
    assert len(small.contexts) == 2 and small.cases
    assert all(set(c.evidence_articles) <= {a.id for a in small.contexts} for c in small.cases)
    assert arcd.main(["--rankings", "bm25"]) == 2  # a ranking the settings do not know


def test_translated_questions_replace_only_the_questions_they_name(arcd, tmp_path):
    suite = arcd.load_suite(SQUAD_SMALL)
    path = tmp_path / "en.jsonl"
    path.write_text('{"id": "nile-length", "question": "How long is the Nile?"}\n\n'
                    '{"id": "nile-mouth", "question": "Where does the Nile flow into the sea?"}\n',
                    encoding="utf-8")
    translations = arcd.read_translations(path)
    english = arcd.translated(suite, translations)
    assert [(c.id, c.question) for c in english.cases] == [
        ("nile-length", "How long is the Nile?"), ("nile-mouth", "Where does the Nile flow into the sea?")]
    assert english.cases[0].answers == ["6650 كيلومترا"]  # the Arabic references stay
    assert english.contexts == suite.contexts and english.sha256 == suite.sha256  # the same collection
    arabic = arcd.translated(suite, translations, original=True)
    assert [c.question for c in arabic.cases] == ["كم يبلغ طول نهر النيل؟", "أين يصب نهر النيل؟"]
    with pytest.raises(ValueError, match="not questions of"):
        arcd.translated(suite, {"no-such-id": "Why?"})
    for text, problem in [('{"id": "nile-length", "question": " "}', "no question"),
                          ('{"question": "How long?"}', "no id"),
                          ('{"id": "a", "question": "Why?"}\n{"id": "a", "question": "How?"}',
                           "id a is translated twice")]:
        path.write_text(text + "\n", encoding="utf-8")
        with pytest.raises(ValueError, match=problem):
            arcd.read_translations(path)


def test_original_without_translations_is_a_usage_error(arcd, capsys):
    with pytest.raises(SystemExit) as exit_:
        arcd.main(["--original"])
    assert exit_.value.code == 2 and "give --translations too" in capsys.readouterr().err


def test_a_translated_run_asks_only_the_translated_questions(arcd, monkeypatch, tmp_path, make_settings,
                                                             embedder):
    monkeypatch.setenv(arcd.PATH_ENV, str(SQUAD_SMALL))
    path = tmp_path / "en.jsonl"
    path.write_text('{"id": "nile-length", "question": "How long is the Nile river?"}\n', encoding="utf-8")
    out_json = tmp_path / "arcd.json"
    assert arcd.main(["--translations", str(path), "--rankings", "sentence", "--json", str(out_json),
                      "--quiet"], settings=make_settings(), embedder=embedder) == 0
    result = json.loads(out_json.read_text(encoding="utf-8"))
    assert result["questions_asked"] == "translated"
    summary = result["rankings"]["sentence"]
    assert summary["cases"] == 1 and summary["hit@1"] == 1.0
