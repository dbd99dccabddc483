"""Overload by design: a bounded number of answers in flight, a bounded queue before them, then `503` with
`Retry-After`; generative answers have a pool of their own, a time limit, and a permission.

Hand-written (a counter and a semaphore) because the bound must answer *before* a request waits, with a
JSON error the API documents: server-wide limits such as uvicorn's ``--limit-concurrency`` answer a bare
plain-text 503 for every path alike, health probes included.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import anyio

from assistant.api.errors import ApiError
from assistant.settings import AnswerMode, Settings

log = logging.getLogger("assistant.api")

#: The note an answer carries when generative mode was asked for by a client not allowed it.
NOT_PERMITTED_NOTE = ("generative answers are not enabled for this client; this is the extractive answer "
                      "(KHABAR_ALLOW_GENERATIVE, KHABAR_GENERATIVE_KEYS)")


def timed_out_note(seconds: float) -> str:
    """The note of a generative answer stopped by the time limit."""
    return (f"the language model did not finish within the {seconds:g} s limit; this is the extractive "
            "answer")


class Pool:
    """At most ``in_flight`` holders at once and at most ``queued`` waiting; a request beyond that, one that
    waited ``wait_timeout`` seconds, or one that by recent answer times would wait longer than that, is
    refused with a 503 carrying ``code`` and `Retry-After`.

    Used from one event loop (the server's); the semaphore is made there on first use. ``in_flight <= 0``
    means no bound.
    """

    def __init__(self, name: str, code: str, *, in_flight: int, queued: int, wait_timeout: float) -> None:
        self.name, self.code = name, code
        self.in_flight, self.queued, self.wait_timeout = in_flight, max(0, queued), wait_timeout
        self.waiting = 0
        self.running = 0
        self._semaphore: anyio.Semaphore | None = None
        # A running mean of how long a slot is held (None until one was given back): it tells refused
        # clients when to come back, and refuses at once a request that would wait past the timeout.
        self._mean_hold: float | None = None

    def expected_wait(self) -> float:
        """Seconds a request arriving now would wait for a slot, from recent answer times."""
        if self.running < self.in_flight or self._mean_hold is None:
            return 0.0
        return self._mean_hold * (self.waiting + 1) / self.in_flight

    def _retry_after(self) -> int:
        return max(1, math.ceil(self.expected_wait()))

    def _refuse(self, why: str) -> ApiError:
        retry_after = self._retry_after()
        log.info("%s refused: %s (%d running, %d waiting)", self.name, why, self.running, self.waiting)
        return ApiError(503, self.code,
                        f"the server is busy ({why}); retry after {retry_after} s",
                        limit=self.in_flight, headers={"Retry-After": str(retry_after)})

    async def acquire(self) -> Callable[[], None]:
        """Wait for a slot (or raise the 503); returns the function that gives it back (call it once, from
        the event loop)."""
        if self.in_flight <= 0:
            return lambda: None
        if self._semaphore is None:
            self._semaphore = anyio.Semaphore(self.in_flight)
        if self.running >= self.in_flight and self.waiting >= self.queued:
            raise self._refuse(f"{self.running} {self.name} in progress and {self.waiting} waiting")
        if self.expected_wait() > self.wait_timeout:  # it would time out in the queue: say so now
            raise self._refuse(f"the wait would be about {self.expected_wait():.0f} s")
        self.waiting += 1
        try:
            with anyio.fail_after(self.wait_timeout):
                await self._semaphore.acquire()
        except TimeoutError:
            raise self._refuse(f"no {self.name} slot within {self.wait_timeout:g} s") from None
        finally:
            self.waiting -= 1
        self.running += 1
        start = time.monotonic()
        released = False

        def release() -> None:
            nonlocal released
            if released:
                return
            released = True
            self.running -= 1
            held = time.monotonic() - start
            self._mean_hold = held if self._mean_hold is None else 0.8 * self._mean_hold + 0.2 * held
            self._semaphore.release()

        return release


@dataclass
class Admission:
    """What a request was admitted to: the mode it will be answered in and the slot it holds."""

    mode: AnswerMode
    #: Set when the client asked for generative mode and was not allowed it.
    note: str | None
    release: Callable[[], None]
    #: Seconds a generative answer may take (None: no limit of the API's own).
    time_limit: float | None


class Admissions:
    """The two pools (all answers; generative answers) and the generative permission."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.answers = Pool("answers", "overloaded", in_flight=settings.max_answers_in_flight,
                            queued=settings.max_answers_queued, wait_timeout=settings.queue_timeout_seconds)
        self.generative = Pool("generative answers", "generative_busy",
                               in_flight=settings.max_generative_in_flight,
                               queued=settings.max_generative_queued,
                               # a generative answer takes far longer than the general queue's wait:
                               # waiting for one is bounded by the time one may take
                               wait_timeout=max(settings.queue_timeout_seconds,
                                                settings.generative_timeout_seconds))

    async def admit(self, requested: AnswerMode | None, may_generate: bool) -> Admission:
        """Decide the mode (the server's default if none is asked) and take a slot of its pool, or raise
        a 503. A generative request from a client without the permission becomes an extractive one with a
        note; a generative request does not also take a slot of the general pool, so that slow generative
        answers never hold back the extractive ones."""
        mode = requested or self.settings.mode
        note = None
        if mode == "generative" and not may_generate:
            mode, note = "extractive", NOT_PERMITTED_NOTE
        if mode == "generative":
            release = await self.generative.acquire()
            return Admission(mode=mode, note=None, release=release,
                             time_limit=self.settings.generative_timeout_seconds or None)
        release = await self.answers.acquire()
        return Admission(mode=mode, note=note, release=release, time_limit=None)
