"""The Chroma index: idempotent ingest, replacement, persistence, model mismatch, and a Chroma server."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from api_support import free_port

from assistant import Assistant
from assistant.retrieve.embeddings import Embedder
from assistant.retrieve.store import ChromaIndex


class CountingEmbedder(Embedder):
    """The real embedder (same model object), counting the documents it embeds."""

    def __init__(self, real: Embedder, fingerprint: str | None = None):
        self.__dict__.update(real.__dict__)
        self.fingerprint = fingerprint or real.fingerprint
        self.documents = 0

    def encode_documents(self, texts):
        self.documents += len(texts)
        return super().encode_documents(texts)


# --- bookkeeping, with the fake embedder --------------------------------------------------------------------
def test_reingest_adds_nothing_and_changed_article_replaces(make_settings, fake_embedder, article_path,
                                                            tmp_path):
    assistant = Assistant(make_settings(), embedder=fake_embedder)
    passages = assistant.store.count()
    assert passages == 17
    embedded = fake_embedder.documents

    report = assistant.ingest([article_path])
    assert report.unchanged == ["assad-putin-sochi"] and not report.added
    assert assistant.store.count() == passages
    assert fake_embedder.documents == embedded  # nothing embedded again

    changed = tmp_path / "assad-putin-sochi.ar.txt"
    changed.write_text(article_path.read_text(encoding="utf-8") + "\n\nفقرة جديدة عن منظومة الصواريخ.",
                       encoding="utf-8")
    report = assistant.ingest([changed])
    assert report.replaced == ["assad-putin-sochi"]
    assert assistant.store.count() == passages + 1
    assert len(assistant.store.all_passages()) == passages + 1  # the old version is gone, not hidden
    assert [a.id for a in assistant.articles()] == ["assad-putin-sochi"]
    # The lexical index follows without a re-read: the new paragraph is found by its words.
    found = assistant.retriever.retrieve("منظومة الصواريخ فقرة جديدة").passages
    assert "فقرة جديدة" in found[0].passage.text


def test_new_assistant_finds_the_persisted_index(make_settings, fake_embedder):
    settings = make_settings()
    Assistant(settings, embedder=fake_embedder)
    before = fake_embedder.documents
    again = Assistant(settings, embedder=fake_embedder)
    assert fake_embedder.documents == before  # nothing re-embedded at start-up
    assert again.store.count() == 17
    assert again.ask("لماذا لم يعلن عن الزيارة مسبقا؟").citations


def test_index_of_another_model_is_rebuilt(make_settings, fake_embedder):
    from conftest import HashEmbedder

    settings = make_settings()
    Assistant(settings, embedder=fake_embedder)
    other = HashEmbedder(fingerprint="someone/else@000")
    store = ChromaIndex(settings, other)
    assert store.count() == 0  # not mixed: emptied, ready to rebuild
    rebuilt = Assistant(settings, embedder=other, store=store)
    assert rebuilt.store.count() == 17
    assert other.documents > 0


def test_an_interrupted_write_leaves_the_old_version_whole(make_settings, fake_embedder, article_path,
                                                           tmp_path, monkeypatch):
    settings = make_settings()
    assistant = Assistant(settings, embedder=fake_embedder)
    old = {p.id: p.text for p in assistant.store.all_passages()}
    changed = tmp_path / "assad-putin-sochi.ar.txt"
    changed.write_text("عنوان جديد\n\n" + article_path.read_text(encoding="utf-8"), encoding="utf-8")

    # The process dies after the new passages are written, before the article record commits them.
    def crash(*args, **kwargs):
        raise KeyboardInterrupt("killed")

    monkeypatch.setattr(assistant.store.articles_col, "upsert", crash)
    with pytest.raises(KeyboardInterrupt):
        assistant.ingest([changed])
    monkeypatch.undo()

    restarted = Assistant(settings, embedder=fake_embedder, ingest_corpus=False)
    assert {p.id: p.text for p in restarted.store.all_passages()} == old  # the old version, whole
    assert restarted.store.repair() > 0  # the uncommitted records are found and removed
    assert restarted.store.repair() == 0
    report = restarted.ingest([changed])  # re-ingest completes the new version
    assert report.replaced == ["assad-putin-sochi"]
    assert restarted.store.all_passages()[0].text == "عنوان جديد"
    assert len(restarted.store.all_passages()) == restarted.store.count()


def test_ingesting_many_articles_one_at_a_time_reads_nothing_back(make_settings, fake_embedder, tmp_path,
                                                                  monkeypatch):
    assistant = Assistant(make_settings(), embedder=fake_embedder)
    assistant.retriever.retrieve("warm up")  # the lexical index is loaded once
    reads = []
    monkeypatch.setattr(assistant.store, "all_passages", lambda: reads.append(1) or [])
    for n in range(5):
        path = tmp_path / f"brief-{n}.en.txt"
        path.write_text(f"Brief {n}\n\nThe harbour of town{n} closed on Monday after storm number {n}.\n",
                        encoding="utf-8")
        assistant.ingest([path])
    assert reads == []  # linear: no ingest re-reads the whole index
    hit = assistant.retriever.retrieve("harbour town3 closed").passages[0]
    assert hit.passage.article_id == "brief-3"


# --- with the real model ------------------------------------------------------------------------------------
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
    # An English quote answers an English question as it is: not "(quoted in Arabic)".
    assert answer.answer.startswith("According to the article [1]: «")
    # An Arabic reader is told the quote is English.
    arabic = assistant.ask("ما الذي أغلق ميناء أوسلو؟")
    assert arabic.citations[0].article_id == "weather"
    assert arabic.answer.startswith("بحسب المقال [1] (بالإنجليزية): «")


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


def test_sigkill_during_ingest_leaves_the_old_or_the_new_article_whole(make_settings, tmp_path, article_path):
    """The real `khabar ingest` process, killed with SIGKILL while it writes a large new version."""
    import os
    import signal

    settings = make_settings()
    env = {**os.environ, "KHABAR_INDEX_DIR": str(settings.index_dir),
           "KHABAR_DATA_DIR": str(settings.data_dir)}
    khabar = str(Path(sys.executable).with_name("khabar"))
    big = tmp_path / "assad-putin-sochi.ar.txt"
    body = article_path.read_text(encoding="utf-8")
    added = 60  # new passages, each embedded by the real model: enough that writing them is not instant
    extra = "".join(f"\n\nفقرة إضافية رقم {i} عن المحادثات في سوتشي وأستانا." for i in range(added))
    big.write_text(body + extra, encoding="utf-8")
    done = subprocess.run([khabar, "ingest", str(article_path)], env=env, capture_output=True, text=True,
                          timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]

    proc = subprocess.Popen([khabar, "-v", "ingest", str(big)], env=env, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    for line in proc.stderr:  # killed as soon as it starts writing the new version
        if "writing assad-putin-sochi" in line:
            os.kill(proc.pid, signal.SIGKILL)
            break
    proc.wait(timeout=900)

    store = _reopen(settings)
    assert len(store.all_passages()) == store.count()  # never half of an article
    assert store.count() in (17, 17 + added)
    store.repair()
    again = subprocess.run([khabar, "ingest", str(big)], env=env, capture_output=True, text=True, timeout=900)
    assert again.returncode == 0, again.stderr[-2000:]
    reopened = _reopen(settings)
    assert reopened.count() == 17 + added == len(reopened.all_passages())


def _reopen(settings) -> ChromaIndex:
    """The index as another process finds it (the index only needs the model's fingerprint to open)."""
    import chromadb

    client = chromadb.PersistentClient(path=str(settings.index_dir))
    stamp = str(client.get_collection(settings.collection).metadata["embedding_model"])
    return ChromaIndex(settings, SimpleNamespace(fingerprint=stamp), client=client)
