"""The embedding model, as a LangChain ``Embeddings`` that keeps the model's query/document prompts apart."""

from __future__ import annotations

import functools
import hashlib
import logging

import numpy as np
from langchain_core.embeddings import Embeddings

from assistant.models.encoders import BACKENDS, SHARED_INDEX_MIN_COSINE, Encoder, open_encoder
from assistant.models.files import resolve_embedding_model
from assistant.settings import EmbeddingBackend, Settings

log = logging.getLogger(__name__)

__all__ = ["BACKENDS", "SHARED_INDEX_MIN_COSINE", "Embedder"]

class Embedder(Embeddings):
    """The embedding model behind LangChain's interface, run by the backend ``settings`` name.

    EmbeddingGemma is trained with different prompts for queries and documents, so ``embed_query`` uses
    the query prompt and ``embed_documents`` the document prompt; mixing them costs recall.
    Vectors are L2-normalised, so a dot product is the cosine similarity.
    """

    def __init__(self, settings: Settings, *, progress: bool = True,
                 backend: EmbeddingBackend | None = None) -> None:
        path = resolve_embedding_model(settings, progress=progress)
        self.model_name = settings.embedding_model
        self.backend: EmbeddingBackend = backend or settings.embedding_backend
        spec = BACKENDS[self.backend]
        self.encoder: Encoder = open_encoder(self.backend, path, settings.models_dir)
        # One fingerprint per model build and family of vectors: the store rebuilds an index whose stamp
        # differs, so backends that agree with fp32 share an index and int8 gets its own.
        digest = hashlib.sha256((path / "modules.json").read_bytes())
        digest.update(str(self.dimension).encode())
        self.fingerprint = f"{self.model_name}@{digest.hexdigest()[:12]}{spec.vectors}"
        # Embedding a question is most of an extractive answer's time (about 70 ms of 200 on 2 cores), and the
        # same questions come back: the page's examples, retries, the question and its focus asked again by
        # follow-up detection. The vectors are deterministic, so a cached one is the model's own.
        self._query_vectors = functools.lru_cache(maxsize=settings.query_cache_size)(self._embed_query)
        log.info("embedding model %s on %s", self.model_name, self.backend)

    @property
    def cache_namespace(self) -> str:
        """What makes these vectors exactly: the model build and the backend (backends that share an index
        still differ in the last digits, and a cached vector should be the very one this backend gives)."""
        return f"{self.fingerprint}|{self.backend}"

    @property
    def dimension(self) -> int:
        """Length of the vectors this model makes."""
        return int(self.encoder.dimension)

    def count_tokens(self, text: str) -> int:
        """Tokens the model's tokenizer makes of ``text`` (special tokens excluded)."""
        return self.encoder.count_tokens(text)

    def encode_documents(self, texts: list[str], batch_size: int = 16) -> np.ndarray:
        """Document vectors as a float32 matrix, one row per text."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return self.encoder.encode(texts, "document", batch_size)

    def encode_query(self, text: str) -> np.ndarray:
        """The query vector of one question (read-only: it may be shared through the cache)."""
        return self._query_vectors(text)

    def _embed_query(self, text: str) -> np.ndarray:
        vector = self.encoder.encode([text], "query", 1)[0]
        vector.setflags(write=False)
        return vector

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """LangChain interface: document vectors as lists."""
        return self.encode_documents(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        """LangChain interface: a query vector as a list."""
        return self.encode_query(text).tolist()
