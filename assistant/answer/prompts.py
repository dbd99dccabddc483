"""Prompt and reply templates, read from ``prompts/NAME.LANG.txt``."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from assistant.schemas import Language
from assistant.settings import PROJECT_ROOT

PROMPTS_DIR = PROJECT_ROOT / "prompts"


@lru_cache(maxsize=64)
def template(name: str, language: Language, folder: Path = PROMPTS_DIR) -> str:
    """The text of template ``name`` in ``language``; a missing file is a programming error."""
    return (folder / f"{name}.{language}.txt").read_text(encoding="utf-8").strip()


def render(name: str, language: Language, **values: str) -> str:
    """Template ``name`` in ``language`` with ``values`` filled in."""
    return template(name, language).format(**values)
