"""Khabar: answers questions about news articles with cited passages.

``from assistant import Assistant; Assistant().ask("…")`` is the whole Python interface.
"""

from assistant.errors import InvalidQuestion, KhabarError, LLMUnavailable, ModelUnavailable
from assistant.facade import Assistant
from assistant.schemas import Answer, Citation, Message
from assistant.settings import Settings, get_settings

__all__ = ["Answer", "Assistant", "Citation", "InvalidQuestion", "KhabarError", "LLMUnavailable", "Message",
           "ModelUnavailable", "Settings", "get_settings"]
