"""Shared fixtures: the real embedding model (loaded once per session), a fast fake embedder for tests of
logic, and assistants on temporary indexes.

Tests that check what the model finds (retrieval and answer quality, cross-language questions) use the real
``embedder``/``assistant`` and are marked ``model`` automatically; tests of wiring and bookkeeping (indexing,
persistence, CLI plumbing, handlers) use ``fake_embedder``/``fake_assistant``, which need no model at all.
``pytest -m "not model"`` runs the fast part alone.
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from assistant import Assistant, Settings
from assistant.retrieve.embeddings import Embedder
from assistant.settings import PROJECT_ROOT
from assistant.textnorm import tokenize


def load_script(relative: str, name: str) -> ModuleType:
    """A script of the repository (``bench/…``, ``examples/…``) imported as a module, to test its functions.
    It is registered in ``sys.modules`` because dataclasses look their module up there."""
    spec = importlib.util.spec_from_file_location(name, PROJECT_ROOT / relative)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module

ARTICLE = PROJECT_ROOT / "data" / "articles" / "assad-putin-sochi.ar.txt"


REAL_MODEL_FIXTURES = {"embedder", "assistant"}


#: The slowest test files, slowest first (``--durations`` under two workers, docs/testing.md). They run
#: first so that two pytest-xdist workers (``--dist loadfile --no-loadscope-reorder``) finish together; left
#: to xdist's own order (most tests first) the slow files with few tests came last and ran alone. (The
#: browser tests run after the workers, alone: scripts/test.sh.)
SLOW_FILES_FIRST = (
    "test_retrieval_quality.py", "test_generative.py", "test_embedding_backends.py", "test_faults.py",
    "test_index.py", "test_api_fuzz.py", "test_answer_quality.py",
    "test_workers.py", "test_api.py", "test_starting.py", "test_api_overload.py",
)


def pytest_collection_modifyitems(items) -> None:
    """Mark every test that loads the real embedding model (directly or through a fixture) as ``model``, and
    put the slowest files first (a stable sort: each file's tests keep their order)."""
    for item in items:
        if REAL_MODEL_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.model)
    rank = {name: i for i, name in enumerate(SLOW_FILES_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))


@pytest.fixture(scope="session", autouse=True)
def embedding_cache(tmp_path_factory) -> Iterator[Path]:
    """One cache of document vectors for the whole session, subprocesses included (through the environment):
    the suite builds dozens of indexes of the same article, and embedding it is most of what each costs.
    Each text is still embedded once by the real model; ``test_embedding_cache.py`` tests the cache itself.
    Under pytest-xdist the workers share one file too (in the run's folder, above each worker's own). A cache
    named in the environment is used as it is: scripts/test.sh runs pytest twice on one file."""
    import os

    if os.environ.get("KHABAR_EMBEDDING_CACHE"):
        yield Path(os.environ["KHABAR_EMBEDDING_CACHE"])
        return
    base = tmp_path_factory.getbasetemp()
    path = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "embedding-cache.sqlite"
    os.environ["KHABAR_EMBEDDING_CACHE"] = str(path)
    yield path
    os.environ.pop("KHABAR_EMBEDDING_CACHE", None)


@pytest.fixture(scope="session")
def make_settings(tmp_path_factory) -> Callable[..., Settings]:
    """Settings whose index, data and runtime folders live in a fresh temporary folder."""

    def make(**overrides) -> Settings:
        root = tmp_path_factory.mktemp("khabar")
        values = dict(index_dir=root / "index", data_dir=root / "data", corpus=[ARTICLE],
                      models_dir=PROJECT_ROOT / "models", _env_file=None)
        values.update(overrides)
        return Settings(**values)

    return make


@pytest.fixture(scope="session")
def embedder(make_settings) -> Embedder:
    """The real EmbeddingGemma model, loaded once for the whole test session."""
    return Embedder(make_settings(), progress=False)


@pytest.fixture(scope="session")
def assistant(make_settings, embedder) -> Assistant:
    """An assistant over the default article, indexed in a temporary embedded Chroma store."""
    return Assistant(make_settings(), embedder=embedder)


@pytest.fixture(scope="session")
def article_path() -> Path:
    """The project's copy of the default article."""
    return ARTICLE


class HashEmbedder:
    """A deterministic stand-in for the embedding model (same interface as ``TextEmbedder``): each normalised,
    stemmed token is hashed into one of ``dimension`` buckets, so texts sharing words get similar vectors.

    It knows no meaning and no other language: never evidence that retrieval works, only that the code
    around the model does.
    """

    dimension = 256

    def __init__(self, fingerprint: str = "test/hash-embedder@1") -> None:
        self.fingerprint = fingerprint
        self.documents = 0  # texts embedded as documents, for tests that count re-embedding

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def _vector(self, text: str) -> np.ndarray:
        vector = np.zeros(self.dimension, dtype=np.float32)
        for token in tokenize(text) or text.split():
            bucket = int.from_bytes(hashlib.blake2b(token.encode(), digest_size=4).digest(), "little")
            vector[bucket % self.dimension] += 1.0
        norm = float(np.linalg.norm(vector))
        return vector / norm if norm else vector

    def encode_query(self, text: str) -> np.ndarray:
        return self._vector(text)

    def encode_documents(self, texts: list[str]) -> np.ndarray:
        self.documents += len(texts)
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.stack([self._vector(t) for t in texts])


@pytest.fixture
def fake_embedder() -> HashEmbedder:
    """A fresh fake embedder (its document count starts at 0)."""
    return HashEmbedder()


@pytest.fixture(scope="session")
def fake_assistant(make_settings) -> Assistant:
    """An assistant over the default article with the fake embedder: for tests of logic, not of quality."""
    # Bag-of-words cosines run lower than the model's: the not-found threshold is scaled down with them.
    return Assistant(make_settings(not_found_threshold=0.1), embedder=HashEmbedder())


@pytest.fixture
def use_assistant(monkeypatch):
    """Make the CLI use a given Assistant instead of loading the model again (about 20 s each)."""
    from assistant import cli

    def install(instance):
        monkeypatch.setattr(cli, "_assistant", lambda progress=True, **_: instance)
        return instance

    return install
