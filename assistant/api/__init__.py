"""The HTTP API for messaging bots: :func:`create_api` builds it over an :class:`~assistant.Assistant`."""

from assistant.api.app import API_PREFIX, OPENAI_PREFIX, create_api

__all__ = ["API_PREFIX", "OPENAI_PREFIX", "create_api"]
