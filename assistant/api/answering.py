"""Running one answer for an HTTP request: the blocking pipeline in worker threads, one chunk at a time,
stopped when the client leaves or the generative time limit passes, holding its admission slot until the
end."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import aclosing
from typing import TYPE_CHECKING

import anyio
from fastapi import Request
from sse_starlette import EventSourceResponse
from starlette.types import Receive, Scope, Send

from assistant.api.admission import Admission, timed_out_note
from assistant.schemas import Answer, Language, Message, Replace

if TYPE_CHECKING:  # the facade imports the model runtime; the API starts without it
    from assistant.facade import Assistant

log = logging.getLogger("assistant.api")

_END = object()
#: How often a request checks, while the model works, whether its client is still there.
DISCONNECT_POLL_SECONDS = 0.5


class Control:
    """Steers one answer from the event loop: ``cancel`` (handed to the pipeline) is set when the client
    leaves (``left``) or the time limit passes (``timed_out``)."""

    def __init__(self) -> None:
        self.cancel = threading.Event()
        self.left = False
        self.timed_out = False

    def client_left(self) -> None:
        """The client is gone: stop generating, and stop sending."""
        self.left = True
        self.cancel.set()

    def expire(self) -> None:
        """The time limit passed: stop generating; the pipeline still ends with its (fallback) answer."""
        self.timed_out = True
        self.cancel.set()


async def _next_chunk(request: Request, chunks: Iterator[str | Answer], control: Control):
    """The next item of ``chunks`` (computed in a worker thread); meanwhile, a client who leaves sets
    ``control.cancel``, which stops a model that is still generating inside that ``next`` call."""
    done = False

    async def watch() -> None:
        try:
            while True:
                await anyio.sleep(DISCONNECT_POLL_SECONDS)
                if await request.is_disconnected():
                    break
        except anyio.get_cancelled_exc_class():
            # sse-starlette notices the disconnect first and cancels this task; the worker thread cannot
            # be cancelled, so it is told to stop through ``cancel`` (unless it has simply finished).
            if not done:
                control.client_left()
            raise
        control.client_left()

    error: Exception | None = None
    async with anyio.create_task_group() as group:
        group.start_soon(watch)
        try:
            item = await anyio.to_thread.run_sync(next, chunks, _END)
        except Exception as exc:  # re-raised below as it is, not wrapped in the task group's ExceptionGroup
            error, item = exc, _END
        done = True
        group.cancel_scope.cancel()
    if error is not None:
        raise error
    return item


async def stream_answer(request: Request, chunks: Iterator[str | Answer],
                        control: Control) -> AsyncIterator[str | Answer]:
    """Run a blocking answer stream in worker threads, one chunk at a time, until it ends or the client
    leaves; then close it, which raises GeneratorExit inside the pipeline and so ends any model request.
    Use it inside ``contextlib.aclosing`` so that the closing happens as soon as the consumer stops."""
    try:
        while True:
            # Checked between chunks so that a client who left stops the (possibly slow) generation.
            if await request.is_disconnected():
                log.info("client disconnected; generation stopped")
                control.client_left()
                return
            item = await _next_chunk(request, chunks, control)
            if item is _END or control.left:
                return
            yield item
    finally:
        chunks.close()


async def answer_items(request: Request, assistant: Assistant, admission: Admission, question: str,
                       history: list[Message], language: Language | None,
                       live: bool = False) -> AsyncIterator[str | Replace | Answer]:
    """Pieces of the answer, then the final :class:`Answer` (with the note of the permission or the time
    limit when either changed it), in the mode ``admission`` decided; gives the slot back when it ends.
    Nothing more comes once the client has left."""
    control = Control()
    timer: threading.Timer | None = None
    try:
        chunks = assistant.stream(question, history, mode=admission.mode, language=language,
                                  cancel=control.cancel, live=live)
        if admission.time_limit:
            timer = threading.Timer(admission.time_limit, control.expire)
            timer.daemon = True
            timer.start()
        async with aclosing(stream_answer(request, chunks, control)) as items:
            async for item in items:
                if isinstance(item, Answer):
                    if admission.note:
                        item = item.model_copy(update={"note": admission.note})
                    elif control.timed_out and item.mode == "fallback":
                        log.info("generative answer stopped by the %s s limit", admission.time_limit)
                        item = item.model_copy(update={"note": timed_out_note(admission.time_limit)})
                yield item
    finally:
        if timer is not None:
            timer.cancel()
        admission.release()


async def final_answer(items: AsyncIterator[str | Answer]) -> Answer | None:
    """The final answer of ``items`` (None if the client left first)."""
    final = None
    async with aclosing(items) as pieces:
        async for item in pieces:
            if isinstance(item, Answer):
                final = item
    return final


class HeldEventSourceResponse(EventSourceResponse):
    """An event stream that calls ``on_close`` when it ends however it ends (finished, client gone, never
    started), so that the admission slot it holds is always given back."""

    def __init__(self, content, *, on_close: Callable[[], None], **kwargs) -> None:
        super().__init__(content, **kwargs)
        self._on_close = on_close

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._on_close()
