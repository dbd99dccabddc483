"""Stage 3, embed and store: passages and sentences with their vectors in Chroma.

Three collections share a prefix: ``<name>`` holds passages (searched), ``<name>__sentences`` holds the
quotable units of extractive answers with their vectors, ``<name>__articles`` the full article texts so that
any process attached to the same store (a Chroma server, say) can show an article whole.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from urllib.parse import urlparse

import chromadb
import numpy as np
from chromadb.config import Settings as ChromaSettings

from assistant.errors import KhabarError
from assistant.ingest.splitting import split_article, split_sentences
from assistant.retrieve.embeddings import Embedder
from assistant.schemas import Article, ArticleInfo, IngestReport, Passage, Sentence, Span
from assistant.settings import Settings

log = logging.getLogger(__name__)

#: Bump when the splitting or stored layout changes, so old indexes are rebuilt rather than mixed.
SCHEMA_VERSION = "1"


def make_client(settings: Settings) -> chromadb.ClientAPI:
    """A Chroma server client when ``settings.chroma_url`` is set, else an embedded store on disk."""
    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_url:
        url = urlparse(settings.chroma_url)
        try:
            return chromadb.HttpClient(host=url.hostname or "127.0.0.1", port=url.port or 8000,
                                       ssl=url.scheme == "https", settings=chroma_settings)
        except Exception as exc:  # the client raises ValueError/ConnectError alike when the server is down
            raise KhabarError(f"cannot reach the Chroma server at {settings.chroma_url}") from exc
    settings.index_dir.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(settings.index_dir), settings=chroma_settings)


class PassageStore:
    """Passages and sentences of the indexed articles, with their embeddings."""

    def __init__(self, settings: Settings, embedder: Embedder,
                 client: chromadb.ClientAPI | None = None) -> None:
        self.settings = settings
        self.embedder = embedder
        self.client = client or make_client(settings)
        self.name = settings.collection
        self._lock = threading.Lock()
        self._open()

    # -- collections ---------------------------------------------------------------------------------
    def _stamp(self) -> dict[str, str]:
        return {"embedding_model": self.embedder.fingerprint, "schema": SCHEMA_VERSION,
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

    def drop(self) -> None:
        """Delete all three collections (used when the embedding model or layout changed)."""
        for suffix in ("", "__sentences", "__articles"):
            # Chroma raises NotFoundError or ValueError for a missing collection, depending on the backend.
            with contextlib.suppress(Exception):
                self.client.delete_collection(self.name + suffix)

    # -- ingest -------------------------------------------------------------------------------------
    def ingest(self, articles: list[Article]) -> IngestReport:
        """Add articles; an unchanged article is skipped, a changed one replaces its old passages."""
        report = IngestReport()
        with self._lock:
            for article in articles:
                known = self.articles_col.get(ids=[article.id], include=["metadatas"])
                if known["ids"]:
                    if known["metadatas"][0].get("sha256") == article.sha256:
                        report.unchanged.append(article.id)
                        continue
                    self._delete_article(article.id)
                    report.replaced.append(article.id)
                else:
                    report.added.append(article.id)
                report.passages += self._add_article(article)
        return report

    def _delete_article(self, article_id: str) -> None:
        for collection in (self.passages, self.sentences):
            collection.delete(where={"article_id": article_id})
        self.articles_col.delete(ids=[article_id])

    def _add_article(self, article: Article) -> int:
        passages = split_article(article, max_tokens=self.settings.max_passage_tokens,
                                 count_tokens=self.embedder.count_tokens)
        sentences = [s for p in passages for s in split_sentences(article, p)]
        vectors = self.embedder.encode_documents([p.text for p in passages])
        self.passages.add(
            ids=[p.id for p in passages], embeddings=vectors, documents=[p.text for p in passages],
            metadatas=[{"article_id": p.article_id, "index": p.index, "role": p.role,
                        "start": p.span.start, "end": p.span.end} for p in passages],
        )
        if sentences:
            self.sentences.add(
                ids=[s.id for s in sentences], embeddings=self.embedder.encode_documents(
                    [s.text for s in sentences]),
                documents=[s.text for s in sentences],
                metadatas=[{"article_id": s.article_id, "passage_id": s.passage_id,
                            "start": s.span.start, "end": s.span.end} for s in sentences],
            )
        # This collection only stores documents; Chroma insists on a vector, so each gets a constant one.
        self.articles_col.add(
            ids=[article.id], embeddings=[[1.0]], documents=[article.text],
            metadatas=[{"title": article.title, "language": article.language, "source": article.source,
                        "sha256": article.sha256, "passages": len(passages)}],
        )
        return len(passages)

    # -- reading ------------------------------------------------------------------------------------
    def all_passages(self) -> list[Passage]:
        """Every stored passage, in article and reading order."""
        got = self.passages.get(include=["documents", "metadatas"])
        passages = [_passage(i, d, m) for i, d, m in zip(got["ids"], got["documents"], got["metadatas"],
                                                          strict=True)]
        return sorted(passages, key=lambda p: (p.article_id, p.index))

    def dense_search(self, vector: np.ndarray, k: int) -> list[tuple[Passage, float]]:
        """The ``k`` passages nearest to ``vector``, with cosine similarity (1 - cosine distance)."""
        count = self.passages.count()
        if count == 0:
            return []
        got = self.passages.query(query_embeddings=[vector], n_results=min(k, count),
                                  include=["documents", "metadatas", "distances"])
        return [(_passage(i, d, m), 1.0 - float(dist)) for i, d, m, dist in zip(
            got["ids"][0], got["documents"][0], got["metadatas"][0], got["distances"][0], strict=True)]

    def sentences_of(self, passage_ids: list[str]) -> list[tuple[Sentence, np.ndarray]]:
        """The quotable units of the given passages with their stored vectors."""
        if not passage_ids:
            return []
        got = self.sentences.get(where={"passage_id": {"$in": passage_ids}},
                                 include=["documents", "metadatas", "embeddings"])
        return [
            (Sentence(id=i, passage_id=m["passage_id"], article_id=m["article_id"], text=d,
                      span=Span(start=m["start"], end=m["end"])), np.asarray(e, dtype=np.float32))
            for i, d, m, e in zip(got["ids"], got["documents"], got["metadatas"], got["embeddings"],
                                  strict=True)
        ]

    def list_articles(self) -> list[ArticleInfo]:
        """The indexed articles."""
        got = self.articles_col.get(include=["metadatas"])
        return sorted(
            (ArticleInfo(id=i, title=m["title"], language=m["language"], passages=m["passages"],
                         source=m["source"]) for i, m in zip(got["ids"], got["metadatas"], strict=True)),
            key=lambda a: a.id,
        )

    def get_article(self, article_id: str) -> Article | None:
        """One indexed article with its full text, or None."""
        got = self.articles_col.get(ids=[article_id], include=["documents", "metadatas"])
        if not got["ids"]:
            return None
        m = got["metadatas"][0]
        return Article(id=article_id, title=m["title"], language=m["language"], text=got["documents"][0],
                       source=m["source"], sha256=m["sha256"])

    def count(self) -> int:
        """Number of stored passages."""
        return self.passages.count()


def _passage(pid: str, text: str, meta: dict) -> Passage:
    return Passage(id=pid, article_id=meta["article_id"], index=meta["index"], role=meta["role"], text=text,
                   span=Span(start=meta["start"], end=meta["end"]))
