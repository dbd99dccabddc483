"""The local generative model: a llama.cpp server inside this process (xllamacpp) on a loopback port.

xllamacpp's ``Server`` loads the GGUF and serves llama.cpp's OpenAI-compatible HTTP API on 127.0.0.1, so
the local model is reached exactly like a remote one (``ChatOpenAI`` with a base URL): one code path.
The server lives as long as its ``Server`` object; dropping the object stops it (the C++ destructor joins
the server loop).
"""

from __future__ import annotations

import atexit
import gc
import logging
import threading
from pathlib import Path

from assistant.errors import LLMUnavailable
from assistant.settings import Settings

log = logging.getLogger(__name__)

#: llama.cpp's log verbosity; its default prints every slot event to stderr.
LOG_VERBOSITY = 1


class LocalLLMServer:
    """A GGUF model served by llama.cpp on ``127.0.0.1`` at a free port, started by :meth:`start`.

    >>> server = LocalLLMServer(Path("models/model.gguf"), alias="qwen")  # doctest: +SKIP
    >>> server.start()  # doctest: +SKIP
    'http://127.0.0.1:41234/v1'
    """

    def __init__(self, model_path: Path, *, alias: str, threads: int = 2, context: int = 4096,
                 max_tokens: int = 256) -> None:
        self.model_path = Path(model_path)
        self.alias = alias
        self.threads = threads
        self.context = context
        self.max_tokens = max_tokens
        self._server = None
        self._address: str | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings, model_path: Path) -> LocalLLMServer:
        """A server for ``model_path`` sized by the ``llm_*`` settings."""
        return cls(model_path, alias=settings.llm_model, threads=settings.llm_threads,
                   context=settings.llm_context, max_tokens=settings.llm_max_tokens)

    @property
    def running(self) -> bool:
        """True between :meth:`start` and :meth:`close`."""
        return self._server is not None

    @property
    def base_url(self) -> str:
        """The OpenAI-compatible endpoint (``http://127.0.0.1:PORT/v1``); the server must be running."""
        if self._address is None:
            raise LLMUnavailable("the local language model is not running")
        return self._address + "/v1"

    def start(self) -> str:
        """Load the model and start serving (blocks while the model loads); returns :attr:`base_url`.

        Idempotent. Raises :class:`LLMUnavailable` when the model cannot be loaded.
        """
        with self._lock:
            if self._server is not None:
                return self.base_url
            import xllamacpp

            params = xllamacpp.CommonParams()
            params.model.path = str(self.model_path)
            params.model_alias = {self.alias}
            params.hostnames = ["127.0.0.1"]
            # Port 0: llama.cpp binds any free port itself, so no other process can take it between a
            # probe and the bind.
            params.port = 0
            params.n_ctx = self.context
            # One slot: on a small CPU parallel requests only share the same cores, and each slot
            # would get a fraction of the context.
            params.n_parallel = 1
            # A server-wide cap on generated tokens, in case a client sends no limit of its own.
            params.n_predict = self.max_tokens
            params.cpuparams.n_threads = self.threads
            params.cpuparams_batch.n_threads = self.threads
            params.sampling.temp = 0.0
            # The warm-up decode costs seconds at start and buys nothing for the first real request.
            params.warmup = False
            params.verbosity = LOG_VERBOSITY
            try:
                server = xllamacpp.Server(params)
                address = str(server.listening_address).rstrip("/")
            except Exception as exc:  # the binding raises RuntimeError/ValueError for unloadable files
                log.warning("local language model failed to start: %s", exc)
                raise LLMUnavailable("the local language model could not be started") from exc
            self._server, self._address = server, address
            _RUNNING.add(self)
            log.info("local language model %s serving at %s", self.model_path.name, address)
            return self.base_url

    def close(self) -> None:
        """Stop the server and free the model; safe to call twice."""
        with self._lock:
            server, self._server, self._address = self._server, None, None
            _RUNNING.discard(self)
        if server is not None:
            # The only reference goes here: the destructor stops the HTTP loop and frees the model.
            del server
            gc.collect()
            log.info("local language model stopped")


#: Servers still running, stopped at interpreter exit so llama.cpp's threads do not outlive Python.
_RUNNING: set[LocalLLMServer] = set()


@atexit.register
def _stop_all() -> None:
    for server in list(_RUNNING):
        server.close()
