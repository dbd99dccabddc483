"""The Chroma index: idempotent ingest, replacement, persistence, model mismatch, and a Chroma server."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from assistant import Assistant
from assistant.retrieve.embeddings import Embedder
from assistant.retrieve.store import PassageStore


class CountingEmbedder(Embedder):
    """The real embedder (same model object), counting the documents it embeds."""

    def __init__(self, real: Embedder, fingerprint: str | None = None):
        self.__dict__.update(real.__dict__)
        self.fingerprint = fingerprint or real.fingerprint
        self.documents = 0

    def encode_documents(self, texts):
        self.documents += len(texts)
        return super().encode_documents(texts)


def test_reingest_adds_nothing_and_changed_article_replaces(make_settings, embedder, article_path, tmp_path):
    settings = make_settings()
    counting = CountingEmbedder(embedder)
    assistant = Assistant(settings, embedder=counting)
    passages = assistant.store.count()
    assert passages == 17
    embedded = counting.documents

    report = assistant.ingest([article_path])
    assert report.unchanged == ["assad-putin-sochi"] and not report.added
    assert assistant.store.count() == passages
    assert counting.documents == embedded  # nothing embedded again

    changed = tmp_path / "assad-putin-sochi.ar.txt"
    changed.write_text(article_path.read_text(encoding="utf-8") + "\n\nفقرة جديدة عن منظومة الصواريخ.",
                       encoding="utf-8")
    report = assistant.ingest([changed])
    assert report.replaced == ["assad-putin-sochi"]
    assert assistant.store.count() == passages + 1
    assert [a.id for a in assistant.articles()] == ["assad-putin-sochi"]


def test_new_assistant_finds_the_persisted_index(make_settings, embedder):
    settings = make_settings()
    Assistant(settings, embedder=embedder)
    counting = CountingEmbedder(embedder)
    again = Assistant(settings, embedder=counting)
    assert counting.documents == 0  # nothing re-embedded at start-up
    assert again.store.count() == 17
    assert "لدواع أمنية" in again.ask("لماذا لم يعلن عن الزيارة مسبقا؟").answer


def test_index_of_another_model_is_rebuilt(make_settings, embedder):
    settings = make_settings()
    Assistant(settings, embedder=embedder)
    other = CountingEmbedder(embedder, fingerprint="someone/else@000")
    store = PassageStore(settings, other)
    assert store.count() == 0  # not mixed: emptied, ready to rebuild
    rebuilt = Assistant(settings, embedder=other, store=store)
    assert rebuilt.store.count() == 17
    assert other.documents > 0


def test_second_article_is_searchable_and_listed(make_settings, embedder, tmp_path):
    settings = make_settings()
    assistant = Assistant(settings, embedder=embedder)
    extra = tmp_path / "weather.en.md"
    extra.write_text("# Storm hits Oslo\n\nA heavy storm closed the port of Oslo on Monday, "
                     "the harbour authority said.\n", encoding="utf-8")
    assistant.ingest([extra])
    assert [a.id for a in assistant.articles()] == ["assad-putin-sochi", "weather"]
    answer = assistant.ask("What closed the port of Oslo?")
    assert answer.citations[0].article_id == "weather"
    assert "storm" in answer.answer


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory):
    """A real Chroma server (`chroma run`) on a free loopback port."""
    chroma = Path(sys.executable).with_name("chroma")
    if not chroma.exists():
        chroma = Path(shutil.which("chroma") or "chroma")
    port = free_port()
    path = tmp_path_factory.mktemp("chroma-server")
    proc = subprocess.Popen([str(chroma), "run", "--path", str(path), "--host", "127.0.0.1", "--port",
                             str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                if httpx.get(f"{url}/api/v2/heartbeat", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        else:
            pytest.fail("the Chroma server did not start")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_chroma_server_serves_the_same_answers(chroma_server, make_settings, embedder, assistant):
    remote = Assistant(make_settings(chroma_url=chroma_server), embedder=embedder)
    assert remote.store.count() == assistant.store.count()
    for question in ("Who are the guarantor states of the Astana talks?", "لماذا لم يعلن عن الزيارة مسبقا؟"):
        here, there = assistant.ask(question), remote.ask(question)
        assert there.answer == here.answer
        assert [c.passage_id for c in there.citations] == [c.passage_id for c in here.citations]
    # A second client of the same server finds the index without embedding anything.
    counting = CountingEmbedder(embedder)
    Assistant(make_settings(chroma_url=chroma_server), embedder=counting)
    assert counting.documents == 0


def test_unreachable_chroma_server_is_a_clear_error(make_settings, embedder):
    from assistant import KhabarError

    with pytest.raises(KhabarError, match="cannot reach the Chroma server"):
        Assistant(make_settings(chroma_url=f"http://127.0.0.1:{free_port()}"), embedder=embedder)
