"""WordSimilarity: single words embedded once and kept, within a bound."""

from __future__ import annotations

import numpy as np

from assistant.retrieve.word_vectors import WordSimilarity


class CountingEmbedder:
    """Unit vectors by word length, and a record of every text embedded."""

    def __init__(self) -> None:
        self.embedded: list[str] = []

    def encode_documents(self, texts: list[str]) -> np.ndarray:
        self.embedded += texts
        vectors = np.array([[len(t), 1.0] for t in texts], dtype=np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_each_word_is_embedded_once_and_similarities_are_cosines():
    embedder = CountingEmbedder()
    words = WordSimilarity(embedder)
    first = words(["World", "War"], ["عالم", "حرب", "عالم"])
    assert first.shape == (2, 3) and np.isclose(first[1, 1], 1.0)  # equal lengths, equal vectors
    assert sorted(embedder.embedded) == sorted(["World", "War", "عالم", "حرب"])
    again = words(["War"], ["حرب", "سلام"])
    assert embedder.embedded[4:] == ["سلام"]  # only the new word
    assert np.isclose(again[0, 0], 1.0)


def test_the_cache_starts_again_past_its_limit_and_empty_lists_cost_nothing():
    embedder = CountingEmbedder()
    words = WordSimilarity(embedder, limit=2)
    words(["a", "b", "c"], ["d"])
    words(["a"], ["d"])
    assert embedder.embedded.count("a") == 1  # kept
    words(["e"], ["d"])  # a new word, with the cache past its limit: it starts again
    words(["a"], ["d"])
    assert embedder.embedded.count("a") == 2
    before = len(embedder.embedded)
    assert words([], ["d"]).shape == (0, 1) and words(["a"], []).shape == (1, 0)
    assert len(embedder.embedded) == before
