"""Assembling the API: routes, limits, error handlers, CORS and the OpenAPI document."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi
from fastapi_offline import FastAPIOffline
from pydantic import BaseModel

from assistant.api import openai_compat, routes
from assistant.api.admission import Admissions
from assistant.api.conversations import ConversationStore
from assistant.api.errors import install_error_handlers
from assistant.api.routes import VERSION, ApiContext
from assistant.api.schemas import StreamDelta, StreamDone, StreamReplace
from assistant.api.security import (
    BodyLimitMiddleware,
    KeyChecker,
    RequestContextMiddleware,
    TokenBucketLimiter,
)
from assistant.datafolder import ensure_writable

if TYPE_CHECKING:  # the facade imports the model runtime; the API starts without it
    from assistant.facade import Assistant
    from assistant.starting import BackgroundAssistant

API_PREFIX = "/api/v1"
OPENAI_PREFIX = "/v1"
#: Where the documentation pages' scripts and styles are served from.
DOCS_ASSETS = "/docs-assets"

DESCRIPTION = """Questions about the indexed news articles, answered with numbered citations of the passages
they rest on, in Arabic or English.

* **Ask**: `POST /api/v1/ask` with `{"question": "...", "conversation_id": "<your chat id>"}`; the server
  keeps the conversation (bounded, forgotten when idle). Or send `history` instead and keep it yourself.
* **Stream**: `POST /api/v1/ask/stream`, same body, answers with Server-Sent Events
  (`delta`… `answer` `done`).
* **Keys**: if the server has API keys configured, send `Authorization: Bearer <key>`.
* **Errors**: always `{"error": {"code", "message", "request_id", ...}}`; `429` comes with `Retry-After`.
* **OpenAI protocol**: `POST /v1/chat/completions` (base URL `http://host:port/v1`), citations in `citations`.
"""


def _add_component(components: dict[str, Any], model: type[BaseModel]) -> None:
    """Add ``model``'s JSON schema (and the models it uses) to the document's components."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, definition in schema.pop("$defs", {}).items():
        components.setdefault(name, definition)
    components.setdefault(model.__name__, schema)


def create_api(assistant: Assistant | BackgroundAssistant, *, conversations: ConversationStore | None = None,
               close_assistant: bool = False) -> FastAPI:
    """The HTTP API over ``assistant`` (routes under ``/api/v1`` and ``/v1``), configured by its settings.

    ``close_assistant``: stop what the assistant started (a local model server) when the app shuts down;
    only for an assistant the app owns. A :class:`~assistant.starting.BackgroundAssistant` still loading is
    served at once: `/api/v1/ready` says `starting` and questions get `503 starting` until it is loaded.
    """
    settings = assistant.settings
    # Conversations, ratings and rate limits are written under the runtime folder: a read-only or full disk
    # stops the start with a message rather than losing the first of them.
    ensure_writable(settings.runtime_dir)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            if close_assistant:
                assistant.close()

    # FastAPIOffline serves Swagger UI (/docs) and ReDoc (/redoc) from files shipped in its wheel instead
    # of a CDN, so the documentation works on a machine without internet.
    app = FastAPIOffline(title="Khabar API", version=VERSION, description=DESCRIPTION, lifespan=lifespan,
                         static_url=DOCS_ASSETS)
    app.state.khabar = ApiContext(
        assistant=assistant, settings=settings,
        conversations=conversations or ConversationStore.from_settings(settings),
        keys=KeyChecker(settings.api_keys, settings.generative_keys,
                        allow_generative=settings.allow_generative),
        # In SQLite under the runtime folder: every worker process of the server shares the allowance.
        limiter=TokenBucketLimiter(settings.rate_limit_per_minute,
                                   settings.runtime_dir / "ratelimit.sqlite3"),
        admissions=Admissions(settings),
    )
    install_error_handlers(app, max_body_bytes=settings.max_body_bytes)
    app.include_router(routes.router, prefix=API_PREFIX)
    app.include_router(openai_compat.router, prefix=OPENAI_PREFIX)

    if settings.cors_origins:  # closed (no CORS headers at all) unless origins are configured
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins,
                           allow_methods=["GET", "POST", "DELETE", "OPTIONS"],
                           allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
                           expose_headers=["X-Request-ID", "Retry-After"])
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes,
                       timeout=settings.body_timeout_seconds,
                       prefixes=(f"{API_PREFIX}/", f"{OPENAI_PREFIX}/"))
    app.add_middleware(RequestContextMiddleware)  # added last: outermost, so every answer carries the id

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, description=app.description,
                                 routes=app.routes)
            # The question limit is a setting, not a constant of the model: publish the configured one.
            components = schema["components"]["schemas"]
            components["AskRequest"]["properties"]["question"]["maxLength"] = settings.max_question_chars
            # Models only named inside event streams' schemas, which FastAPI does not collect.
            for model in (StreamDelta, StreamReplace, StreamDone, openai_compat.ChatCompletionChunk):
                _add_component(components, model)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
