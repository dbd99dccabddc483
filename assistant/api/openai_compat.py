"""`POST /v1/chat/completions` and `GET /v1/models`: the OpenAI chat protocol, so that bot frameworks that
speak it can use Khabar unchanged (base URL ``http://host:port/v1``). Citations travel in an extra
top-level ``citations`` field; Khabar's mode, language and timings in ``khabar``."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Annotated, Literal

import anyio
from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sse_starlette import ServerSentEvent

from assistant.api.answering import HeldEventSourceResponse, answer_items, final_answer
from assistant.api.errors import ApiError, error_body, error_responses
from assistant.api.routes import (
    CLIENT_CLOSED_REQUEST,
    ApiContext,
    Caller,
    Ctx,
    JsonBody,
    check_question,
    check_text,
    log,
)
from assistant.api.schemas import CHAT_STREAM_EVENT, FieldError
from assistant.errors import KhabarError
from assistant.schemas import Answer, AnswerKind, Citation, Language, Message
from assistant.settings import AnswerMode

#: Model names a client may ask for (any other name is a 404 `model_not_found`, as OpenAI answers it).
MODELS: dict[str, AnswerMode | None] = {
    "khabar": None, "khabar-extractive": "extractive", "khabar-generative": "generative",
}


class ChatTextPart(BaseModel):
    """A text part of a message's content (other part types are not supported)."""

    type: Literal["text"]
    text: str


class ChatMessage(BaseModel):
    """One message of the conversation, as OpenAI clients send it."""

    model_config = ConfigDict(extra="allow")

    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[ChatTextPart] | None = None

    def text(self) -> str:
        """The message's text, parts joined."""
        if isinstance(self.content, list):
            return "".join(part.text for part in self.content)
        return self.content or ""


class StreamOptions(BaseModel):
    """OpenAI's streaming options."""

    model_config = ConfigDict(extra="allow")

    include_usage: bool = Field(False, description="Send a last chunk with empty `choices` and the `usage`.")


class ChatCompletionRequest(BaseModel):
    """An OpenAI chat request: the last message is the question, earlier user/assistant turns the history.
    Sampling options (temperature, max_tokens, …) are accepted and ignored."""

    model_config = ConfigDict(extra="allow")

    model: str = Field("khabar", description="`khabar`, `khabar-extractive` or `khabar-generative` "
                                             "(`GET /v1/models`); any other name is a 404 `model_not_found`.")
    messages: list[ChatMessage] = Field(min_length=1, max_length=200)
    stream: bool = False
    stream_options: StreamOptions | None = None


class CompletionUsage(BaseModel):
    """Tokens of the conversation text and of the answer, counted with the embedding model's tokenizer
    (see the README: the generative model's tokenizer is not loaded in the API process)."""

    prompt_tokens: int = Field(description="Tokens of the question and the history turns used.")
    completion_tokens: int = Field(description="Tokens of the answer text.")
    total_tokens: int


class KhabarInfo(BaseModel):
    """Khabar's own details of the answer."""

    mode: AnswerKind
    language: Language
    note: str | None = None
    timings: dict[str, float]


class ChatCompletionMessage(BaseModel):
    """The assistant's reply."""

    role: Literal["assistant"] = "assistant"
    content: str


class ChatChoice(BaseModel):
    """The one choice Khabar returns."""

    index: int = 0
    message: ChatCompletionMessage
    finish_reason: Literal["stop"] = "stop"


class ChatCompletionResponse(BaseModel):
    """An OpenAI `chat.completion`, plus `citations` and `khabar`."""

    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[ChatChoice]
    citations: list[Citation] = Field(description="The passages the answer cites as `[n]`.")
    khabar: KhabarInfo
    usage: CompletionUsage


class ChunkDelta(BaseModel):
    """The next piece of the reply."""

    role: Literal["assistant"] | None = None
    content: str | None = None


class ChunkChoice(BaseModel):
    """The one streamed choice."""

    index: int = 0
    delta: ChunkDelta
    finish_reason: Literal["stop"] | None = None


class ChatCompletionChunk(BaseModel):
    """An OpenAI `chat.completion.chunk`; the one with `finish_reason` carries `citations` and `khabar`.
    With `stream_options.include_usage` a last chunk follows, with empty `choices` and the `usage`."""

    id: str
    object: Literal["chat.completion.chunk"] = "chat.completion.chunk"
    created: int
    model: str
    choices: list[ChunkChoice]
    citations: list[Citation] | None = None
    khabar: KhabarInfo | None = None
    usage: CompletionUsage | None = None


class ModelCard(BaseModel):
    """A model name clients may ask for."""

    id: str
    object: Literal["model"] = "model"
    created: int = 0
    owned_by: str = "khabar"


class ModelList(BaseModel):
    """The model names clients may ask for."""

    object: Literal["list"] = "list"
    data: list[ModelCard]


router = APIRouter()


def check_model(name: str) -> AnswerMode | None:
    """The answer mode a model name stands for, or OpenAI's 404 `model_not_found`."""
    if name not in MODELS:
        raise ApiError(404, "model_not_found",
                       f"the model {name[:100]!r} does not exist; GET /v1/models lists the models",
                       type="invalid_request_error", param="model")
    return MODELS[name]


def usage_of(ctx: ApiContext, question: str, history: list[Message], answer: str) -> CompletionUsage:
    """Token counts of the conversation text and of the answer (embedding model's tokenizer)."""
    turns = ctx.settings.max_history_turns
    used = history[-2 * turns:] if turns > 0 else []  # what the assistant keeps of the history
    count = ctx.assistant.embedder.count_tokens
    prompt = sum(count(m.content) for m in used) + count(question)
    completion = count(answer)
    return CompletionUsage(prompt_tokens=prompt, completion_tokens=completion,
                           total_tokens=prompt + completion)


def _split(ctx: ApiContext, body: ChatCompletionRequest) -> tuple[str, list[Message]]:
    last = body.messages[-1]
    if last.role != "user":
        raise ApiError(422, "validation_error", "the last message must have the role 'user'",
                       fields=[FieldError(field=f"body.messages.{len(body.messages) - 1}.role",
                                          message="the last message must have the role 'user'",
                                          type="value_error")])
    question = check_question(ctx, last.text(), field=f"body.messages.{len(body.messages) - 1}.content")
    for i, message in enumerate(body.messages[:-1]):
        check_text(message.text(), f"body.messages.{i}.content")
    history = [Message(role=m.role, content=m.text()) for m in body.messages[:-1]
               if m.role in ("user", "assistant") and m.text()]
    return question, history


def _info(answer: Answer) -> KhabarInfo:
    return KhabarInfo(mode=answer.mode, language=answer.language, note=answer.note, timings=answer.timings)


@router.get("/models", response_model=ModelList, tags=["openai"], summary="Model names (OpenAI protocol)",
            responses=error_responses(401, 403, 429, 500, retry_after=True))
def models(client: Caller) -> ModelList:
    """`khabar` (server default mode), `khabar-extractive` and `khabar-generative`."""
    return ModelList(data=[ModelCard(id=name) for name in MODELS])


@router.get("/models/{model}", response_model=ModelCard, tags=["openai"],
            summary="One model (OpenAI protocol)",
            responses=error_responses(404, 401, 403, 422, 429, 500, retry_after=True))
def model(model: Annotated[str, Path(min_length=1, max_length=200)], client: Caller) -> ModelCard:
    """The model card, or 404 `model_not_found`."""
    check_model(model)
    return ModelCard(id=model)


@router.post("/chat/completions", response_model=ChatCompletionResponse, tags=["openai"],
             summary="Chat completion (OpenAI protocol)", dependencies=JsonBody,
             responses={200: {"description": "A `chat.completion`, or with `stream: true` Server-Sent Events "
                                             "of `chat.completion.chunk`s ending with `data: [DONE]`.",
                              "content": {"application/json": {},
                                          "text/event-stream": {"schema": CHAT_STREAM_EVENT}}},
                        **error_responses(400, 401, 403, 404, 413, 415, 422, 429, 500, 503,
                                          retry_after=True)})
async def chat_completions(body: ChatCompletionRequest, request: Request, ctx: Ctx, client: Caller):
    """Answer the last user message; `stream: true` streams like OpenAI's API. `usage` counts tokens with
    the embedding model's tokenizer; `stream_options.include_usage` adds OpenAI's final usage chunk."""
    mode = check_model(body.model)
    question, history = await anyio.to_thread.run_sync(_split, ctx, body)
    completion_id = f"chatcmpl-{uuid.uuid4().hex}"
    created = int(time.time())
    admission = await ctx.admissions.admit(mode, client.may_generate)
    if not body.stream:
        answer = await final_answer(answer_items(request, ctx.assistant, admission, question, history, None))
        if answer is None:  # the client left
            return Response(status_code=CLIENT_CLOSED_REQUEST)
        usage = await anyio.to_thread.run_sync(usage_of, ctx, question, history, answer.answer)
        return ChatCompletionResponse(
            id=completion_id, created=created, model=body.model,
            choices=[ChatChoice(message=ChatCompletionMessage(content=answer.answer))],
            citations=answer.citations, khabar=_info(answer), usage=usage)
    include_usage = bool(body.stream_options and body.stream_options.include_usage)

    async def events() -> AsyncIterator[ServerSentEvent]:
        def chunk(**values) -> ServerSentEvent:
            data = ChatCompletionChunk(id=completion_id, created=created, model=body.model, **values)
            return ServerSentEvent(data=data.model_dump_json(exclude_none=True))

        try:
            yield chunk(choices=[ChunkChoice(delta=ChunkDelta(role="assistant", content=""))])
            pieces = answer_items(request, ctx.assistant, admission, question, history, None)
            async with aclosing(pieces) as items:
                async for item in items:
                    if isinstance(item, Answer):
                        yield chunk(choices=[ChunkChoice(delta=ChunkDelta(), finish_reason="stop")],
                                    citations=item.citations, khabar=_info(item))
                        if include_usage:
                            usage = await anyio.to_thread.run_sync(usage_of, ctx, question, history,
                                                                   item.answer)
                            yield chunk(choices=[], usage=usage)
                    else:
                        yield chunk(choices=[ChunkChoice(delta=ChunkDelta(content=item))])
        except KhabarError as exc:
            error = error_body(request, exc.code, str(exc))
            yield ServerSentEvent(data=json.dumps(error, ensure_ascii=False))
        except Exception as exc:  # headers are sent: the error can only travel in the stream
            log.error("unhandled error while streaming a chat completion", exc_info=exc)
            yield ServerSentEvent(data=json.dumps(error_body(
                request, "internal_error", "internal server error; quote the request id when reporting it")))
        yield ServerSentEvent(data="[DONE]")

    return HeldEventSourceResponse(events(), ping=15, on_close=admission.release)
