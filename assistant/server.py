"""Serving: the chat page and the HTTP API in one process, on one port; or the API alone for bots.

* ``python app.py`` (or :func:`main`): page at ``/``, API under ``/api/v1`` and ``/v1``, docs at ``/docs``.
* ``uvicorn --factory assistant.server:api_only_app``: the API alone (bot-only deployments).
* ``uvicorn --factory assistant.server:full_app``: page and API, under uvicorn's own options.
"""

from __future__ import annotations

import importlib
import logging
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import TYPE_CHECKING

import anyio
import uvicorn
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.routing import Match, Mount, Route

from assistant.allocator import limit_malloc_arenas
from assistant.api import create_api
from assistant.api.errors import error_response
from assistant.api.security import RequestIdFilter
from assistant.datafolder import ensure_writable
from assistant.errors import KhabarError
from assistant.settings import Settings, get_settings
from assistant.starting import BackgroundAssistant, load_assistant
from assistant.web.call_sessions import PAGE_STATE, ForgetCallSessions

if TYPE_CHECKING:  # the facade and Gradio take seconds to import; they load in the background instead
    from assistant.facade import Assistant

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s [pid %(process)d] [%(request_id)s] %(message)s"


def create_app(assistant: Assistant | BackgroundAssistant, *, close_assistant: bool = False) -> FastAPI:
    """The ASGI app: the HTTP API (``/api/v1``, ``/v1``, ``/docs``) and the chat page at ``/``.

    With a :class:`BackgroundAssistant` still loading, the API answers at once (``starting``) and ``/`` shows
    a page that reloads itself until the chat page, built once the assistant is loaded, takes its place.
    """
    app = create_api(assistant, close_assistant=close_assistant)
    # Added now, before the server starts (Starlette refuses middleware later); it finds the page once
    # mounted. Each page API call's Gradio session is dropped once its result is read.
    app.add_middleware(ForgetCallSessions)

    # The page, mounted at "/", would answer any other path with its HTML 404, bots included; unknown API
    # paths get the API's JSON errors instead (405 where the path exists with another method), whatever
    # the method (TRACE too).
    for prefix in ("/api/", "/v1/"):
        app.router.routes.append(Route(prefix + "{rest:path}", _UnknownApiPath(app), methods=None))

    if isinstance(assistant, BackgroundAssistant) and assistant.wait(0) is None:  # loading, or failed
        _mount_page_when_loaded(app, assistant)
    else:
        _mount_page(app, assistant)
    return app


def _mount_page(app: FastAPI, assistant: Assistant | BackgroundAssistant) -> FastAPI:
    """Mount the chat page at "/"; returns the page's own app."""
    import gradio as gr
    from gradio.route_utils import FnIndexInferError

    from assistant.web.page import build_page

    # Mounted last: the API's routes are matched first, the page takes every other path. The footer's
    # "Use via API" would open Gradio's description of its own endpoints, not the /api/v1 API the README
    # documents (at /docs): bot developers are better served without it.
    # The page's answers take the API's answer slots (one bound for readers and bots alike).
    page = build_page(assistant, admissions=app.state.khabar.admissions)
    # Gradio keeps every session's component state in memory, 10,000 sessions by default: a bound in
    # proportion to this app's readers (browser tabs; conversations also live in the page's own store).
    # Calls of the page's `ask` endpoint, each a session of its own (about 64 KB with its queue entries,
    # measured in bench/README.md), are dropped as soon as their result is read (ForgetCallSessions).
    page.state_session_capacity = assistant.settings.page_sessions
    gr.mount_gradio_app(app, page, path="/", footer_links=PAGE_FOOTER_LINKS)
    setattr(app.state, PAGE_STATE, page)
    page_app = next(r.app for r in reversed(app.routes) if isinstance(r, Mount) and r.path == "")

    # Gradio answers a call to an endpoint it does not have (e.g. `ask`, which is not offered when API keys
    # are set) with an unhandled error: a plain 500 and a dropped connection. It is a 404.
    @page_app.exception_handler(FnIndexInferError)
    async def _unknown_page_endpoint(request: Request, exc: FnIndexInferError) -> JSONResponse:
        return error_response(request, 404, "not_found", "the page has no such API endpoint")

    return page_app


STARTING_PAGE = """<!doctype html><html lang="ar" dir="rtl"><head><meta charset="utf-8">
<meta http-equiv="refresh" content="{seconds}"><title>Khabar</title></head>
<body style="font-family:sans-serif;text-align:center;margin-top:20vh">
<p>خبر يستعد: يجري تحميل النماذج والفهرس. ستتحدث الصفحة تلقائيا.</p>
<p dir="ltr">Khabar is starting: the models and the index are loading. This page reloads itself.</p>
</body></html>"""
FAILED_PAGE = """<!doctype html><html lang="ar" dir="rtl"><head><meta charset="utf-8">
<title>Khabar</title></head>
<body style="font-family:sans-serif;text-align:center;margin-top:20vh">
<p>تعذر تشغيل خبر. سجل الخادم يذكر السبب.</p>
<p dir="ltr">Khabar could not start; the server log says why.</p>
</body></html>"""


def _mount_page_when_loaded(app: FastAPI, assistant: BackgroundAssistant) -> None:
    """Serve a self-reloading "starting" page at "/" until the assistant is loaded, then mount the chat page
    (whose layout reads the indexed articles) and run Gradio's start-up, as its own mount would have."""
    seconds = assistant.retry_after

    async def starting(_: Request) -> HTMLResponse:
        if not assistant.loading:  # the load failed: say so instead of reloading forever
            return HTMLResponse(FAILED_PAGE, status_code=503)
        return HTMLResponse(STARTING_PAGE.format(seconds=seconds), status_code=503,
                            headers={"Retry-After": str(seconds)})

    placeholder = Route("/", starting, methods=["GET", "HEAD"])
    app.router.routes.append(placeholder)
    outer = app.router.lifespan_context

    async def mount_when_loaded(stop: anyio.Event) -> None:
        # Abandoned on shutdown: a server stopped while loading must not wait for the load to finish.
        loaded = await anyio.to_thread.run_sync(assistant.wait, abandon_on_cancel=True)
        if loaded is None:
            return  # the build failed: the log says why, the API answers with the error
        # Importing Gradio takes seconds: off the event loop, so the API keeps answering meanwhile.
        await anyio.to_thread.run_sync(importlib.import_module, "assistant.web.page")
        page_app = _mount_page(app, loaded)
        app.router.routes.remove(placeholder)
        async with page_app.router.lifespan_context(page_app):
            page_app.get_blocks().run_startup_events()
            await page_app.get_blocks().run_extra_startup_events()
            await stop.wait()

    @asynccontextmanager
    async def lifespan(this: FastAPI) -> AsyncIterator[None]:
        async with outer(this) as state, anyio.create_task_group() as tasks:
            stop = anyio.Event()
            tasks.start_soon(mount_when_loaded, stop)
            try:
                yield state
            finally:
                stop.set()
                tasks.cancel_scope.cancel()

    app.router.lifespan_context = lifespan


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


def _assistant(settings: Settings, on_failure=None, *, page: bool = False) -> Assistant | BackgroundAssistant:
    """The configured assistant: loading in the background (``KHABAR_LOAD_IN_BACKGROUND``) or loaded now.

    ``page``: the loading thread also imports Gradio (about 3 s), after the assistant, so that the page is
    mounted within a second of ``/api/v1/ready``. Not in a thread of its own beside the model loading: two
    threads importing packages that share dependencies can hit Python's import-deadlock detection (an
    ImportError at random). Measured in bench/README.md."""

    def load() -> Assistant:
        loaded = load_assistant(settings)
        if page:
            importlib.import_module("assistant.web.page")
        return loaded

    if settings.load_in_background:
        return BackgroundAssistant(load, settings, on_failure=on_failure)
    return load()


def api_only_app() -> FastAPI:
    """Factory for ``uvicorn --factory``: the API alone, over an assistant built from the settings."""
    limit_malloc_arenas()
    configure_logging()
    return create_api(_assistant(get_settings()), close_assistant=True)


def full_app() -> FastAPI:
    """Factory for ``uvicorn --factory``: page and API, over an assistant built from the settings."""
    limit_malloc_arenas()
    configure_logging()
    return create_app(_assistant(get_settings(), page=True), close_assistant=True)


def main(settings: Settings | None = None, *, api_only: bool = False) -> None:
    """Serve until interrupted; the models load in the background (or first, if so configured), fetched and
    indexed on the first run. A failed load (models missing offline, Chroma server down) stops the server
    with a message, not a traceback."""
    limit_malloc_arenas()  # before any thread starts: flat memory under load (assistant/allocator.py)
    configure_logging()
    settings = settings or get_settings()
    server: uvicorn.Server | None = None
    failed = threading.Event()

    def stop(_: BaseException) -> None:
        failed.set()
        if server is not None:
            server.should_exit = True

    try:
        # The data folder is checked before anything loads: read-only or full stops the start at once.
        ensure_writable(settings.runtime_dir)
        assistant = _assistant(settings, on_failure=stop, page=not api_only)
    except KhabarError as exc:  # models missing offline, Chroma server down, data folder read-only or full
        logging.getLogger(__name__).error("cannot start: %s", exc)
        raise SystemExit(1) from None
    try:
        try:
            app = create_api(assistant) if api_only else create_app(assistant)
        except KhabarError as exc:
            logging.getLogger(__name__).error("cannot start: %s", exc)
            raise SystemExit(1) from None
        server = uvicorn.Server(uvicorn.Config(app, host=settings.host, port=settings.port, log_config=None))
        if not failed.is_set():
            server.run()
    finally:
        assistant.close()
    if failed.is_set():
        raise SystemExit(1)


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
        thread.join(timeout=3)
        if thread.is_alive():
            # A client that keeps its connection open (Gradio's event stream) holds a graceful shutdown
            # until uvicorn gives up; nothing here needs it finished, so stop waiting for it.
            server.force_exit = True
            thread.join(timeout=30)
