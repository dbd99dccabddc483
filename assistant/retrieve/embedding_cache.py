"""Document vectors kept by text (``KHABAR_EMBEDDING_CACHE``), so that indexing a text the model has already
embedded does not run the model again.

Embedding is nearly all of an ingest's cost. The index already skips an unchanged article; what it cannot skip
is the same text in a *new* index: an index rebuilt after ``index/`` was deleted, moved to a Chroma server, or
built by another process on the same machine (a deployment's ``khabar ingest``, the test suite's many
temporary indexes), or an edited article whose other paragraphs did not change. Single words embedded for
answerability's check of translated names (``retrieve/word_vectors.py``) are kept here too.

Vectors are keyed by the model build and the backend that made them (``Embedder.cache_namespace``) and the
sha256 of the text, and stored as the exact float32 bytes, so a cached vector is the one the model gave.
Embedders without a namespace (test stand-ins) are never cached. The cache is an optimisation: if its file
cannot be read or written (a full or read-only disk) the texts are embedded as if it were absent, with one
warning, and nothing else fails.

Hand-written rather than LangChain's ``CacheBackedEmbeddings``: that wrapper lives in ``langchain_classic``
(not a dependency) and its byte stores are one file per text or in memory; one SQLite file (WAL, shared by
processes) holds a corpus of any size.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from assistant.retrieve.base import TextEmbedder
from assistant.shared_sqlite import connect

log = logging.getLogger(__name__)

_SCHEMA = """CREATE TABLE IF NOT EXISTS vectors (
    namespace TEXT NOT NULL, text_sha256 BLOB NOT NULL, vector BLOB NOT NULL,
    PRIMARY KEY (namespace, text_sha256)) WITHOUT ROWID"""
#: Keys looked up per query (SQLite's default limit on bound parameters is far above this).
_LOOKUP_CHUNK = 500


class EmbeddingCache:
    """A SQLite file of document vectors, one namespace per model build and backend."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._warned = False
        self._created = False

    def _connect(self) -> sqlite3.Connection:
        # A connection per call (cheap for a local file, and safe across threads); the table is created by
        # the first one only.
        if not self._created:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        db = connect(self.path)
        if not self._created:
            db.execute(_SCHEMA)
            self._created = True
        return db

    def _failed(self, action: str, error: Exception) -> None:
        if not self._warned:
            log.warning("embedding cache %s failed (%s): embedding without it", action, error)
            self._warned = True

    def get(self, namespace: str, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """The cached vectors of those ``texts`` that have one."""
        keys = {hashlib.sha256(t.encode()).digest(): t for t in texts}
        found: dict[str, np.ndarray] = {}
        try:
            with self._connect() as db:
                ordered = list(keys)
                for start in range(0, len(ordered), _LOOKUP_CHUNK):
                    chunk = ordered[start:start + _LOOKUP_CHUNK]
                    marks = ",".join("?" * len(chunk))
                    rows = db.execute(f"SELECT text_sha256, vector FROM vectors WHERE namespace = ? "
                                      f"AND text_sha256 IN ({marks})", [namespace, *chunk])
                    for key, blob in rows:
                        found[keys[key]] = np.frombuffer(blob, dtype=np.float32)
        except (sqlite3.Error, OSError) as error:
            self._failed("read", error)
            return {}
        return found

    def put(self, namespace: str, texts: Sequence[str], vectors: np.ndarray) -> None:
        """Keep ``vectors`` (one row per text) for later runs."""
        rows = [(namespace, hashlib.sha256(t.encode()).digest(), np.asarray(v, dtype=np.float32).tobytes())
                for t, v in zip(texts, vectors, strict=True)]
        try:
            with self._connect() as db:
                db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?, ?)", rows)
        except (sqlite3.Error, OSError) as error:
            self._failed("write", error)


class CachedEmbedder:
    """A :class:`TextEmbedder` that takes document vectors from an :class:`EmbeddingCache` when it has them
    and embeds (then keeps) only the rest. Queries are not cached: each is embedded once per question."""

    def __init__(self, embedder: TextEmbedder, cache: EmbeddingCache) -> None:
        self.embedder = embedder
        self.cache = cache
        self.namespace: str = embedder.cache_namespace  # type: ignore[attr-defined]
        self.fingerprint = embedder.fingerprint

    @property
    def dimension(self) -> int:
        """Length of the wrapped embedder's vectors."""
        return self.embedder.dimension

    def count_tokens(self, text: str) -> int:
        """As the wrapped embedder counts them."""
        return self.embedder.count_tokens(text)

    def encode_query(self, text: str) -> np.ndarray:
        """The wrapped embedder's query vector."""
        return self.embedder.encode_query(text)

    def encode_documents(self, texts: list[str]) -> np.ndarray:
        """Document vectors, one row per text, from the cache where possible."""
        if not texts:
            return self.embedder.encode_documents(texts)
        found = self.cache.get(self.namespace, texts)
        missing = list(dict.fromkeys(t for t in texts if t not in found))
        if missing:
            fresh = self.embedder.encode_documents(missing)
            self.cache.put(self.namespace, missing, fresh)
            found.update(zip(missing, fresh, strict=True))
        log.debug("embedding cache: %d of %d texts embedded", len(missing), len(texts))
        return np.vstack([found[t] for t in texts]).astype(np.float32, copy=False)


def with_cache(embedder: TextEmbedder, path: Path | None) -> TextEmbedder:
    """``embedder`` behind the cache at ``path``; unchanged when there is no path or the embedder names no
    namespace for its vectors."""
    if path is None or not getattr(embedder, "cache_namespace", None):
        return embedder
    return CachedEmbedder(embedder, EmbeddingCache(path))
