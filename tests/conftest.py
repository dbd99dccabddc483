"""Shared fixtures: the real embedding model (loaded once per session) and assistants on temporary indexes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from assistant import Assistant, Settings
from assistant.retrieve.embeddings import Embedder
from assistant.settings import PROJECT_ROOT

ARTICLE = PROJECT_ROOT / "data" / "articles" / "assad-putin-sochi.ar.txt"


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
