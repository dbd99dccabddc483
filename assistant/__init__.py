"""Khabar: answers questions about news articles with cited passages.

``from assistant import Assistant; Assistant().ask("…")`` is the whole Python interface.
"""

from .errors import InvalidQuestion, KhabarError, LLMUnavailable, ModelUnavailable
from .facade import Assistant
from .schemas import Answer, Citation, Message
from .settings import Settings, get_settings

__all__ = ["Answer", "Assistant", "Citation", "InvalidQuestion", "KhabarError", "LLMUnavailable", "Message",
           "ModelUnavailable", "Settings", "get_settings"]
