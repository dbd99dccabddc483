"""A page answer in progress: its slot in the API's answer pools, and stopping it from any thread.

The pools belong to the server's event loop while the page's handlers run in Gradio's worker threads, and a
stopped answer's stream may be finished by whichever thread drops it; this module keeps those rules apart
from the handlers (:mod:`assistant.web.handlers`).
"""

# No `from __future__ import annotations`: kept like handlers.py, whose hints Gradio reads at runtime.

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio
import anyio.from_thread
import anyio.lowlevel

from assistant.api.admission import Admission, Admissions
from assistant.web.session import Turn

log = logging.getLogger(__name__)


@dataclass
class Slot:
    """A page answer's slot in the API's answer pools, given back once, from any thread.

    The pools belong to the server's event loop; the page's handlers run in its worker threads, and a
    stopped answer's generator may be finished by whichever thread drops it, so the slot remembers its
    loop."""

    admission: Admission
    token: Any
    loop_thread: int
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _given_back: bool = False

    def release(self) -> None:
        with self._lock:
            if self._given_back:
                return
            self._given_back = True
        if threading.get_ident() == self.loop_thread:  # a generator finished on the loop's own thread
            self.admission.release()
        else:
            anyio.from_thread.run_sync(self.admission.release, token=self.token)


@dataclass
class Running:
    """An answer being computed: the event that stops it, what was typed, its turn in the chat, and the
    slot it holds."""

    cancel: threading.Event
    question: str
    turn: Turn
    stream: Iterator[Any] | None = None
    slot: Slot | None = None


#: How long a stopped answer's stream is waited for to pause, so that it can be closed.
CLOSE_WAIT_SECONDS = 30.0


def close_when_idle(stream: Iterator[Any]) -> None:
    """Close a stopped answer's stream. Gradio stops asking a cancelled handler for more, which leaves the
    stream (and a model request inside it) paused at its last token, never finished: closing it ends the
    model request. While a worker thread is still inside it, it cannot be closed yet; the cancel event makes
    it pause at its next token."""
    deadline = time.monotonic() + CLOSE_WAIT_SECONDS
    while True:
        try:
            stream.close()  # type: ignore[attr-defined]
            return
        except ValueError:  # "generator already executing"
            if time.monotonic() > deadline:
                log.warning("a stopped answer did not pause within %s s", CLOSE_WAIT_SECONDS)
                return
            time.sleep(0.05)


def stop_and_release(running: Running) -> None:
    """Close a stopped answer's stream, then give its slot back (Gradio may never finish the handler)."""
    try:
        if running.stream is not None:
            close_when_idle(running.stream)
    finally:
        if running.slot is not None:
            running.slot.release()


def admit(admissions: Admissions | None, mode: str | None, allow_generative: bool) -> Slot | None:
    """A slot of the API's answer pools for a page answer (or :class:`ApiError` 503 when they are full);
    None when the page runs without the API (``build_page`` alone) or outside Gradio's worker threads."""
    if admissions is None:
        return None
    pools = admissions

    async def take() -> Slot:
        admission = await pools.admit(mode, allow_generative)
        return Slot(admission, anyio.lowlevel.current_token(), threading.get_ident())

    try:
        return anyio.from_thread.run(take)
    except RuntimeError:  # not called from a worker thread of the server's event loop
        return None


@contextmanager
def admitted(admissions: Admissions | None, mode: str | None,
             allow_generative: bool) -> Iterator[Slot | None]:
    """Hold a slot (see :func:`admit`) for the ``with`` block and give it back after."""
    slot = admit(admissions, mode, allow_generative)
    try:
        yield slot
    finally:
        if slot is not None:
            slot.release()
