"""Single words embedded as documents, kept between questions: the embedding model used as a bilingual word
list. Verification holds an English answer's words to the cited Arabic ones this way, and answerability
looks for an English word of the question that the article translates rather than transliterates."""

from __future__ import annotations

import threading

import numpy as np

from assistant.retrieve.base import TextEmbedder

#: Single-word vectors kept (about 3 KB each); past it the cache starts again empty.
WORD_VECTOR_CACHE = 4096


class WordSimilarity:
    """Cosine similarities of single words, both embedded as documents (a word embedded with the query
    prompt scores far lower against its own translation). Call it with two word lists: a
    ``len(left) × len(right)`` array."""

    def __init__(self, embedder: TextEmbedder, limit: int = WORD_VECTOR_CACHE) -> None:
        self.embedder = embedder
        self.limit = limit
        self._kept: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()

    def vectors(self, words: list[str]) -> dict[str, np.ndarray]:
        """Document vectors of ``words``, embedding only those not kept yet."""
        with self._lock:
            vectors = {w: self._kept.get(w) for w in dict.fromkeys(words)}
        missing = [w for w, v in vectors.items() if v is None]
        if missing:
            vectors.update(zip(missing, self.embedder.encode_documents(missing), strict=True))
            with self._lock:
                if len(self._kept) > self.limit:
                    self._kept.clear()
                self._kept.update((w, vectors[w]) for w in missing)
        return vectors  # type: ignore[return-value]

    def __call__(self, left: list[str], right: list[str]) -> np.ndarray:
        if not left or not right:
            return np.zeros((len(left), len(right)), dtype=np.float32)
        vectors = self.vectors([*left, *right])
        return np.stack([vectors[w] for w in left]) @ np.stack([vectors[w] for w in right]).T
