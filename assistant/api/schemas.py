"""The HTTP API's contract: request, response and error bodies (they make the OpenAPI document)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from assistant.api.conversations import StoredMessage
from assistant.schemas import AnswerKind, ArticleInfo, Citation, FallbackReason, Language, Message
from assistant.settings import AnswerMode

#: Conversation ids chosen by clients (e.g. ``telegram:-1001234``) or by the server (``c_<hex>``).
CONVERSATION_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$"


# --- errors -------------------------------------------------------------------------------------------------
class FieldError(BaseModel):
    """One invalid field of a request."""

    field: str = Field(description="Where the problem is, dotted: e.g. `body.question`.")
    message: str
    type: str = Field(description="A machine-readable kind, e.g. `missing`, `string_too_long`.")


class ErrorBody(BaseModel):
    """What went wrong, fit to show as it is: never a stack trace or a server path."""

    code: str = Field(description="Stable machine-readable code, e.g. `unauthorized`, `question_too_long`.")
    message: str = Field(description="A short human-readable explanation.")
    request_id: str | None = Field(None, description="Quote it when reporting a problem; also in "
                                                     "the X-Request-ID header.")
    limit: int | None = Field(None, description="The limit that was exceeded, when one was.")
    fields: list[FieldError] | None = Field(None, description="The invalid fields, for validation errors.")
    type: str | None = Field(None, description="OpenAI's error class (e.g. `invalid_request_error`), on the "
                                               "OpenAI-compatible routes' own errors.")
    param: str | None = Field(None, description="The request parameter at fault, as OpenAI names it "
                                                "(e.g. `model`).")


class ErrorResponse(BaseModel):
    """Every error answer of the API has this shape (compatible with OpenAI's `error.message`)."""

    error: ErrorBody


# --- asking -------------------------------------------------------------------------------------------------
class AskRequest(BaseModel):
    """A question. Give `conversation_id` to let the server keep the history, or `history` to keep it
    yourself."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "examples": [{"question": "لماذا لم يعلن عن الزيارة مسبقا؟", "conversation_id": "telegram:42"}],
    })

    # No min_length: an empty question gets `invalid_question`, as a blank one does.
    question: str = Field(description="The question, Arabic or English.")
    conversation_id: str | None = Field(
        None, pattern=CONVERSATION_ID_PATTERN,
        description="Server-kept conversation: created on first use, e.g. your chat id. Omit both this and "
                    "`history` to start a new conversation (its id is returned).")
    history: list[Message] | None = Field(
        None, max_length=200,
        description="Earlier turns, oldest first, for a stateless call (nothing is stored). Only the most "
                    "recent turns are used.")
    mode: AnswerMode | None = Field(
        None, description="`extractive` quotes the article; `generative` writes an answer with a language "
                          "model (falling back to `extractive` if the model is unavailable). Server default "
                          "if omitted.")
    language: Language | None = Field(None, description="Answer language; detected from the question if "
                                                        "omitted.")

    @model_validator(mode="after")
    def _one_memory(self) -> AskRequest:
        if self.conversation_id is not None and self.history is not None:
            raise ValueError("give either conversation_id or history, not both")
        return self


class AskResponse(BaseModel):
    """An answer with the passages it cites as `[n]`."""

    answer: str = Field(description="The answer text; `[n]` markers refer to `citations[].n`.")
    language: Language
    mode: AnswerKind = Field(description="How the answer was made: `fallback` means the generative model was "
                                         "unavailable and the extractive answer was given instead "
                                         "(see `note`); `not_found` means the article does not say.")
    citations: list[Citation]
    conversation_id: str | None = Field(description="Where this turn was stored; null for stateless calls.")
    new_conversation: bool | None = Field(
        None, description="True when this turn started the conversation: no `conversation_id` was sent, or "
                          "the server had none under that id (never used, deleted, or expired after being "
                          "idle, so earlier turns were not used). Null for stateless calls.")
    timings: dict[str, float] = Field(description="Milliseconds per stage, plus `total`.")
    note: str | None = Field(None, description="Why a fallback or not-found answer was given.")
    fallback_reason: FallbackReason | None = Field(
        None, description="Set when mode is `fallback`, for a program to act on: `llm_unavailable`, "
                          "`rejected` (by verification), `cancelled` or `no_passages`.")


class StreamDelta(BaseModel):
    """Data of a `delta` event of `/ask/stream`: the next piece of the answer text."""

    text: str


class StreamReplace(BaseModel):
    """Data of a `replace` event of `/ask/stream`: the text streamed so far is to be replaced by `text`."""

    text: str = Field(description="The whole answer text from here on (the deltas before it are dropped).")
    reason: str | None = Field(None, description="Why: the `fallback_reason` when verification rejected the "
                               "generated text and this is the extractive answer (e.g. `rejected`); null "
                               "when the generated text was only cleaned up.")


class StreamDone(BaseModel):
    """Data of the final `done` event of `/ask/stream`."""

    ok: bool = Field(description="False if the stream ended with an `error` event.")


# --- conversations, status, articles ------------------------------------------------------------------------
class ConversationResponse(BaseModel):
    """A stored conversation, oldest turn first."""

    conversation_id: str
    created_at: datetime
    updated_at: datetime
    expires_at: datetime = Field(description="Forgotten after this time unless used again.")
    messages: list[StoredMessage]


class HealthResponse(BaseModel):
    """The process is alive."""

    status: Literal["ok"] = "ok"
    version: str


class ReadyResponse(BaseModel):
    """Whether questions can be answered: models loaded and passages indexed."""

    ready: bool
    articles: int
    passages: int
    starting: bool = Field(False, description="True while the models and the index are still loading.")
    reason: str | None = Field(None, description="Why not ready: `starting`, `store_unavailable` (the Chroma "
                               "server is down) or `no_passages`.")


class ArticlesResponse(BaseModel):
    """The indexed articles."""

    articles: list[ArticleInfo]


class ArticleResponse(BaseModel):
    """One indexed article, whole: citation spans are offsets into `text`."""

    id: str
    title: str
    language: Language
    source: str
    text: str


# --- event streams in the OpenAPI document ------------------------------------------------------------------
def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json_event(event: str, model: str) -> dict:
    """One Server-Sent Event named ``event`` whose data is JSON of the component ``model``."""
    return {"type": "object", "required": ["event", "data"], "properties": {
        "event": {"const": event},
        "data": {"type": "string", "contentMediaType": "application/json", "contentSchema": _ref(model)},
    }}


#: The schema of each event of `/ask/stream` (before OpenAPI 3.2 an event stream's `schema` describes one
#: event, as an object of its `event` and `data` fields; the data's JSON schema is its `contentSchema`).
ASK_STREAM_EVENT = {"oneOf": [_json_event("delta", "StreamDelta"), _json_event("replace", "StreamReplace"),
                              _json_event("answer", "AskResponse"), _json_event("error", "ErrorResponse"),
                              _json_event("done", "StreamDone")]}

#: The schema of each event of a streamed chat completion: a chunk (or an error) as JSON, then `[DONE]`.
CHAT_STREAM_EVENT = {"type": "object", "required": ["data"], "properties": {"data": {
    "type": "string",
    "if": {"const": "[DONE]"},
    "then": {},
    "else": {"contentMediaType": "application/json",
             "contentSchema": {"anyOf": [_ref("ChatCompletionChunk"), _ref("ErrorResponse")]}},
}}}
