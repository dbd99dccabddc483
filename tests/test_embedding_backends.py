"""Embedding backends: exports fingerprinted and reused, vectors agreeing with fp32 PyTorch, index reuse.

The first run builds the exports in the models folder (about two minutes on 2 cores); later runs reuse them.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from assistant import Assistant, Settings
from assistant.models import export
from assistant.models.files import resolve_embedding_model
from assistant.retrieve.embeddings import BACKENDS, SHARED_INDEX_MIN_COSINE, Embedder
from assistant.retrieve.store import ChromaIndex
from assistant.settings import EMBEDDING_BACKENDS

QUESTIONS = [
    "من هي الدول الضامنة لمحادثات أستانا؟",
    "لماذا لم يعلن عن الزيارة مسبقا؟",
    "كم عدد السفن الحربية التي تخطط موسكو لنشرها؟",
    "Who are the guarantor states of the Astana talks?",
    "Why was the visit not announced in advance?",
    "What is the population of Sochi?",
]
DOCUMENTS = [
    "التقى الرئيس السوري بشار الأسد نظيره الروسي فلاديمير بوتين في منتجع سوتشي على البحر الأسود.",
    "ويأتي اللقاء تحت رعاية الدول الضامنة وهي تركيا وروسيا وإيران.",
    "Moscow plans to deploy warships to the eastern Mediterranean.",
]


def _link_tree(src: Path, dst: Path) -> None:
    """Copy an export folder by hard links (instant, no extra disk) so tests may tamper with their copy."""
    shutil.copytree(src, dst, copy_function=os.link)


@pytest.fixture(scope="session")
def source(make_settings) -> Path:
    """The verified EmbeddingGemma folder."""
    return resolve_embedding_model(make_settings(), progress=False)


@pytest.fixture(scope="session")
def shared_exports(make_settings, source) -> dict[str, export.Export]:
    """Both exports in the real models folder, built once if missing (the slow part of this file)."""
    models_dir = make_settings().models_dir
    return {kind: export.ensure_export(source, models_dir, kind) for kind in ("onnx", "onnx-int8")}


@pytest.fixture()
def private_models(tmp_path, shared_exports, source) -> Path:
    """A models folder of this test's own, holding hard-linked copies of both exports."""
    for kind, found in shared_exports.items():
        _link_tree(found.folder, export.export_folder(tmp_path, source, kind))
    return tmp_path


@pytest.fixture(scope="session")
def torch_embedder(make_settings) -> Embedder:
    """The fp32 PyTorch reference."""
    return Embedder(make_settings(embedding_backend="torch"), progress=False)


@pytest.fixture(scope="session")
def backend_embedders(make_settings, shared_exports) -> dict[str, Embedder]:
    """One embedder per exported backend (the exports already exist, so these only load)."""
    return {name: Embedder(make_settings(embedding_backend=name), progress=False)
            for name in EMBEDDING_BACKENDS if name != "torch"}


# -- settings -------------------------------------------------------------------------------------------
def test_unknown_backend_names_are_rejected(monkeypatch):
    with pytest.raises(ValidationError, match="embedding_backend"):
        Settings(embedding_backend="tensorrt", _env_file=None)
    monkeypatch.setenv("KHABAR_EMBEDDING_BACKEND", "onnx-fp8")
    with pytest.raises(ValidationError, match="embedding_backend"):
        Settings(_env_file=None)
    monkeypatch.setenv("KHABAR_EMBEDDING_BACKEND", "openvino")
    assert Settings(_env_file=None).embedding_backend == "openvino"


def test_every_backend_has_a_spec():
    assert set(BACKENDS) == set(EMBEDDING_BACKENDS)


# -- exports: fingerprinted, reused, rebuilt ----------------------------------------------------------
def test_manifest_names_source_kind_and_exporters(shared_exports, source):
    for kind, found in shared_exports.items():
        manifest = json.loads((found.folder / export.MANIFEST).read_text())
        assert manifest["kind"] == kind
        assert manifest["source"] == export.source_digest(source)
        assert manifest["exporters"]["torch"].startswith("2.13")
        assert manifest["files"][export.MODEL_FILE] == found.model_file.stat().st_size
        assert manifest["dimension"] == 768
    assert "onnxruntime" in shared_exports["onnx-int8"].manifest["exporters"]


@pytest.mark.parametrize(("cpuinfo", "reduced"), [
    ("processor\t: 0\nflags\t\t: fpu sse2 avx avx2 fma\n", True),  # AVX2 only: int8 sums saturate
    ("processor\t: 0\nflags\t\t: fpu sse2 avx avx2 avx512f avx512_vnni\n", False),
    ("processor\t: 0\nflags\t\t: fpu sse2 avx avx2 avx_vnni\n", False),
    ("processor\t: 0\nFeatures\t: fp asimd asimddp\n", False),  # ARM: other kernels
    (None, False),  # no /proc/cpuinfo (macOS, Windows)
])
def test_int8_weights_use_seven_bits_only_where_the_cpu_lacks_vnni(tmp_path, cpuinfo, reduced):
    path = tmp_path / "cpuinfo"
    if cpuinfo is not None:
        path.write_text(cpuinfo, encoding="utf-8")
    assert export.needs_reduced_range(path) is reduced


def test_second_load_reuses_the_export(private_models, source, monkeypatch):
    def must_not_build(*args, **kwargs):
        raise AssertionError("the export was rebuilt although its manifest matches")

    monkeypatch.setattr(export, "_export_fp32", must_not_build)
    monkeypatch.setattr(export, "_quantize_int8", must_not_build)
    for kind in ("onnx", "onnx-int8"):
        folder = export.export_folder(private_models, source, kind)
        before = (folder / export.MANIFEST).stat().st_mtime_ns
        found = export.ensure_export(source, private_models, kind)
        assert found.folder == folder
        assert (folder / export.MANIFEST).stat().st_mtime_ns == before


def _tamper(folder: Path, how: str) -> None:
    manifest_path = folder / export.MANIFEST
    manifest = json.loads(manifest_path.read_text())
    # Hard links share bytes with the real export: replace files, never write into them.
    manifest_path.unlink()
    if how == "source":
        manifest["source"] = "0" * 64
    elif how == "exporter":
        manifest["exporters"]["onnxruntime"] = "0.0.1"
    elif how == "format":
        manifest["format"] = "0"
    elif how == "file":
        model = folder / export.MODEL_FILE
        data = model.read_bytes()
        model.unlink()
        model.write_bytes(data[: len(data) // 2])
    manifest_path.write_text("{not json" if how == "garbage" else json.dumps(manifest))


@pytest.mark.parametrize("how", ["source", "exporter", "format", "file", "garbage"])
def test_mismatched_manifest_or_file_is_not_valid(private_models, source, how):
    folder = export.export_folder(private_models, source, "onnx-int8")
    assert export.load_valid(folder, export.expected_manifest(source, "onnx-int8")) is not None
    _tamper(folder, how)
    assert export.load_valid(folder, export.expected_manifest(source, "onnx-int8")) is None


def test_tampered_export_is_rebuilt(private_models, source, shared_exports, monkeypatch):
    """A tampered int8 export is found out and rebuilt from the fp32 one, checked against PyTorch again.

    Only the quantiser's arithmetic is not redone (it costs about 40 s and ran for real in
    ``shared_exports``): its stand-in writes the bytes the real quantiser produced there. Detection, the
    locked rebuild in a temporary folder, the check of the new file's vectors and the manifest all run."""
    import onnxruntime.quantization

    folder = export.export_folder(private_models, source, "onnx-int8")
    _tamper(folder, "file")
    quantised = []

    def quantize_dynamic(model_input, model_output, **options):
        assert Path(model_input) == export.export_folder(private_models, source, "onnx") / export.MODEL_FILE
        assert options["weight_type"] == onnxruntime.quantization.QuantType.QInt8
        quantised.append(model_output)
        shutil.copy2(shared_exports["onnx-int8"].model_file, model_output)

    monkeypatch.setattr(onnxruntime.quantization, "quantize_dynamic", quantize_dynamic)
    rebuilt = export.ensure_export(source, private_models, "onnx-int8")
    assert len(quantised) == 1
    assert rebuilt.folder == folder
    assert rebuilt.manifest["source"] == export.source_digest(source)
    assert rebuilt.model_file.stat().st_size == rebuilt.manifest["files"][export.MODEL_FILE]
    assert export.load_valid(folder, export.expected_manifest(source, "onnx-int8")) is not None
    assert not list(private_models.glob("*.tmp*"))  # the temporary build folder is gone


def test_other_source_weights_do_not_match(shared_exports, source, tmp_path):
    other = tmp_path / source.name
    shutil.copytree(source, other, copy_function=os.link, ignore=shutil.ignore_patterns("model.safetensors"))
    (other / "model.safetensors").write_bytes(b"not the verified weights")
    assert export.source_digest(other) != export.source_digest(source)
    assert export.load_valid(shared_exports["onnx"].folder, export.expected_manifest(other, "onnx")) is None


# -- vectors --------------------------------------------------------------------------------------------
def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(a * b, axis=1)


@pytest.mark.parametrize("name", [n for n in EMBEDDING_BACKENDS if n != "torch"])
def test_backend_vectors_agree_with_fp32_torch(name, torch_embedder, backend_embedders):
    embedder = backend_embedders[name]
    reference_q = np.vstack([torch_embedder.encode_query(q) for q in QUESTIONS])
    reference_d = torch_embedder.encode_documents(DOCUMENTS)
    got_q = np.vstack([embedder.encode_query(q) for q in QUESTIONS])
    got_d = embedder.encode_documents(DOCUMENTS)
    worst = float(min(_cosines(got_q, reference_q).min(), _cosines(got_d, reference_d).min()))
    assert np.allclose(np.linalg.norm(got_q, axis=1), 1.0, atol=1e-4)
    if BACKENDS[name].vectors == "":
        # Same index as torch: the shared-index rule must hold on Arabic and English alike.
        assert worst >= SHARED_INDEX_MIN_COSINE, worst
        assert embedder.fingerprint == torch_embedder.fingerprint
    else:
        assert worst >= export.MIN_COSINE["onnx-int8"], worst
        assert embedder.fingerprint != torch_embedder.fingerprint
    # The ranking that matters: each Arabic question and its English twin pick the same best document.
    assert (np.argmax(got_q @ got_d.T, axis=1) == np.argmax(reference_q @ reference_d.T, axis=1)).all()


def test_query_and_document_prompts_are_applied(backend_embedders):
    embedder = backend_embedders["onnx"]
    text = DOCUMENTS[1]
    as_query = embedder.encode_query(text)
    as_document = embedder.encode_documents([text])[0]
    assert float(as_query @ as_document) < 0.99  # different prompts, different vectors


def test_batches_do_not_change_vectors(backend_embedders):
    embedder = backend_embedders["onnx"]
    texts = [DOCUMENTS[0], "نص قصير", DOCUMENTS[2] * 8]
    together = embedder.encode_documents(texts, batch_size=3)
    alone = np.vstack([embedder.encode_documents([t]) for t in texts])
    assert _cosines(together, alone).min() > 0.99999


def test_token_counts_match_the_torch_tokenizer(torch_embedder, backend_embedders):
    for text in [*QUESTIONS, *DOCUMENTS]:
        assert backend_embedders["onnx-int8"].count_tokens(text) == torch_embedder.count_tokens(text)


# -- index compatibility ----------------------------------------------------------------------------------
def test_store_reuses_the_index_within_tolerance_and_rebuilds_otherwise(make_settings, torch_embedder,
                                                                        backend_embedders, article_path,
                                                                        tmp_path):
    # The headline and three paragraphs (the guarantors' among them): the index is built twice with backends
    # whose vectors no cache holds, and the whole article would cost the real model a minute under load.
    paragraphs = [p for p in article_path.read_text(encoding="utf-8").split("\n") if p.strip()]
    short = tmp_path / "assad-putin-sochi.ar.txt"
    short.write_text("\n\n".join([paragraphs[0], *(p for p in paragraphs if "استانا" in p)][:4]),
                     encoding="utf-8")
    settings = make_settings(corpus=[short])
    built = Assistant(settings, embedder=torch_embedder)
    passages = built.store.count()
    assert passages > 0
    # fp32 ONNX agrees with torch within SHARED_INDEX_MIN_COSINE: the index is kept as it is.
    assert ChromaIndex(settings, backend_embedders["onnx"]).count() == passages
    assert ChromaIndex(settings, backend_embedders["openvino-bf16"]).count() == passages
    # int8 does not: the index is dropped, then rebuilt with int8 vectors by the assistant.
    assert ChromaIndex(settings, backend_embedders["onnx-int8"]).count() == 0
    rebuilt = Assistant(settings, embedder=backend_embedders["onnx-int8"])
    assert rebuilt.store.count() == passages
    answer = rebuilt.ask("من هي الدول الضامنة لمحادثات أستانا؟")
    assert "تركيا" in answer.answer and "إيران" in answer.answer
