"""Progress of a long evaluation: questions answered, with rate and time left.

On a terminal a rich progress bar (bar, n/total, questions per second, elapsed, ETA, current case); when
the output is not a terminal (CI logs, a pipe) a plain line every tenth of the run and at the end, so that
a log shows the run is alive without a line per question; ``enabled=False`` prints nothing.
"""

from __future__ import annotations

import time
from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text


class RateColumn(ProgressColumn):
    """Questions per second, from rich's own moving speed estimate."""

    def render(self, task: Task) -> Text:
        """``4.2 q/s``, or ``- q/s`` before the first question is done."""
        speed = task.finished_speed or task.speed
        return Text("- q/s" if speed is None else f"{speed:.1f} q/s", style="progress.data.speed")


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


class CaseProgress:
    """Counts the questions of each mode's run; a context manager around the whole evaluation."""

    def __init__(self, console: Console | None = None, *, enabled: bool = True,
                 lines: int = 10) -> None:
        self.console = console or Console(stderr=True)
        self.enabled = enabled
        self.terminal = enabled and self.console.is_terminal
        #: How many plain lines a mode's run prints when not on a terminal (plus one at the end).
        self.lines = max(1, lines)
        self._bar: Progress | None = None
        self._task: TaskID | None = None
        self._label = ""
        self._total = 0
        self._done = 0
        self._start = 0.0
        self._next_line = 0

    def __enter__(self) -> CaseProgress:
        if self.terminal:
            self._bar = Progress(SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(),
                                 MofNCompleteColumn(), RateColumn(), TimeElapsedColumn(),
                                 TextColumn("ETA"), TimeRemainingColumn(), TextColumn("{task.fields[case]}"),
                                 console=self.console, transient=False)
            self._bar.__enter__()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._bar is not None:
            self._bar.__exit__(exc_type, exc, tb)

    def start(self, label: str, total: int) -> None:
        """A new run of ``total`` questions (one per mode)."""
        self._label, self._total, self._done = label, total, 0
        self._start = time.perf_counter()
        self._next_line = self._step()
        if self._bar is not None:
            self._task = self._bar.add_task(label, total=total, case="")

    def _step(self) -> int:
        return max(1, -(-self._total // self.lines))

    def current(self, case_id: str) -> None:
        """Show which case is being asked (terminal only)."""
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, case=case_id)

    def advance(self) -> None:
        """One more question answered."""
        self._done += 1
        if self._bar is not None and self._task is not None:
            self._bar.advance(self._task)
        elif self.enabled and (self._done >= self._next_line or self._done == self._total):
            self._next_line += self._step()
            self.console.print(self.line(), highlight=False, soft_wrap=True)

    def line(self) -> str:
        """``extractive: 50/252 questions answered (4.1/s, 12s elapsed, ETA 49s)``."""
        elapsed = time.perf_counter() - self._start
        rate = self._done / elapsed if elapsed > 0 else 0.0
        left = (self._total - self._done) / rate if rate > 0 else 0.0
        eta = "done" if self._done >= self._total else f"ETA {_duration(left)}"
        return (f"{self._label}: {self._done}/{self._total} questions answered ({rate:.1f}/s, "
                f"{_duration(elapsed)} elapsed, {eta})")
