"""Stage 3b, store: passages and quotable units with their vectors in Chroma (the default ``PassageIndex``).

Three collections share a prefix: ``<name>`` holds passages (searched), ``<name>__sentences`` holds the
quotable units of extractive answers with their vectors, ``<name>__articles`` the full article texts so that
any process attached to the same store (a Chroma server, say) can show an article whole.

Writing an article is crash-safe without transactions across collections: passage and unit records carry the
article's digest in their record id (``<article>@<sha8>#p3``), so a new version is written beside the old one;
the article record, written last, is the commit point that says which version is current; the old version is
deleted after it. Readers only ever see records of the current version, so a process killed mid-write leaves
either the old or the new article, never half of one, and the leftovers are removed by the next write or
``repair()``. Passage ids seen by users stay ``<article>#p3``.

Just over 300 lines: the write protocol above spans the three collections and is kept in one class so that
no caller can write one collection without the others.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from urllib.parse import urlparse

import chromadb
import httpx
import numpy as np
from chromadb.config import Settings as ChromaSettings
from filelock import FileLock, Timeout

from assistant.errors import KhabarError, StorageError, StoreUnavailable
from assistant.retrieve.base import IndexedArticle, TextEmbedder
from assistant.schemas import Article, ArticleInfo, Passage, Sentence, Span
from assistant.settings import Settings

log = logging.getLogger(__name__)

#: Bump when the splitting or stored layout changes, so old indexes are rebuilt rather than mixed.
SCHEMA_VERSION = "3"


def make_client(settings: Settings) -> chromadb.ClientAPI:
    """A Chroma server client when ``settings.chroma_url`` is set, else an embedded store on disk."""
    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_url:
        url = urlparse(settings.chroma_url)
        try:
            client = chromadb.HttpClient(host=url.hostname or "127.0.0.1", port=url.port or 8000,
                                         ssl=url.scheme == "https", settings=chroma_settings)
        except Exception as exc:  # the client raises ValueError/ConnectError alike when the server is down
            raise KhabarError(f"cannot reach the Chroma server at {settings.chroma_url}") from exc
        # Chroma's HTTP client waits forever (timeout=None): a hung server would hold every question and
        # its admission slot. Its httpx session is private, so reach it defensively.
        session = getattr(getattr(client, "_server", None), "_session", None)
        if isinstance(session, httpx.Client):
            session.timeout = httpx.Timeout(settings.chroma_timeout_seconds)
        return client
    claim_index(settings)
    return chromadb.PersistentClient(path=str(settings.index_dir), settings=chroma_settings)


def claim_index(settings: Settings) -> None:
    """Claim an embedded index folder for this process (nothing to claim on a Chroma server), or
    :class:`StoreUnavailable` when another process holds it. Called before the embedding model loads too,
    so that a busy index is refused at once rather than after seconds of loading."""
    if settings.chroma_url:
        return
    settings.index_dir.mkdir(parents=True, exist_ok=True)
    _hold_index_lock(settings.index_dir)


#: Locks on embedded index folders this process holds, by folder: taken once, kept until the process ends.
_HELD_INDEX_LOCKS: dict[Path, FileLock] = {}


def _hold_index_lock(index_dir: Path) -> None:
    """Claim the embedded index folder for this process, or :class:`StoreUnavailable` ("busy").

    Embedded Chroma is single-process: each process keeps its own in-memory copy of the vector index and
    flushes it to disk, so a second process (``khabar ingest`` while the app runs) would not be seen by the
    first and could overwrite its files. An OS file lock (released by the kernel even on SIGKILL, so never
    stale) makes the second process stop with a clear message; several processes share a Chroma server.
    """
    folder = Path(index_dir).resolve()
    if folder in _HELD_INDEX_LOCKS:
        return
    lock = FileLock(folder / ".khabar.lock", timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise StoreUnavailable(
            "the index is busy: another Khabar process (the app, or `khabar ingest`) is using this index "
            "folder (KHABAR_INDEX_DIR); stop it first, or run a Chroma server (KHABAR_CHROMA_URL) that "
            "several processes can share"
        ) from None
    except OSError as exc:
        raise StorageError(f"the index folder (KHABAR_INDEX_DIR) is not writable: "
                           f"{os.strerror(exc.errno or 0) or exc}") from exc
    _HELD_INDEX_LOCKS[folder] = lock


def _reaching_the_store(method: Callable) -> Callable:
    """Turn a lost connection to the Chroma server into :class:`StoreUnavailable` (a 503 the caller can retry)
    rather than an internal error; the client reconnects by itself once the server is back."""

    @functools.wraps(method)
    def wrapper(self: ChromaIndex, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except (httpx.TransportError, ConnectionError) as exc:
            log.warning("the Chroma server at %s is unreachable: %s", self.settings.chroma_url, exc)
            raise StoreUnavailable("the passage index is unreachable; try again shortly") from exc

    return wrapper


class ChromaIndex:
    """Passages and quotable units of the indexed articles, with their embeddings, in Chroma."""

    def __init__(self, settings: Settings, embedder: TextEmbedder,
                 client: chromadb.ClientAPI | None = None) -> None:
        self.settings = settings
        # Only the fingerprint is used: an index records which model made its vectors.
        self.fingerprint = embedder.fingerprint
        self.client = client or make_client(settings)
        self.name = settings.collection
        self._lock = threading.Lock()
        self._open()

    # -- collections ---------------------------------------------------------------------------------
    def _stamp(self) -> dict[str, str]:
        return {"embedding_model": self.fingerprint, "schema": SCHEMA_VERSION,
                "max_passage_tokens": str(self.settings.max_passage_tokens)}

    def _collection(self, suffix: str):
        # embedding_function=None: Chroma's default one downloads a model at run time, which fails
        # offline; every vector here comes from our own embedder.
        return self.client.get_or_create_collection(
            self.name + suffix, metadata=self._stamp(), configuration={"hnsw": {"space": "cosine"}},
            embedding_function=None,
        )

    def _open(self) -> None:
        passages = self._collection("")
        stored = {k: str(v) for k, v in (passages.metadata or {}).items() if k in self._stamp()}
        if stored != self._stamp():
            log.warning("index %s was built with %s; rebuilding for %s", self.name, stored, self._stamp())
            self.drop()
            passages = self._collection("")
        self.passages = passages
        self.sentences = self._collection("__sentences")
        self.articles_col = self._collection("__articles")
        self._versions = self._read_versions()

    def _read_versions(self) -> dict[str, str]:
        got = self.articles_col.get(include=["metadatas"])
        return {i: str(m["sha256"])[:8] for i, m in zip(got["ids"], got["metadatas"], strict=True)}

    def _current(self, meta: dict) -> bool:
        return self._versions.get(meta["article_id"]) == meta.get("version")

    def _notice_versions(self, metas) -> None:
        # Another process (`khabar ingest`, another worker) may have committed a newer version: re-read the
        # article records rather than hide its passages.
        if any(not self._current(m) for m in metas):
            self._versions = self._read_versions()

    def drop(self) -> None:
        """Delete all three collections (used when the embedding model or layout changed)."""
        for suffix in ("", "__sentences", "__articles"):
            # Chroma raises NotFoundError or ValueError for a missing collection, depending on the backend.
            with contextlib.suppress(Exception):
                self.client.delete_collection(self.name + suffix)

    # -- writing ------------------------------------------------------------------------------------
    @_reaching_the_store
    def article_digest(self, article_id: str) -> str | None:
        """The sha256 of the stored (committed) version of an article, or None."""
        got = self.articles_col.get(ids=[article_id], include=["metadatas"])
        return str(got["metadatas"][0]["sha256"]) if got["ids"] else None

    @_reaching_the_store
    def write(self, item: IndexedArticle) -> None:
        """Store one article's passages and units, then commit it (see the module docstring)."""
        article = item.article
        version = article.sha256[:8]
        with self._lock:
            self._delete_versions(article.id, keep=self._versions.get(article.id))  # leftovers of a crash
            prefix = f"{article.id}@{version}"
            if item.passages:
                self.passages.add(
                    ids=[p.id.replace(article.id, prefix, 1) for p in item.passages],
                    embeddings=item.passage_vectors, documents=[p.text for p in item.passages],
                    metadatas=[{"article_id": p.article_id, "passage_id": p.id, "version": version,
                                "index": p.index, "role": p.role, "start": p.span.start, "end": p.span.end}
                               for p in item.passages],
                )
            if item.units:
                self.sentences.add(
                    ids=[u.id.replace(article.id, prefix, 1) for u in item.units],
                    embeddings=item.unit_vectors, documents=[u.text for u in item.units],
                    metadatas=[{"article_id": u.article_id, "passage_id": u.passage_id, "unit_id": u.id,
                                "kind": u.kind, "version": version, "start": u.span.start,
                                "end": u.span.end} for u in item.units],
                )
            # The commit point. Chroma insists on a vector, so the article record gets a constant one.
            self.articles_col.upsert(
                ids=[article.id], embeddings=[[1.0]], documents=[article.text],
                metadatas=[{"title": article.title, "language": article.language, "source": article.source,
                            "sha256": article.sha256, "passages": len(item.passages)}],
            )
            self._versions[article.id] = version
            self._delete_versions(article.id, keep=version)

    @_reaching_the_store
    def remove(self, article_id: str) -> bool:
        """Delete an article: its record (the commit point) first, then its passages and units; False when
        there is no such article. Interrupted in between, what is left is an uncommitted version, which
        :meth:`repair` deletes."""
        with self._lock:
            if not self.articles_col.get(ids=[article_id])["ids"]:
                return False
            self.articles_col.delete(ids=[article_id])
            self._versions.pop(article_id, None)
            self._delete_versions(article_id, keep=None)
            return True

    def _delete_versions(self, article_id: str, keep: str | None) -> None:
        """Delete an article's passage and unit records of every version but ``keep``."""
        where: dict = {"article_id": article_id}
        if keep is not None:
            where = {"$and": [{"article_id": article_id}, {"version": {"$ne": keep}}]}
        for collection in (self.passages, self.sentences):
            collection.delete(where=where)

    @_reaching_the_store
    def repair(self) -> int:
        """Delete records left by an interrupted write (versions that were never committed); how many."""
        removed = 0
        with self._lock:
            self._versions = self._read_versions()
            for collection in (self.passages, self.sentences):
                got = collection.get(include=["metadatas"])
                stale = [i for i, m in zip(got["ids"], got["metadatas"], strict=True) if not self._current(m)]
                for start in range(0, len(stale), 5000):
                    collection.delete(ids=stale[start:start + 5000])
                removed += len(stale)
        return removed

# -- reading ------------------------------------------------------------------------------------
    @_reaching_the_store
    def all_passages(self) -> list[Passage]:
        """Every stored passage of the current article versions, in article and reading order."""
        got = self.passages.get(include=["documents", "metadatas"])
        passages = [_passage(d, m) for d, m in zip(got["documents"], got["metadatas"], strict=True)
                    if self._current(m)]
        return sorted(passages, key=lambda p: (p.article_id, p.index))

    @_reaching_the_store
    def dense_search(self, vector: np.ndarray, k: int) -> list[tuple[Passage, float]]:
        """The ``k`` passages nearest to ``vector``, with cosine similarity (1 - cosine distance)."""
        count = self.passages.count()
        if count == 0:
            return []
        got = self.passages.query(query_embeddings=[vector], n_results=min(k, count),
                                  include=["documents", "metadatas", "distances"])
        rows = list(zip(got["documents"][0], got["metadatas"][0], got["distances"][0], strict=True))
        self._notice_versions(m for _, m, _ in rows)
        return [(_passage(d, m), 1.0 - float(dist)) for d, m, dist in rows if self._current(m)]

    @_reaching_the_store
    def units_of(self, passage_ids: Sequence[str]) -> list[tuple[Sentence, np.ndarray]]:
        """The quotable units of the given passages with their stored vectors."""
        if not passage_ids:
            return []
        got = self.sentences.get(where={"passage_id": {"$in": list(passage_ids)}},
                                 include=["documents", "metadatas", "embeddings"])
        self._notice_versions(got["metadatas"])
        return [(_unit(d, m), np.asarray(e, dtype=np.float32))
                for d, m, e in zip(got["documents"], got["metadatas"], got["embeddings"], strict=True)
                if self._current(m)]

    @_reaching_the_store
    def unit_search(self, vector: np.ndarray, k: int) -> list[tuple[Sentence, np.ndarray, float]]:
        """The ``k`` quotable units nearest to ``vector``, with their vectors and cosine similarity."""
        count = self.sentences.count()
        if count == 0:
            return []
        got = self.sentences.query(query_embeddings=[vector], n_results=min(k, count),
                                   include=["documents", "metadatas", "distances", "embeddings"])
        rows = list(zip(got["documents"][0], got["metadatas"][0], got["embeddings"][0], got["distances"][0],
                        strict=True))
        self._notice_versions(m for _, m, _, _ in rows)
        return [(_unit(d, m), np.asarray(e, dtype=np.float32), 1.0 - float(dist))
                for d, m, e, dist in rows if self._current(m)]

    @_reaching_the_store
    def list_articles(self) -> list[ArticleInfo]:
        """The indexed articles."""
        got = self.articles_col.get(include=["metadatas"])
        return sorted(
            (ArticleInfo(id=i, title=m["title"], language=m["language"], passages=m["passages"],
                         source=m["source"]) for i, m in zip(got["ids"], got["metadatas"], strict=True)),
            key=lambda a: a.id,
        )

    @_reaching_the_store
    def get_article(self, article_id: str) -> Article | None:
        """One indexed article with its full text, or None."""
        got = self.articles_col.get(ids=[article_id], include=["documents", "metadatas"])
        if not got["ids"]:
            return None
        m = got["metadatas"][0]
        return Article(id=article_id, title=m["title"], language=m["language"], text=got["documents"][0],
                       source=m["source"], sha256=m["sha256"])

    @_reaching_the_store
    def count(self) -> int:
        """Number of stored passages (of committed article versions)."""
        return sum(int(n) for n in self._passage_counts().values())

    def _passage_counts(self) -> dict[str, int]:
        got = self.articles_col.get(include=["metadatas"])
        return {i: int(m["passages"]) for i, m in zip(got["ids"], got["metadatas"], strict=True)}


def _passage(text: str, meta: dict) -> Passage:
    return Passage(id=meta["passage_id"], article_id=meta["article_id"], index=meta["index"],
                   role=meta["role"], text=text, span=Span(start=meta["start"], end=meta["end"]))


def _unit(text: str, meta: dict) -> Sentence:
    return Sentence(id=meta["unit_id"], passage_id=meta["passage_id"], article_id=meta["article_id"],
                    text=text, span=Span(start=meta["start"], end=meta["end"]),
                    kind=meta.get("kind", "sentence"))
