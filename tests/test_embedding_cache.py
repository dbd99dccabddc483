"""The cache of document vectors (``KHABAR_EMBEDDING_CACHE``): the same vectors, fewer model calls, and
never a failure of its own."""

from __future__ import annotations

import logging

import numpy as np

from assistant import Assistant
from assistant.retrieve.embedding_cache import CachedEmbedder, EmbeddingCache, with_cache
from tests.conftest import HashEmbedder

TEXTS = ["التقى الرئيس السوري بشار الأسد نظيره الروسي فلاديمير بوتين في سوتشي.",
         "الدول الضامنة وهي تركيا وروسيا وإيران.",
         "Moscow plans to deploy warships."]


class NamedHashEmbedder(HashEmbedder):
    """The fake embedder, opted into the cache (real embedders name their vectors; stand-ins usually not)."""

    cache_namespace = "test/hash-embedder@1|fake"


def test_the_real_models_vectors_come_back_exactly_and_without_running_it_again(embedder, tmp_path):
    cached = with_cache(embedder, tmp_path / "cache.sqlite")
    assert isinstance(cached, CachedEmbedder)
    first = cached.encode_documents(TEXTS)
    calls: list[list[str]] = []
    original = embedder.encode_documents

    def spy(texts, *args, **kwargs):
        calls.append(list(texts))
        return original(texts, *args, **kwargs)

    embedder.encode_documents = spy  # an instance attribute: the session's embedder is restored below
    try:
        again = cached.encode_documents([TEXTS[1], "نص جديد لم يسبق تضمينه", *TEXTS])
    finally:
        del embedder.encode_documents
    assert calls == [["نص جديد لم يسبق تضمينه"]]  # only the new text reached the model
    assert again.dtype == np.float32
    assert np.array_equal(again[0], first[1]) and np.array_equal(again[2:], first)  # the very same bytes
    fresh = embedder.encode_documents(TEXTS)
    assert float(np.min(np.sum(fresh * first, axis=1))) > 0.99999


def test_a_new_index_of_the_same_article_embeds_nothing_and_an_edit_only_what_changed(make_settings,
                                                                                         tmp_path):
    cache = tmp_path / "cache.sqlite"
    first = NamedHashEmbedder()
    built = Assistant(make_settings(embedding_cache=cache), embedder=first)
    assert first.documents > 0
    second = NamedHashEmbedder()
    rebuilt = Assistant(make_settings(embedding_cache=cache), embedder=second)  # another, empty index
    assert second.documents == 0
    assert rebuilt.store.count() == built.store.count()
    question = "من هي الدول الضامنة لمحادثات أستانا؟"
    assert rebuilt.ask(question).answer == built.ask(question).answer

    article = make_settings().corpus[0]
    edited = tmp_path / article.name
    addition = "\n\nفقرة جديدة عن ميناء طرطوس.\n"
    edited.write_text(article.read_text(encoding="utf-8") + addition, encoding="utf-8")
    third = NamedHashEmbedder()
    Assistant(make_settings(embedding_cache=cache, corpus=[edited]), embedder=third)
    assert 0 < third.documents < first.documents / 4  # the new paragraph, not the whole article


def test_without_a_path_or_a_namespace_nothing_is_cached(tmp_path):
    plain = HashEmbedder()
    assert with_cache(plain, tmp_path / "cache.sqlite") is plain
    named = NamedHashEmbedder()
    assert with_cache(named, None) is named
    assert not (tmp_path / "cache.sqlite").exists()


def test_an_unusable_cache_file_embeds_as_if_absent_with_one_warning(tmp_path, caplog):
    broken = tmp_path / "cache.sqlite"
    broken.mkdir()  # a folder where the file should be: every read and write fails
    embedder = NamedHashEmbedder()
    cached = CachedEmbedder(embedder, EmbeddingCache(broken))
    with caplog.at_level(logging.WARNING, logger="assistant.retrieve.embedding_cache"):
        vectors = cached.encode_documents(TEXTS)
        cached.encode_documents(TEXTS)
    assert np.array_equal(vectors, NamedHashEmbedder().encode_documents(TEXTS))
    assert embedder.documents == 2 * len(TEXTS)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "embedding without it" in warnings[0].getMessage()


# -- question vectors, in memory (KHABAR_QUERY_CACHE_SIZE) ---------------------------------------------------
class CountingEncoder:
    """The real encoder, counting the texts it is asked to embed."""

    def __init__(self, encoder) -> None:
        self.encoder, self.texts = encoder, []

    def encode(self, texts, prompt, batch_size):
        self.texts.extend(texts)
        return self.encoder.encode(texts, prompt, batch_size)


def test_a_question_asked_again_takes_the_same_vector_without_the_model(embedder, monkeypatch):
    counting = CountingEncoder(embedder.encoder)
    monkeypatch.setattr(embedder, "encoder", counting)
    question = "من هي الدول الضامنة لمحادثات أستانا؟ (سؤال اختبار الذاكرة)"
    first = embedder.encode_query(question)
    again = embedder.encode_query(question)
    assert counting.texts == [question]  # the model ran once
    assert np.array_equal(first, again)
    assert np.array_equal(first, counting.encoder.encode([question], "query", 1)[0])  # the model's own
    assert not first.flags.writeable  # a shared vector cannot be changed in place by one caller
    embedder.encode_query("سؤال آخر")
    assert counting.texts == [question, "سؤال آخر"]


def test_a_cache_of_size_0_embeds_every_time(make_settings):
    from assistant.retrieve.embeddings import Embedder

    uncached = Embedder(make_settings(query_cache_size=0), progress=False)
    counting = CountingEncoder(uncached.encoder)
    uncached.encoder = counting
    uncached.encode_query("Who are the guarantors?")
    uncached.encode_query("Who are the guarantors?")
    assert counting.texts == ["Who are the guarantors?"] * 2
