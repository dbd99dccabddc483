"""Derived model files: the embedding model exported to ONNX (fp32, and int8 weights) from verified weights.

Hugging Face Optimum is the usual exporter, but neither ``optimum-onnx`` (transformers < 4.58) nor
``optimum-intel`` (transformers < 5.6) installs beside the pinned transformers 5.x, so the export is done here
with PyTorch's own exporter (``torch.onnx.export(dynamo=True)``) and ONNX Runtime's quantizer.

The whole sentence-transformers pipeline (transformer, mean pooling, both dense layers, normalisation) becomes
one graph, so that running it needs neither torch nor sentence-transformers. Every export is:

* built only from the local, verified folder (nothing is downloaded);
* written into a temporary folder beside its final place and renamed when complete;
* checked against the PyTorch model on sample sentences before it is kept;
* described by a manifest (:data:`MANIFEST`) naming the source weights' digest, the kind of export and the
  exporter versions; a manifest that does not match (other weights, other exporter, a tampered file) makes
  the next load rebuild the export.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import tempfile
import time
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Literal

import numpy as np
from filelock import FileLock

from assistant.errors import ModelUnavailable
from assistant.models.files import EMBEDDING_SHA256, _is_verified

log = logging.getLogger(__name__)

ExportKind = Literal["onnx", "onnx-int8"]
#: Bump when the graph's inputs/outputs or the way it is built change: older exports are then rebuilt.
EXPORT_FORMAT = "1"
MANIFEST = "khabar-export.json"
MODEL_FILE = "model.onnx"
OPSET = 18
#: Packages whose versions shape the exported bytes, per kind of export.
EXPORTERS: dict[ExportKind, tuple[str, ...]] = {
    "onnx": ("torch", "transformers", "sentence-transformers", "onnx", "onnxscript"),
    "onnx-int8": ("torch", "transformers", "sentence-transformers", "onnx", "onnxscript", "onnxruntime"),
}
#: An export is kept only if its vectors agree with PyTorch's this well (cosine, worst sample sentence).
#: fp32 agrees to 1 - 1e-7 in practice; int8 weights move vectors by up to ~0.02 (measured 0.979 at worst).
MIN_COSINE: dict[ExportKind, float] = {"onnx": 0.9999, "onnx-int8": 0.95}
#: Sentences the export is checked on: Arabic and English, query and document prompts, one long text
#: (past the 512-token sliding window of some layers) so that masking is exercised.
CHECK_TEXTS = [
    "task: search result | query: من هي الدول الضامنة لمحادثات أستانا؟",
    "task: search result | query: Why was the visit not announced in advance?",
    "title: none | text: التقى الرئيس السوري بشار الأسد الرئيس الروسي فلاديمير بوتين في سوتشي.",
    "title: none | text: " + "The talks took place in Sochi under the guarantor states' sponsorship. " * 50,
]


@dataclass(frozen=True)
class Export:
    """A ready export: the folder, its ONNX file and its manifest."""

    folder: Path
    manifest: dict

    @property
    def model_file(self) -> Path:
        """The ONNX graph (its weights may sit beside it in ``model.onnx.data``)."""
        return self.folder / MODEL_FILE

    @property
    def dimension(self) -> int:
        """Length of the vectors the graph makes."""
        return int(self.manifest["dimension"])


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "absent"


def source_digest(source: Path) -> str:
    """A digest naming the source model folder's contents without reading 1 GB on every start.

    Files verified against the official sha256 digests (see :mod:`assistant.models.files`) count by that
    digest; any other file by its size and modification time.
    """
    verified = EMBEDDING_SHA256 if _is_verified(source, EMBEDDING_SHA256) else {}
    digest = hashlib.sha256()
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        rel = path.relative_to(source).as_posix()
        if rel.startswith(".") or path.suffix in {".md", ".ipynb", ".lock"}:
            continue
        stat = path.stat()
        digest.update(f"{rel} {stat.st_size} {verified.get(rel) or stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def export_folder(models_dir: Path, source: Path, kind: ExportKind) -> Path:
    """Where an export of ``source`` lives, e.g. ``models/embeddinggemma-300m-onnx-int8``."""
    return models_dir / f"{source.name}-{kind}"


def expected_manifest(source: Path, kind: ExportKind) -> dict:
    """What the manifest of a valid export of ``source`` must say (files and dimension aside)."""
    return {"format": EXPORT_FORMAT, "kind": kind, "source": source_digest(source), "opset": OPSET,
            "exporters": {p: _version(p) for p in EXPORTERS[kind]}}


def _files_of(folder: Path) -> dict[str, int]:
    return {p.name: p.stat().st_size for p in sorted(folder.iterdir()) if p.is_file() and p.name != MANIFEST}


def load_valid(folder: Path, expected: dict) -> Export | None:
    """The export in ``folder`` if its manifest matches ``expected`` and its files are intact, else None."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(manifest, dict) or {k: manifest.get(k) for k in expected} != expected:
        return None
    try:
        if manifest.get("files") != _files_of(folder) or MODEL_FILE not in manifest["files"]:
            return None
    except OSError:
        return None
    return Export(folder=folder, manifest=manifest)


def ensure_export(source: Path, models_dir: Path, kind: ExportKind) -> Export:
    """Return a valid export of ``source`` of the given kind, building it (once) when there is none.

    Building takes one to three minutes on a 2-core CPU; later calls only compare the manifest.
    """
    folder = export_folder(models_dir, source, kind)
    expected = expected_manifest(source, kind)
    found = load_valid(folder, expected)
    if found:
        return found
    folder.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(folder) + ".lock"):
        found = load_valid(folder, expected)  # another process may have built it while we waited
        if found:
            return found
        fp32 = ensure_export(source, models_dir, "onnx") if kind == "onnx-int8" else None
        reason = "rebuilding: it is stale or incomplete" if folder.exists() else "building it once"
        log.warning("embedding model export %s: %s into %s (takes a minute or two, offline)",
                    kind, reason, folder)
        started = time.perf_counter()
        tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=folder.name + ".tmp"))
        try:
            if kind == "onnx":
                dimension = _export_fp32(source, tmp)
            else:
                assert fp32 is not None
                dimension = _quantize_int8(fp32, source, tmp)
            manifest = {**expected, "dimension": dimension, "files": _files_of(tmp)}
            (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
            if folder.exists():
                shutil.rmtree(folder)
            tmp.replace(folder)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        log.warning("embedding model export %s ready in %.0f s", kind, time.perf_counter() - started)
        found = load_valid(folder, expected)
        if found is None:
            raise ModelUnavailable(f"the {kind} export in {folder.name} did not validate after building")
        return found


def _export_fp32(source: Path, out: Path) -> int:
    """Trace the sentence-transformers pipeline of ``source`` into ``out/model.onnx``; return its width."""
    import torch
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(source), device="cpu", local_files_only=True).eval()

    class Pipeline(torch.nn.Module):
        """Token ids and mask in, the normalised sentence vector out: every module of the model in turn."""

        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            features = {"input_ids": input_ids, "attention_mask": attention_mask}
            for module in self.model:
                features = module(features)
            return features["sentence_embedding"]

    pipeline = Pipeline().eval()
    # Two texts of different lengths so that neither the batch nor the sequence axis is specialised.
    sample = model.tokenizer(CHECK_TEXTS[:2], padding=True, return_tensors="pt")
    batch, sequence = torch.export.Dim("batch"), torch.export.Dim("sequence")
    with torch.no_grad():
        torch.onnx.export(
            pipeline, (sample["input_ids"], sample["attention_mask"]), str(out / MODEL_FILE), dynamo=True,
            input_names=["input_ids", "attention_mask"], output_names=["sentence_embedding"],
            opset_version=OPSET, external_data=True, verbose=False,
            dynamic_shapes={"input_ids": {0: batch, 1: sequence}, "attention_mask": {0: batch, 1: sequence}},
        )
        reference = model.encode(CHECK_TEXTS, normalize_embeddings=True, convert_to_numpy=True)
    _check(out / MODEL_FILE, source / "tokenizer.json", reference, MIN_COSINE["onnx"])
    np.save(out / "reference.npy", reference)  # kept so that the int8 export is checked without torch
    return int(reference.shape[1])


def needs_reduced_range(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    """True on an x86 CPU without VNNI instructions (read from Linux's ``/proc/cpuinfo``).

    There ONNX Runtime's int8 kernels add pairs of uint8 x int8 products in 16 bits, which saturate with
    full-range weights: on an AVX2-only AMD EPYC the export's vectors fell to cosine 0.75 against PyTorch.
    7-bit weights (``reduce_range``, ONNX Runtime's advice for such CPUs) gave 0.95. VNNI CPUs and other
    platforms keep full-range weights.
    """
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    lines = text.splitlines()
    flags = next((line.split(":", 1)[1].split() for line in lines if line.startswith("flags")), [])
    return "avx2" in flags and not any("vnni" in flag for flag in flags)


def _quantize_int8(fp32: Export, source: Path, out: Path) -> int:
    """Dynamic int8 quantisation of the fp32 export's weights (activations stay float, no calibration)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(fp32.model_file, out / MODEL_FILE, weight_type=QuantType.QInt8, per_channel=True,
                     reduce_range=needs_reduced_range())
    reference = np.load(fp32.folder / "reference.npy")
    _check(out / MODEL_FILE, source / "tokenizer.json", reference, MIN_COSINE["onnx-int8"])
    return fp32.dimension


def _check(model_file: Path, tokenizer_file: Path, reference: np.ndarray, min_cosine: float) -> None:
    """Refuse an export whose vectors stray from the PyTorch reference on :data:`CHECK_TEXTS`."""
    import onnxruntime as ort
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(tokenizer_file))
    session = ort.InferenceSession(str(model_file), providers=["CPUExecutionProvider"])
    vectors = []
    for text in CHECK_TEXTS:
        encoding = tokenizer.encode(text)
        feed = {"input_ids": np.array([encoding.ids], dtype=np.int64),
                "attention_mask": np.array([encoding.attention_mask], dtype=np.int64)}
        vectors.append(session.run(None, feed)[0][0])
    cosine = float(np.min(np.sum(np.asarray(vectors) * reference, axis=1)))
    if cosine < min_cosine:
        raise ModelUnavailable(f"the exported embedding model disagrees with PyTorch (cosine {cosine:.4f} "
                               f"< {min_cosine}); not using it")
    log.info("export checked: worst cosine to PyTorch %.6f", cosine)

