"""`khabar ingest DIR`: folders, JSONL and SQuAD bulk files, skipped files, resuming, the report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assistant import Assistant, cli
from assistant.ingest import indexer
from assistant.ingest.sources import collect

runner = CliRunner()

HARBOUR = ("إغلاق ميناء الإسكندرية\n\n"
           "أغلقت السلطات ميناء الإسكندرية يوم الاثنين بسبب عاصفة قوية ضربت الساحل.\n")
BOOKS = "# معرض القاهرة للكتاب\n\nافتتح **معرض القاهرة الدولي للكتاب** دورته الجديدة بمشاركة ألف ناشر.\n"
ELECTION = ("<html><head><title>انتخابات بلدية في تونس</title></head><body>"
            "<p>جرت الانتخابات البلدية في تونس يوم الأحد وسط إقبال ضعيف.</p>"
            "<script>track()</script></body></html>")
FEED = [
    {"id": "rain 1", "title": "أمطار غزيرة في عمّان",
     "text": "هطلت أمطار غزيرة على العاصمة الأردنية عمّان مساء الخميس وأغلقت عدة طرق رئيسية."},
    {"title": "قمة اقتصادية في الرياض",
     "content": "انعقدت في الرياض قمة اقتصادية عربية لبحث التجارة البينية."},
]
SQUAD = {"version": "1.1", "data": [{"title": "نهر_النيل", "paragraphs": [
    {"context": "نهر النيل أطول أنهار أفريقيا، ويجري من الجنوب إلى الشمال حتى البحر المتوسط.", "qas": []},
    {"context": "يمر نهر النيل بإحدى عشرة دولة، ويصب في البحر المتوسط عند دلتا مصر.", "qas": []},
]}]}


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """A folder of every supported kind (Arabic content), a nested folder, junk and a hidden file."""
    root = tmp_path / "corpus"
    (root / "nested" / "deeper").mkdir(parents=True)
    (root / "nested" / "deeper" / "harbour.ar.txt").write_text(HARBOUR, encoding="utf-8")
    (root / "books.md").write_text(BOOKS, encoding="utf-8")
    (root / "nested" / "election.html").write_text(ELECTION, encoding="utf-8")
    lines = [json.dumps(r, ensure_ascii=False) for r in FEED] + ["{not json", json.dumps({"id": "x"})]
    (root / "feed.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (root / "arcd.json").write_text(json.dumps(SQUAD, ensure_ascii=False), encoding="utf-8")
    (root / "scan.pdf").write_bytes(b"%PDF-1.4 binary")
    (root / "empty.txt").write_text("  \n", encoding="utf-8")
    (root / ".draft.txt").write_text("مسودة لا تنشر", encoding="utf-8")
    return root




EXPECTED_IDS = {"harbour", "books", "election", "rain-1", "feed-2", "arcd-0-0", "arcd-0-1"}


def _ingest(*args: str) -> dict:
    result = runner.invoke(cli.app, ["ingest", "--json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_collect_reads_every_kind_and_notes_what_it_skips(corpus):
    found = collect([corpus])
    by_id = {a.id: a for a in found.articles}
    assert set(by_id) == EXPECTED_IDS
    assert by_id["harbour"].title == "إغلاق ميناء الإسكندرية"
    assert by_id["books"].title == "معرض القاهرة للكتاب"  # the Markdown heading mark is gone
    assert "track()" not in by_id["election"].text
    # A JSONL title becomes the title line; the id is cleaned of spaces; `content` is accepted for `text`.
    assert by_id["rain-1"].title == "أمطار غزيرة في عمّان"
    assert by_id["rain-1"].text.startswith("أمطار غزيرة في عمّان\n\nهطلت")
    assert by_id["feed-2"].source == "feed.jsonl:2"
    assert "الرياض" in by_id["feed-2"].text
    # SQuAD: each paragraph is an article titled after its entry, its text the context alone.
    assert by_id["arcd-0-1"].title == "نهر النيل"
    assert by_id["arcd-0-1"].text == SQUAD["data"][0]["paragraphs"][1]["context"]
    reasons = {Path(s.source).name: s.reason for s in found.skipped}
    assert reasons.keys() == {"feed.jsonl:3", "feed.jsonl:4", "scan.pdf", "empty.txt"}
    assert reasons["scan.pdf"].startswith("unsupported file type")
    assert reasons["feed.jsonl:3"].startswith("not valid JSON")
    assert reasons["feed.jsonl:4"].startswith("no text")
    assert reasons["empty.txt"] == "no text"
    assert not any(".draft" in s.source for s in found.skipped)  # hidden files are left out silently


def test_same_id_twice_keeps_the_first_and_notes_the_second(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "note.txt").write_text("خبر أول\n\nنص الخبر الأول.", encoding="utf-8")
    (tmp_path / "b" / "note.md").write_text("خبر ثان\n\nنص الخبر الثاني.", encoding="utf-8")
    found = collect([tmp_path])
    assert [a.title for a in found.articles] == ["خبر أول"]
    # Both named as every other skip note names a file: by its path as given.
    assert len(found.skipped) == 1 and found.skipped[0].source == str(tmp_path / "b" / "note.md")
    assert f"already given by {tmp_path / 'a' / 'note.txt'}" in found.skipped[0].reason
    # A file given alone and inside its folder is one file, read once: no duplicate to report.
    again = collect([tmp_path / "a", tmp_path / "a" / "note.txt"])
    assert len(again.articles) == 1 and again.skipped == []
    # A SQuAD paragraph given twice is named by its path too.
    squad = {"data": [{"title": "t", "paragraphs": [{"context": "نص الفقرة.", "qas": []}]}]}
    for folder in ("c", "d"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "s.json").write_text(json.dumps(squad, ensure_ascii=False), encoding="utf-8")
    twice = collect([tmp_path / "c", tmp_path / "d"])
    assert [s.source for s in twice.skipped] == [str(tmp_path / "d" / "s.json#data[0].paragraphs[0]")]
    assert str(tmp_path / "c" / "s.json#data[0].paragraphs[0]") in twice.skipped[0].reason


def test_ingest_with_no_article_in_the_paths_fails(tmp_path):
    (tmp_path / "empty.txt").write_text("  \n", encoding="utf-8")
    result = CliRunner().invoke(cli.app, ["ingest", str(tmp_path / "empty.txt")])
    assert result.exit_code == 1
    assert "no text" in result.output and "no article found" in result.output


def test_ingest_dir_adds_then_skips_unchanged_and_replaces_changed(make_settings, fake_embedder,
                                                                   use_assistant, corpus):
    use_assistant(Assistant(make_settings(corpus=[]), embedder=fake_embedder))
    first = _ingest(str(corpus))
    assert set(first["added"]) == EXPECTED_IDS and first["unchanged"] == first["replaced"] == []
    assert len(first["skipped"]) == 4
    embedded = fake_embedder.documents

    second = _ingest(str(corpus))
    assert set(second["unchanged"]) == EXPECTED_IDS and second["added"] == second["replaced"] == []
    assert fake_embedder.documents == embedded  # nothing embedded again

    (corpus / "books.md").write_text(BOOKS + "\nوتستمر الدورة عشرة أيام.\n", encoding="utf-8")
    (corpus / "nested" / "weather.txt").write_text("طقس بارد\n\nموجة برد تضرب بلاد الشام.", encoding="utf-8")
    third = _ingest(str(corpus))
    assert third["replaced"] == ["books"] and third["added"] == ["weather"]
    assert set(third["unchanged"]) == EXPECTED_IDS - {"books"}


def test_plain_report_counts_each_outcome(make_settings, fake_embedder, use_assistant, corpus):
    use_assistant(Assistant(make_settings(corpus=[]), embedder=fake_embedder))
    result = runner.invoke(cli.app, ["ingest", str(corpus)])
    assert result.exit_code == 0, result.output
    assert "added 7, unchanged 0, replaced 0, skipped 4" in result.stdout
    assert "scan.pdf: unsupported file type" in result.stdout


def test_an_interrupted_ingest_run_again_does_the_rest(make_settings, fake_embedder, use_assistant, corpus,
                                                       monkeypatch):
    settings = make_settings(corpus=[])
    monkeypatch.setattr(indexer, "BATCH_TEXTS", 1)  # one article per embedding call: a point to stop between

    class StopsAfterThreeCalls(type(fake_embedder)):
        calls = 0

        def encode_documents(self, texts):
            type(self).calls += 1
            if self.calls > 3:
                raise KeyboardInterrupt
            return super().encode_documents(texts)

    use_assistant(Assistant(settings, embedder=StopsAfterThreeCalls()))
    stopped = runner.invoke(cli.app, ["ingest", str(corpus)])
    assert stopped.exit_code == 130
    assert "run the same command again" in stopped.output

    use_assistant(Assistant(settings, embedder=fake_embedder))
    rest = _ingest(str(corpus))
    assert len(rest["unchanged"]) == 3 and len(rest["added"]) == len(EXPECTED_IDS) - 3
    assert set(rest["unchanged"]) | set(rest["added"]) == EXPECTED_IDS


def test_missing_path_is_exit_2(tmp_path):
    result = runner.invoke(cli.app, ["ingest", str(tmp_path / "nowhere")])
    assert result.exit_code == 2 and "no such file or folder" in result.output


def test_a_folder_ingested_with_the_real_model_answers_from_its_articles(make_settings, embedder,
                                                                         use_assistant, corpus):
    assistant = use_assistant(Assistant(make_settings(corpus=[]), embedder=embedder))
    assert set(_ingest(str(corpus))["added"]) == EXPECTED_IDS
    answer = assistant.ask("متى هطلت الأمطار على عمّان؟")
    assert answer.mode == "extractive"
    assert answer.citations[0].article_id == "rain-1"
    assert "الخميس" in answer.answer
    nile = assistant.ask("أين يصب نهر النيل؟")
    assert nile.citations[0].article_id in {"arcd-0-0", "arcd-0-1"}
    assert "البحر المتوسط" in nile.answer


def test_a_jsonl_title_with_an_empty_text_is_no_article(tmp_path):
    feed = tmp_path / "feed.jsonl"
    feed.write_text(json.dumps({"id": "t", "title": "عنوان بلا نص", "text": "  "}, ensure_ascii=False) + "\n",
                    encoding="utf-8")
    found = collect([feed])
    assert found.articles == []
    assert [s.reason for s in found.skipped] == ["no text (one of text, content, body)"]
