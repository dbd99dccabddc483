"""Running the embedding model: PyTorch through sentence-transformers, or an exported graph.

The exported graph (see :mod:`assistant.models.export`) holds the whole sentence-transformers pipeline, so
the exported runners need only a tokenizer (``tokenizers``, the library behind the model's fast tokenizer)
and a runtime: neither torch nor sentence-transformers is imported, which also shortens start-up.
EmbeddingGemma's prompts ("task: search result | query: ", "title: none | text: ") are read from the model's
``config_sentence_transformers.json`` and prepended exactly as ``encode_query``/``encode_document`` do.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

import numpy as np

from assistant.settings import EmbeddingBackend

PromptName = Literal["query", "document"]

#: Backends whose vectors agree with fp32 PyTorch to a cosine of at least this, on every sentence of
#: tests/test_embedding_backends.py, share an index with it (measured: onnx and openvino 1 - 1e-7,
#: openvino-bf16 0.9998). Others (onnx-int8, measured 0.979 at worst) get an index of their own.
SHARED_INDEX_MIN_COSINE = 0.999


@dataclass(frozen=True)
class BackendSpec:
    """How a backend runs and which index its vectors may share."""

    export: Literal["onnx", "onnx-int8"] | None
    runtime: Literal["torch", "onnxruntime", "openvino"]
    precision: Literal["f32", "bf16"] = "f32"
    #: Appended to the fingerprint: "" for backends within SHARED_INDEX_MIN_COSINE of fp32 PyTorch.
    vectors: str = ""


BACKENDS: dict[EmbeddingBackend, BackendSpec] = {
    "torch": BackendSpec(export=None, runtime="torch"),
    "onnx": BackendSpec(export="onnx", runtime="onnxruntime"),
    "onnx-int8": BackendSpec(export="onnx-int8", runtime="onnxruntime", vectors="+int8"),
    "openvino": BackendSpec(export="onnx", runtime="openvino"),
    "openvino-bf16": BackendSpec(export="onnx", runtime="openvino", precision="bf16"),
}


#: Intra-op threads of ONNX Runtime / OpenVINO per call. Measured (bench/README.md, openvino-bf16 on the
#: shared 2-core machine): 1 thread gave 68 ms per question alone and 16.6 questions/s with 4 callers at
#: once, 2 threads 104 ms and 10.6/s. The server answers several requests at once and the machine is
#: shared, so each call takes one core and concurrent calls run side by side (no lock).
INTRA_OP_THREADS = 1
#: Whether ONNX Runtime's idle threads spin waiting for work (its default) or sleep.
SPIN = True


class Encoder(Protocol):
    """What :class:`assistant.retrieve.embeddings.Embedder` needs of a runner."""

    dimension: int

    def encode(self, texts: list[str], prompt: PromptName, batch_size: int) -> np.ndarray:
        """Normalised float32 vectors, one row per text, with the model's prompt for ``prompt``."""
        ...

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` without special tokens."""
        ...


class TorchEncoder:
    """fp32 PyTorch through sentence-transformers (the reference every other runner is checked against)."""

    def __init__(self, source: Path) -> None:
        from sentence_transformers import SentenceTransformer

        # local_files_only: the folder is complete and verified; nothing may reach for the hub here.
        self.model = SentenceTransformer(str(source), device="cpu", local_files_only=True)
        self.dimension = int(self.model.get_embedding_dimension())
        # PyTorch's own thread pool runs one forward at a time well; concurrent calls would oversubscribe.
        self._lock = threading.Lock()

    def encode(self, texts: list[str], prompt: PromptName, batch_size: int) -> np.ndarray:
        """Vectors through ``encode_query``/``encode_document``."""
        method = self.model.encode_query if prompt == "query" else self.model.encode_document
        with self._lock:
            return method(texts, normalize_embeddings=True, batch_size=batch_size, convert_to_numpy=True,
                          show_progress_bar=False)

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` without special tokens."""
        return len(self.model.tokenizer(text, add_special_tokens=False)["input_ids"])


@dataclass(frozen=True)
class ModelText:
    """The tokenizer, prompts and length limit of a sentence-transformers folder."""

    tokenizer_file: Path
    prompts: dict[str, str]
    max_seq_length: int

    @classmethod
    def read(cls, source: Path) -> ModelText:
        """Read them from the model folder's sentence-transformers configuration."""
        config = json.loads((source / "config_sentence_transformers.json").read_text(encoding="utf-8"))
        bert = json.loads((source / "sentence_bert_config.json").read_text(encoding="utf-8"))
        return cls(tokenizer_file=source / "tokenizer.json", prompts=config.get("prompts", {}),
                   max_seq_length=int(bert.get("max_seq_length", 512)))


class GraphEncoder:
    """An exported graph run by ONNX Runtime or OpenVINO.

    Batches are sorted by length (as sentence-transformers does) so that padding is short; the graph
    ignores padded positions through the attention mask, so vectors do not depend on the batch.
    """

    def __init__(self, model_file: Path, text: ModelText, dimension: int, *,
                 runtime: Literal["onnxruntime", "openvino"] = "onnxruntime",
                 precision: Literal["f32", "bf16"] = "f32", threads: int = INTRA_OP_THREADS,
                 spin: bool = SPIN, cache_dir: Path | None = None) -> None:
        from tokenizers import Tokenizer

        self.dimension = dimension
        self.prompts = text.prompts
        self.tokenizer = Tokenizer.from_file(str(text.tokenizer_file))
        self.tokenizer.enable_truncation(max_length=text.max_seq_length)
        # The pad id is irrelevant to the result (masked out); 0 is Gemma's <pad>.
        self.tokenizer.enable_padding(pad_id=0)
        self._run = (_onnxruntime(model_file, threads, spin) if runtime == "onnxruntime"
                     else _openvino(model_file, precision, threads, cache_dir))

    def encode(self, texts: list[str], prompt: PromptName, batch_size: int) -> np.ndarray:
        """Normalised vectors with the model's ``prompt`` prepended, in the order of ``texts``."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        prefix = self.prompts.get(prompt, "")
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        for start in range(0, len(order), batch_size):
            chunk = order[start:start + batch_size]
            encodings = self.tokenizer.encode_batch([prefix + texts[i] for i in chunk])
            ids = np.array([e.ids for e in encodings], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
            out[chunk] = self._run(ids, mask)
        # The graph normalises already; again here so that int8/bf16 rounding leaves unit vectors.
        out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
        return out

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` without special tokens."""
        return len(self.tokenizer.encode(text, add_special_tokens=False).ids)


def _onnxruntime(model_file: Path, threads: int, spin: bool):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    if not spin:
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3  # warnings about unused initialisers are noise here
    session = ort.InferenceSession(str(model_file), options, providers=["CPUExecutionProvider"])

    def run(ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        # InferenceSession.run is thread-safe: concurrent questions need no lock.
        return session.run(None, {"input_ids": ids, "attention_mask": mask})[0]

    return run


def _openvino(model_file: Path, precision: str, threads: int, cache_dir: Path | None):
    import openvino as ov

    core = ov.Core()
    if cache_dir is not None:
        # OpenVINO keeps the compiled model there (keyed by model, settings and its own version): a start
        # then loads it in ~2 s instead of compiling for ~5-15 s.
        core.set_property({"CACHE_DIR": str(cache_dir)})
    compiled = core.compile_model(str(model_file), "CPU", {
        "INFERENCE_PRECISION_HINT": precision, "INFERENCE_NUM_THREADS": threads,
        "PERFORMANCE_HINT": "LATENCY",
    })
    local = threading.local()  # an infer request is not thread-safe; one per thread is

    def run(ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        request = getattr(local, "request", None)
        if request is None:
            request = local.request = compiled.create_infer_request()
        return np.array(request.infer({"input_ids": ids, "attention_mask": mask})[0], copy=True)

    return run


def open_encoder(backend: EmbeddingBackend, source: Path, models_dir: Path) -> Encoder:
    """The runner of ``backend`` for the verified model folder ``source`` (exporting it first if needed)."""
    spec = BACKENDS[backend]
    if spec.export is None:
        return TorchEncoder(source)
    from assistant.models.export import ensure_export

    exported = ensure_export(source, models_dir, spec.export)
    # The cache sits beside the export, not in it: the export's manifest lists every file of its folder.
    cache = exported.folder.with_name(exported.folder.name + "-openvino-cache")
    return GraphEncoder(exported.model_file, ModelText.read(source), exported.dimension,
                        runtime=spec.runtime, precision=spec.precision,
                        cache_dir=cache if spec.runtime == "openvino" else None)


def prepare_backend(backend: EmbeddingBackend, source: Path, models_dir: Path) -> Path | None:
    """Build the files ``backend`` runs from (at set-up time, so the first start is not slowed down).

    Returns the export's folder, or None for a backend that runs the source weights as they are.
    OpenVINO backends are also compiled once, which fills OpenVINO's cache.
    """
    spec = BACKENDS[backend]
    if spec.export is None:
        return None
    from assistant.models.export import ensure_export

    folder = ensure_export(source, models_dir, spec.export).folder
    if spec.runtime == "openvino":
        open_encoder(backend, source, models_dir)
    return folder
