"""The `khabar` command: every subcommand, its errors and exit codes."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

from typer.testing import CliRunner

from assistant import Assistant, cli

runner = CliRunner()




def test_ask_prints_answer_and_sources(assistant, use_assistant):
    use_assistant(assistant)
    result = runner.invoke(cli.app, ["ask", "من هي الدول الضامنة لمحادثات أستانا؟"])
    assert result.exit_code == 0, result.output
    assert "تركيا وروسيا وإيران" in result.output
    assert "[1] assad-putin-sochi#p" in result.output


def test_ask_json_is_the_answer_object(assistant, use_assistant):
    use_assistant(assistant)
    result = runner.invoke(cli.app, ["ask", "--json", "Why was the visit not announced in advance?"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["mode"] == "extractive" and data["language"] == "en"
    assert "لدواع أمنية" in data["citations"][0]["quote"]


def test_ask_rejects_empty_question_and_unknown_mode(assistant, use_assistant):
    use_assistant(assistant)
    result = runner.invoke(cli.app, ["ask", "   "])
    assert result.exit_code == 1
    assert "the question is empty" in result.output
    result = runner.invoke(cli.app, ["ask", "--mode", "poetry", "hello"])
    assert result.exit_code == 2
    assert "unknown mode 'poetry'" in result.output


def test_chat_keeps_history_and_new_resets(assistant, use_assistant):
    use_assistant(assistant)
    script = ("What did the Astana participants agree on?\nWho boycotted them?\n/new\n"
              "Who boycotted them?\n\n")
    result = runner.invoke(cli.app, ["chat"], input=script)
    assert result.exit_code == 0, result.output
    answers = re.findall(r"According to the article|The article does not answer", result.output)
    assert len(answers) == 3
    assert answers[1] == "According to the article"  # the follow-up, answered from history
    assert answers[2] == "The article does not answer"  # after /new the history is gone


def test_ingest_and_articles(make_settings, fake_embedder, use_assistant, tmp_path):
    use_assistant(Assistant(make_settings(), embedder=fake_embedder))
    extra = tmp_path / "note.en.txt"
    extra.write_text("Harbour closed\n\nA storm closed the harbour of Oslo on Monday.\n", encoding="utf-8")
    result = runner.invoke(cli.app, ["ingest", "--json", str(extra)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["added"] == ["note"]
    again = runner.invoke(cli.app, ["ingest", "--json", str(extra)])
    assert json.loads(again.stdout)["unchanged"] == ["note"]
    listing = runner.invoke(cli.app, ["articles"])
    assert [a["id"] for a in json.loads(listing.stdout)] == ["assad-putin-sochi", "note"]


def test_remove_takes_an_article_out_of_answers_and_listing(make_settings, fake_embedder, use_assistant,
                                                            tmp_path):
    instance = Assistant(make_settings(), embedder=fake_embedder)
    use_assistant(instance)
    extra = tmp_path / "note.en.txt"
    extra.write_text("Harbour closed\n\nA storm closed the harbour of Oslo on Monday.\n", encoding="utf-8")
    assert runner.invoke(cli.app, ["ingest", str(extra)]).exit_code == 0
    assert instance.retriever.passages_of("note")  # searched before the removal: its postings are cached
    result = runner.invoke(cli.app, ["remove", "note", "nope"])
    assert result.exit_code == 1
    assert "removed note" in result.output and "no article with id nope" in result.output
    assert [a.id for a in instance.articles()] == ["assad-putin-sochi"]
    assert instance.retriever.passages_of("note") == []
    answer = instance.ask("Why did a storm close the harbour of Oslo?")
    assert all(c.article_id != "note" for c in answer.citations)
    # The default article says it will come back.
    result = runner.invoke(cli.app, ["remove", "assad-putin-sochi"])
    assert result.exit_code == 0 and "indexed again at the next start" in result.output
    assert instance.articles() == []


def test_ingest_missing_file_is_exit_2(tmp_path):
    result = runner.invoke(cli.app, ["ingest", str(tmp_path / "nope.txt")])
    assert result.exit_code == 2
    assert "no such file or folder" in result.output


def test_every_command_has_help():
    for command in ("ask", "chat", "ingest", "fetch-models", "articles", "remove"):
        result = runner.invoke(cli.app, [command, "--help"])
        assert result.exit_code == 0 and "Usage" in result.output


def test_installed_command_answers_in_a_fresh_process(tmp_path):
    """The real entry point, end to end: settings from the environment, index built on first use."""
    khabar = os.path.join(os.path.dirname(sys.executable), "khabar")
    env = {**os.environ, "KHABAR_INDEX_DIR": str(tmp_path / "index"), "KHABAR_DATA_DIR": str(tmp_path)}
    done = subprocess.run([khabar, "ask", "--json", "Why was the visit not announced in advance?"],
                          capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    answer = json.loads(done.stdout)
    assert "لدواع أمنية" in answer["answer"]
    assert (tmp_path / "index" / "chroma.sqlite3").exists()
