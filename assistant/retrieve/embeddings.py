"""The embedding model, as a LangChain ``Embeddings`` that keeps the model's query/document prompts apart."""

from __future__ import annotations

import hashlib
import logging
import threading

import numpy as np
from langchain_core.embeddings import Embeddings

from assistant.models.files import resolve_embedding_model
from assistant.settings import Settings

log = logging.getLogger(__name__)


class Embedder(Embeddings):
    """sentence-transformers behind LangChain's interface.

    EmbeddingGemma is trained with different prompts for queries and documents, so ``embed_query`` uses
    ``encode_query`` and ``embed_documents`` uses ``encode_document``; mixing them costs recall.
    Vectors are L2-normalised, so a dot product is the cosine similarity.
    """

    def __init__(self, settings: Settings, *, progress: bool = True) -> None:
        from sentence_transformers import SentenceTransformer

        path = resolve_embedding_model(settings, progress=progress)
        self.model_name = settings.embedding_model
        # local_files_only: the folder is complete and verified; nothing may reach for the hub here.
        self.model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        # One fingerprint per model build: an index made with another model is detected by it.
        digest = hashlib.sha256((path / "modules.json").read_bytes())
        digest.update(str(self.model.get_embedding_dimension()).encode())
        self.fingerprint = f"{self.model_name}@{digest.hexdigest()[:12]}"
        self._lock = threading.Lock()

    @property
    def dimension(self) -> int:
        """Length of the vectors this model makes."""
        return int(self.model.get_embedding_dimension())

    def count_tokens(self, text: str) -> int:
        """Tokens the model's tokenizer makes of ``text`` (special tokens excluded)."""
        return len(self.model.tokenizer(text, add_special_tokens=False)["input_ids"])

    def encode_documents(self, texts: list[str]) -> np.ndarray:
        """Document vectors as a float32 matrix, one row per text."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._lock:
            return self.model.encode_document(texts, normalize_embeddings=True, batch_size=16,
                                              convert_to_numpy=True, show_progress_bar=False)

    def encode_query(self, text: str) -> np.ndarray:
        """The query vector of one question."""
        with self._lock:
            return self.model.encode_query([text], normalize_embeddings=True, convert_to_numpy=True,
                                           show_progress_bar=False)[0]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """LangChain interface: document vectors as lists."""
        return self.encode_documents(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        """LangChain interface: a query vector as a list."""
        return self.encode_query(text).tolist()
