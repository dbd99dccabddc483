"""Khabar: answers questions about news articles with cited passages.

``from assistant import Assistant; Assistant().ask("…")`` is the whole Python interface.
"""

from typing import TYPE_CHECKING, Any

from assistant.errors import InvalidQuestion, KhabarError, LLMUnavailable, ModelUnavailable
from assistant.schemas import Answer, Citation, Message
from assistant.settings import Settings, get_settings

if TYPE_CHECKING:
    from assistant.facade import Assistant

__all__ = ["Answer", "Assistant", "Citation", "InvalidQuestion", "KhabarError", "LLMUnavailable", "Message",
           "ModelUnavailable", "Settings", "get_settings"]


def __getattr__(name: str) -> Any:
    # `Assistant` is imported on first use: the facade pulls in LangChain, bm25s and the model runtime
    # (about 2.5 s), which a server starting its HTTP side first, or `khabar --help`, does not need.
    if name == "Assistant":
        from assistant.facade import Assistant

        return Assistant
    raise AttributeError(f"module 'assistant' has no attribute {name!r}")
