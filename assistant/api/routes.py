"""The `/api/v1` routes: ask (JSON and Server-Sent Events), conversations, status and articles.

Just over 300 lines: one route table, so that the API's surface reads in one place.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import aclosing
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Annotated

import anyio
from fastapi import APIRouter, Depends, Path, Request, Response
from fastapi.responses import JSONResponse
from sse_starlette import ServerSentEvent

from assistant.api.admission import Admission, Admissions
from assistant.api.answering import HeldEventSourceResponse, answer_items, final_answer
from assistant.api.conversations import ConversationStore
from assistant.api.errors import UNPAIRED_SURROGATE, ApiError, error_body, error_responses, khabar_status
from assistant.api.schemas import (
    ASK_STREAM_EVENT,
    CONVERSATION_ID_PATTERN,
    ArticleResponse,
    ArticlesResponse,
    AskRequest,
    AskResponse,
    ConversationResponse,
    FieldError,
    HealthResponse,
    ReadyResponse,
)
from assistant.api.security import Client, KeyChecker, TokenBucketLimiter, rate_limited
from assistant.errors import ArticleError, KhabarError, StoreUnavailable
from assistant.schemas import Answer, Message, Replace
from assistant.settings import Settings

if TYPE_CHECKING:  # the facade imports the model runtime: the API starts without it (assistant.starting)
    from assistant.facade import Assistant

log = logging.getLogger("assistant.api")

try:
    VERSION = version("khabar")
except PackageNotFoundError:  # running from a source tree that is not installed
    VERSION = "0.0.0"


@dataclass
class ApiContext:
    """What the routes need, kept on ``app.state.khabar``."""

    assistant: Assistant
    settings: Settings
    conversations: ConversationStore
    keys: KeyChecker
    limiter: TokenBucketLimiter
    admissions: Admissions


def context(request: Request) -> ApiContext:
    """FastAPI dependency: the API's shared objects."""
    return request.app.state.khabar


Ctx = Annotated[ApiContext, Depends(context)]
Caller = Annotated[Client, Depends(rate_limited)]
ConversationId = Annotated[str, Path(pattern=CONVERSATION_ID_PATTERN, description="The conversation's id.")]

#: Error answers every guarded route may give.
GUARDED = (401, 403, 429, 500)


def require_json(request: Request) -> None:
    """FastAPI dependency of the routes that take a JSON body: any other declared media type is a 415.

    Without it FastAPI hands a `text/plain` body to validation as bytes and answers a puzzling 422
    ("Input should be a valid dictionary"); so it does a body sent with no `Content-Type` at all (FastAPI
    no longer reads such a body as JSON), which gets the 415 too.
    """
    declared = request.headers.get("content-type")
    if declared is None:
        raise ApiError(415, "unsupported_media_type",
                       "the body must be JSON: send the header Content-Type: application/json")
    media_type = declared.split(";", 1)[0].strip().lower()
    if media_type == "application/json" or (media_type.startswith("application/")
                                             and media_type.endswith("+json")):
        return
    shown = media_type[:60] or "empty"
    raise ApiError(415, "unsupported_media_type",
                   f"the body must be JSON (Content-Type: application/json), not {shown!r}")


JsonBody = [Depends(require_json)]

router = APIRouter()


class EventStream(JSONResponse):
    """Documentation marker for routes answering with Server-Sent Events (sse-starlette builds the actual
    response). Being a JSONResponse makes FastAPI keep the documented per-event schema as it is given
    instead of merging it into `{"type": "string"}`."""

    media_type = "text/event-stream"


# --- asking -------------------------------------------------------------------------------------------------
@dataclass
class _Turn:
    question: str
    history: list[Message]
    conversation_id: str | None
    #: The server had no turns under this id (none sent, unknown, deleted or expired); None when stateless.
    new_conversation: bool | None = None


def check_text(text: str, field: str) -> str:
    """``text`` if it is valid Unicode, else a 422. JSON's `\\ud800` escapes decode to lone surrogates,
    which no tokenizer, database or JSON encoder downstream accepts."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        fields = [FieldError(field=field, message=UNPAIRED_SURROGATE, type="invalid_text")]
        raise ApiError(422, "invalid_text", UNPAIRED_SURROGATE, fields=fields) from None
    return text


def check_history(history: list[Message], field: str) -> list[Message]:
    """The history turns, each checked with :func:`check_text`."""
    for i, message in enumerate(history):
        check_text(message.content, f"{field}.{i}.content")
    return history


def check_question(ctx: ApiContext, text: str, field: str = "body.question") -> str:
    """The cleaned question, or a 422 naming the length limit (or saying what else is wrong)."""
    check_text(text, field)
    limit = ctx.settings.max_question_chars
    if len(text) > limit:
        message = f"the question is {len(text)} characters long; the limit is {limit}"
        raise ApiError(422, "question_too_long", message, limit=limit,
                       fields=[FieldError(field=field, message=message, type="question_too_long")])
    return ctx.assistant.validate(text)  # InvalidQuestion (422) if nothing usable is left


def _prepare(ctx: ApiContext, body: AskRequest, client: Client) -> _Turn:
    """Check the question and find the history to answer it with."""
    question = check_question(ctx, body.question)
    if body.history is not None:
        return _Turn(question, check_history(list(body.history), "body.history"), None)
    conversation_id = body.conversation_id or f"c_{uuid.uuid4().hex}"
    conversation = ctx.conversations.get(conversation_id, client.owner)
    history = conversation.history() if conversation else []
    return _Turn(question, history, conversation_id, new_conversation=conversation is None)


def _finish(ctx: ApiContext, turn: _Turn, answer: Answer, client: Client) -> AskResponse:
    """Store the turn (for server-kept conversations) and shape the answer."""
    if turn.conversation_id is not None:
        ctx.conversations.append(turn.conversation_id, [Message(role="user", content=turn.question),
                                                        Message(role="assistant", content=answer.answer)],
                                 client.owner)
    return AskResponse(answer=answer.answer, language=answer.language, mode=answer.mode,
                       citations=answer.citations, conversation_id=turn.conversation_id,
                       new_conversation=turn.new_conversation,
                       timings=answer.timings, note=answer.note, fallback_reason=answer.fallback_reason)


@router.post("/ask", response_model=AskResponse, tags=["ask"], summary="Ask a question",
             dependencies=JsonBody,
             responses=error_responses(400, 401, 403, 413, 415, 422, 429, 500, 503, retry_after=True))
async def ask(body: AskRequest, request: Request, ctx: Ctx, client: Caller) -> AskResponse | Response:
    """Answer a question about the indexed articles, with numbered citations of the passages used.

    With `conversation_id` the server keeps the turns (send your chat's id); with `history` nothing is stored.
    When the server is busy, `503` (`overloaded`, or `generative_busy`) with `Retry-After`.
    """
    turn = await anyio.to_thread.run_sync(_prepare, ctx, body, client)
    admission = await ctx.admissions.admit(body.mode, client.may_generate)
    answer = await final_answer(answer_items(request, ctx.assistant, admission, turn.question, turn.history,
                                             body.language))
    if answer is None:  # the client left: nobody reads an answer, nothing is stored
        return Response(status_code=CLIENT_CLOSED_REQUEST)
    return await anyio.to_thread.run_sync(_finish, ctx, turn, answer, client)


#: The status logged for a request whose client left before its answer (nginx's convention).
CLIENT_CLOSED_REQUEST = 499


_STREAM_DOC = """Server-Sent Events, in this order:

* `delta` (any number): `{"text": "..."}`, the next piece of the answer text; a generative answer streams
  as the model writes it, before it is verified;
* `replace` (at most once, generative answers only): `{"text": "...", "reason": "rejected" | … | null}`:
  drop the deltas shown so far and show `text`, the answer from here on. Sent when verification rejected the
  generated text (`reason` is the answer's `fallback_reason`, `text` the extractive answer) or cleaned it up
  (`reason` null); more deltas do not follow it;
* `answer` (once): the final object, exactly as `POST /ask` returns it (`AskResponse`, with citations);
* `done` (once, last): `{"ok": true}`.

If answering fails after the stream has started, an `error` event carrying an `ErrorResponse` replaces
`answer`, and `done` has `{"ok": false}`. Closing the connection stops the answer being generated.
Errors found before the stream starts (bad key, too long, …) are ordinary JSON error answers."""


@router.post("/ask/stream", tags=["ask"], summary="Ask a question, streaming the answer",
             response_class=EventStream, dependencies=JsonBody,
             responses={200: {"description": _STREAM_DOC,
                              "content": {"text/event-stream": {"schema": ASK_STREAM_EVENT}}},
                        **error_responses(400, 401, 403, 413, 415, 422, 429, 500, 503, retry_after=True,
                                          by_reference=True)})
async def ask_stream(body: AskRequest, request: Request, ctx: Ctx,
                     client: Caller) -> HeldEventSourceResponse:
    """Like `POST /ask`, but the answer arrives as Server-Sent Events while it is produced."""
    turn = await anyio.to_thread.run_sync(_prepare, ctx, body, client)
    admission = await ctx.admissions.admit(body.mode, client.may_generate)
    return HeldEventSourceResponse(_events(request, ctx, body, turn, client, admission), ping=15,
                                   on_close=admission.release)


async def _events(request: Request, ctx: ApiContext, body: AskRequest, turn: _Turn, client: Client,
                  admission: Admission) -> AsyncIterator[ServerSentEvent]:
    """The event stream of one answer: deltas, the final object, done (or an error event, then done)."""
    final: Answer | None = None
    try:
        items = answer_items(request, ctx.assistant, admission, turn.question, turn.history, body.language,
                             live=True)
        async with aclosing(items) as pieces:
            async for item in pieces:
                if isinstance(item, Answer):
                    final = item
                elif isinstance(item, Replace):
                    yield ServerSentEvent(event="replace", data=json.dumps(
                        {"text": item.text, "reason": item.reason}, ensure_ascii=False))
                else:
                    yield ServerSentEvent(event="delta", data=json.dumps({"text": item}, ensure_ascii=False))
        if final is None:
            return  # the client left: nobody to tell, nothing to store
        response = await anyio.to_thread.run_sync(_finish, ctx, turn, final, client)
        yield ServerSentEvent(event="answer", data=response.model_dump_json())
    except KhabarError as exc:
        final = None
        log.info("stream ended with %s (%s)", exc.code, khabar_status(exc))
        yield ServerSentEvent(event="error", data=json.dumps(error_body(request, exc.code, str(exc)),
                                                             ensure_ascii=False))
    except Exception as exc:  # the headers are sent: the error can only travel as an event
        final = None
        log.error("unhandled error while streaming", exc_info=exc)
        yield ServerSentEvent(event="error", data=json.dumps(error_body(
            request, "internal_error", "internal server error; quote the request id when reporting it")))
    yield ServerSentEvent(event="done", data=json.dumps({"ok": final is not None}))


# --- conversations ------------------------------------------------------------------------------------------
@router.get("/conversations/{conversation_id}", response_model=ConversationResponse, tags=["conversations"],
            summary="Read a conversation", responses=error_responses(404, 422, *GUARDED, retry_after=True))
def get_conversation(conversation_id: ConversationId, ctx: Ctx, client: Caller) -> ConversationResponse:
    """The turns the server keeps for this conversation (404 if unknown or expired)."""
    conversation = ctx.conversations.get(conversation_id, client.owner)
    if conversation is None:
        raise ApiError(404, "conversation_not_found", f"no conversation with id {conversation_id!r}")
    return ConversationResponse(conversation_id=conversation.id, created_at=conversation.created_at,
                                updated_at=conversation.updated_at, expires_at=conversation.expires_at,
                                messages=conversation.messages)


@router.delete("/conversations/{conversation_id}", status_code=204, response_class=Response,
               tags=["conversations"], summary="Forget a conversation",
               responses={204: {"description": "Deleted."},
                          **error_responses(404, 422, *GUARDED, retry_after=True)})
def delete_conversation(conversation_id: ConversationId, ctx: Ctx, client: Caller) -> Response:
    """Delete the conversation and its turns (404 if unknown or expired)."""
    if not ctx.conversations.delete(conversation_id, client.owner):
        raise ApiError(404, "conversation_not_found", f"no conversation with id {conversation_id!r}")
    return Response(status_code=204)


# --- status and articles ------------------------------------------------------------------------------------
@router.get("/health", response_model=HealthResponse, tags=["status"], summary="Liveness",
            responses=error_responses(500))
def health() -> HealthResponse:
    """Always `ok` while the process serves requests (no key needed)."""
    return HealthResponse(version=VERSION)


@router.head("/health", include_in_schema=False)
def health_head() -> Response:
    """Uptime checkers probe with HEAD: 200, no body."""
    return Response(status_code=200)


@router.get("/ready", response_model=ReadyResponse, tags=["status"], summary="Readiness",
            responses={503: {"model": ReadyResponse,
                             "description": "Not ready: still loading (`starting`), nothing indexed, or "
                                            "the index unreachable (`reason`)."},
                       **error_responses(500)})
def ready(ctx: Ctx) -> JSONResponse:
    """200 when the embedding model is loaded and passages are indexed, else 503 with the `reason`
    (`starting`, `store_unavailable`, `no_passages`); no key needed.

    While the server is still loading them (`KHABAR_LOAD_IN_BACKGROUND`): 503 with `starting` true."""
    if getattr(ctx.assistant, "loading", False):
        status = ReadyResponse(ready=False, articles=0, passages=0, starting=True, reason="starting")
        return JSONResponse(status.model_dump(), status_code=503,
                            headers={"Retry-After": str(ctx.assistant.retry_after)})
    try:
        indexed = ctx.assistant.articles()
    except StoreUnavailable:
        status = ReadyResponse(ready=False, articles=0, passages=0, reason="store_unavailable")
        return JSONResponse(status.model_dump(), status_code=503)
    is_ready = ctx.assistant.ready()
    status = ReadyResponse(ready=is_ready, articles=len(indexed), passages=sum(a.passages for a in indexed),
                           reason=None if is_ready else "no_passages")
    return JSONResponse(status.model_dump(), status_code=200 if is_ready else 503)


@router.get("/articles", response_model=ArticlesResponse, tags=["articles"], summary="List indexed articles",
            responses=error_responses(*GUARDED, retry_after=True))
def articles(ctx: Ctx, client: Caller) -> ArticlesResponse:
    """The articles questions are answered from."""
    return ArticlesResponse(articles=ctx.assistant.articles())


@router.get("/articles/{article_id}", response_model=ArticleResponse, tags=["articles"],
            summary="Read an article", responses=error_responses(404, 422, *GUARDED, retry_after=True))
def article(article_id: Annotated[str, Path(min_length=1, max_length=200)], ctx: Ctx,
            client: Caller) -> ArticleResponse:
    """One article's full text: citation `span`s are character offsets into `text`."""
    try:
        found = ctx.assistant.article(article_id)
    except ArticleError as exc:
        raise ApiError(404, "article_not_found", str(exc)) from exc
    return ArticleResponse(id=found.id, title=found.title, language=found.language, source=found.source,
                           text=found.text)
