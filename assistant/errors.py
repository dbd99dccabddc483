"""Errors a user may see. Each carries a message fit to show as it is: no stack trace, no paths."""

from __future__ import annotations


class KhabarError(Exception):
    """Base class: `str(error)` is a short message meant for the person or program that asked."""

    code = "error"


class InvalidQuestion(KhabarError):
    """The question is empty, too long or otherwise unusable."""

    code = "invalid_question"


class ModelUnavailable(KhabarError):
    """A model could not be found, fetched or verified."""

    code = "model_unavailable"


class LLMUnavailable(KhabarError):
    """The generative model's server could not be reached or failed."""

    code = "llm_unavailable"


class ArticleError(KhabarError):
    """An article file could not be read or holds no text."""

    code = "article_error"


class StoreUnavailable(KhabarError):
    """The passage index cannot be read or written now: the Chroma server is down or another process holds
    the embedded index. Retrying later may succeed."""

    code = "store_unavailable"


class StorageError(KhabarError):
    """The data folder cannot take a write (read-only or full): what was asked was not saved."""

    code = "storage_unavailable"


class Starting(KhabarError):
    """The models and the index are still loading (the server answers HTTP before they are ready)."""

    code = "starting"

    def __init__(self, message: str = "Khabar is starting: the models and the index are still loading; "
                                      "retry shortly", *, retry_after: int = 5) -> None:
        super().__init__(message)
        #: Seconds a client should wait before asking again (sent as `Retry-After`).
        self.retry_after = retry_after
