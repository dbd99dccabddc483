"""Whether generative answers can be offered right now, and if not, why (for the page's mode control).

Cheap checks only, never a model load: an OpenAI-compatible server must answer ``GET /models`` within a
short timeout; a local model needs its GGUF file and the ``xllamacpp`` package. An answer that still fails
later falls back to the extractive one, as always.
"""

from __future__ import annotations

import importlib.util
import logging
from dataclasses import dataclass
from typing import Literal

import httpx

from assistant.models.files import LLM_FILENAME
from assistant.settings import Settings

log = logging.getLogger(__name__)

#: Seconds a configured model server gets to answer the check.
PROBE_TIMEOUT = 2.0

Reason = Literal["unreachable", "not_installed", "failed"]


@dataclass(frozen=True)
class GenerativeStatus:
    """``available``, or the ``reason`` it is not (``detail`` says more, for logs and operators)."""

    available: bool
    reason: Reason | None = None
    detail: str = ""


AVAILABLE = GenerativeStatus(True)


def check_generative(settings: Settings) -> GenerativeStatus:
    """Whether the configured language model (server or local file) can be used."""
    if settings.llm_base_url:
        url = settings.llm_base_url.rstrip("/") + "/models"
        headers = {"Authorization": f"Bearer {settings.llm_api_key.get_secret_value()}"}
        try:
            response = httpx.get(url, headers=headers, timeout=PROBE_TIMEOUT)
        except httpx.HTTPError as exc:
            return GenerativeStatus(False, "unreachable", f"{type(exc).__name__} from the model server")
        # Some servers have no /models: any answer below 500 shows a server that is up.
        if response.status_code >= 500:
            return GenerativeStatus(False, "unreachable", f"the model server answered {response.status_code}")
        return AVAILABLE
    path = settings.llm_model_path or settings.models_dir / LLM_FILENAME
    if not path.is_file():
        return GenerativeStatus(False, "not_installed", "no local GGUF file (khabar fetch-models --llm)")
    if importlib.util.find_spec("xllamacpp") is None:
        return GenerativeStatus(False, "not_installed", "the xllamacpp package is not installed")
    return AVAILABLE
