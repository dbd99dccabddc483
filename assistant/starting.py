"""Loading the assistant in the background, so that a server answers HTTP while the models load.

:class:`BackgroundAssistant` stands in for an :class:`~assistant.facade.Assistant` that a thread is still
building (importing the model runtime, loading the embedding model, opening the index, checking the corpus,
a warm-up question). Until it is built every use of it raises :class:`~assistant.errors.Starting`, which the
HTTP API answers with ``503 starting`` and ``Retry-After``, and ``/api/v1/ready`` says ``starting``. This
module imports nothing heavy: it is what lets the server start in about a second (bench/README.md).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from assistant.errors import KhabarError, Starting
from assistant.settings import Settings

if TYPE_CHECKING:
    from assistant.facade import Assistant

log = logging.getLogger(__name__)

#: Asked once after loading so that the first reader does not pay for the first inference and BM25 build.
WARM_UP_QUESTION = "ما هي الدول الضامنة لمحادثات أستانا؟"


def load_assistant(settings: Settings) -> Assistant:
    """Build the configured assistant (models, index, corpus check) and answer one warm-up question."""
    from assistant.facade import Assistant

    assistant = Assistant(settings, progress=True)
    assistant.ask(WARM_UP_QUESTION)
    return assistant


class BackgroundAssistant:
    """An assistant being built by ``build`` in a thread; attribute access waits for nothing: before the
    build ends it raises :class:`Starting`, after a failed build the build's error.

    ``settings`` is available at once (the API reads its limits from it). ``on_failure`` is called with the
    error if the build fails (``make run`` stops the server then).
    """

    def __init__(self, build: Callable[[], Assistant], settings: Settings, *, retry_after: int = 5,
                 on_failure: Callable[[BaseException], None] | None = None) -> None:
        self.settings = settings
        self.retry_after = retry_after
        self.on_failure = on_failure
        self._build = build
        self._assistant: Assistant | None = None
        self._error: BaseException | None = None
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="khabar-loading", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._assistant = self._build()
            log.info("ready: models and index loaded")
        except BaseException as exc:  # any failure must end the wait, or /ready would say `starting` forever
            self._error = exc
            if isinstance(exc, KhabarError):
                log.error("cannot start: %s", exc)
            else:
                log.exception("cannot start")
            if self.on_failure is not None:
                self.on_failure(exc)
        finally:
            self._done.set()

    @property
    def loading(self) -> bool:
        """True while the assistant is being built."""
        return not self._done.is_set()

    def wait(self, timeout: float | None = None) -> Assistant | None:
        """The assistant once built (None if the build failed or ``timeout`` passed first)."""
        self._done.wait(timeout)
        return self._assistant

    def get(self) -> Assistant:
        """The built assistant, or :class:`Starting` while loading, or the build's error."""
        if self._assistant is not None:
            return self._assistant
        if not self._done.is_set():
            raise Starting(retry_after=self.retry_after)
        if isinstance(self._error, KhabarError):
            raise self._error
        raise KhabarError("Khabar could not start; the server log says why")

    def close(self) -> None:
        """Close the assistant if it was built (a build still running is left to end with the process)."""
        if self._assistant is not None:
            self._assistant.close()

    def __getattr__(self, name: str) -> Any:
        # Only called for what this class lacks: the Assistant's own methods and attributes. A proxy rather
        # than an Optional that every route and handler would have to check.
        return getattr(self.get(), name)
