"""Milliseconds per named stage, reported in every answer's ``timings``."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager


class Timer:
    """Collects milliseconds per named stage."""

    def __init__(self) -> None:
        self.timings: dict[str, float] = {}
        self._start = time.perf_counter()

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time the block under ``name`` (accumulating if the name repeats)."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self.add(name, (time.perf_counter() - start) * 1000)

    def add(self, name: str, milliseconds: float) -> None:
        """Add time measured elsewhere (a stage's own timings) under ``name``."""
        self.timings[name] = round(self.timings.get(name, 0.0) + milliseconds, 2)

    def total(self) -> dict[str, float]:
        """The stage timings plus ``total`` since the timer started."""
        return {**self.timings, "total": round((time.perf_counter() - self._start) * 1000, 2)}
