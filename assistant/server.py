"""Serving: the chat page and the HTTP API in one process, on one port; or the API alone for bots.

* ``python app.py`` (or :func:`main`): page at ``/``, API under ``/api/v1`` and ``/v1``, docs at ``/docs``.
* ``uvicorn --factory assistant.server:api_only_app``: the API alone (bot-only deployments).
* ``uvicorn --factory assistant.server:full_app``: page and API, under uvicorn's own options.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import gradio as gr
import uvicorn
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse
from gradio.route_utils import FnIndexInferError
from starlette.routing import Match, Mount, Route

from assistant.api import create_api
from assistant.api.errors import error_response
from assistant.api.security import RequestIdFilter
from assistant.errors import KhabarError
from assistant.facade import Assistant
from assistant.settings import Settings, get_settings
from assistant.web.page import build_page

# The process id tells the workers of `uvicorn --workers N` apart (docs/deployment.md).
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s [pid %(process)d] [%(request_id)s] %(message)s"


def create_app(assistant: Assistant, *, close_assistant: bool = False) -> FastAPI:
    """The ASGI app: the HTTP API (``/api/v1``, ``/v1``, ``/docs``) and the chat page at ``/``."""
    app = create_api(assistant, close_assistant=close_assistant)

    # The page, mounted at "/", would answer any other path with its HTML 404, bots included; unknown API
    # paths get the API's JSON errors instead (405 where the path exists with another method), whatever
    # the method (TRACE too).
    for prefix in ("/api/", "/v1/"):
        app.router.routes.append(Route(prefix + "{rest:path}", _UnknownApiPath(app), methods=None))

    # Mounted last: the API's routes are matched first, the page takes every other path. The footer's
    # "Use via API" would open Gradio's description of its own endpoints, not the /api/v1 API the README
    # documents (at /docs): bot developers are better served without it.
    app = gr.mount_gradio_app(app, build_page(assistant), path="/", footer_links=PAGE_FOOTER_LINKS)
    page_app = next(r.app for r in reversed(app.routes) if isinstance(r, Mount) and r.path == "")

    # Gradio answers a call to an endpoint it does not have (e.g. `ask`, which is not offered when API keys
    # are set) with an unhandled error: a plain 500 and a dropped connection. It is a 404.
    @page_app.exception_handler(FnIndexInferError)
    async def _unknown_page_endpoint(request: Request, exc: FnIndexInferError) -> JSONResponse:
        return error_response(request, 404, "not_found", "the page has no such API endpoint")

    return app


#: Gradio's footer links, less "api" (see :func:`create_app`).
PAGE_FOOTER_LINKS: list = ["gradio", "settings"]


class _UnknownApiPath:
    """An ASGI endpoint for API paths no route serves: 405 if the path exists with another method, else
    404, both as the API's JSON errors. (A class, not a function: Starlette gives a function endpoint
    only GET and HEAD, and any other method would fall through to the page.)"""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        # A partial match is a route (or included router) with this path but another method.
        if any(route.matches(scope)[0] is Match.PARTIAL for route in self.app.router.routes):
            raise HTTPException(status_code=405)
        raise HTTPException(status_code=404)


def configure_logging(level: int = logging.INFO) -> None:
    """Log to stderr with each record's request id (``-`` outside requests)."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


def api_only_app() -> FastAPI:
    """Factory for ``uvicorn --factory``: the API alone, over an assistant built from the settings."""
    configure_logging()
    return create_api(Assistant(get_settings(), progress=True), close_assistant=True)


def full_app() -> FastAPI:
    """Factory for ``uvicorn --factory``: page and API, over an assistant built from the settings."""
    configure_logging()
    return create_app(Assistant(get_settings(), progress=True), close_assistant=True)


def main(settings: Settings | None = None, *, api_only: bool = False) -> None:
    """Build the assistant (fetching models and indexing on first run) and serve until interrupted."""
    configure_logging()
    settings = settings or get_settings()
    try:
        assistant = Assistant(settings, progress=True)
    except KhabarError as exc:  # models missing offline, Chroma server down: a message, not a traceback
        logging.getLogger(__name__).error("cannot start: %s", exc)
        raise SystemExit(1) from None
    try:
        app = create_api(assistant) if api_only else create_app(assistant)
        uvicorn.run(app, host=settings.host, port=settings.port, log_config=None)
    finally:
        assistant.close()


@contextmanager
def serve_in_thread(app: FastAPI, host: str = "127.0.0.1", port: int = 0,
                    startup_timeout: float = 60.0) -> Iterator[str]:
    """Serve ``app`` with uvicorn in a background thread; yields the base URL (``port=0``: a free port).

    For tests and benchmarks that need a real server on loopback; the server stops when the block ends.
    """
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", log_config=None))
    thread = threading.Thread(target=server.run, name="khabar-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the server did not start on {host}:{port}")
        time.sleep(0.05)
    bound = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://{host}:{bound}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
