"""Progress of a long evaluation: a bar with rate and ETA on a terminal, a few count lines otherwise."""

from __future__ import annotations

import io
import re

from rich.console import Console

from assistant.evaluation.progress import CaseProgress


def _run(console: Console, total: int, **kwargs) -> None:
    with CaseProgress(console, **kwargs) as progress:
        progress.start("extractive", total)
        for n in range(total):
            progress.current(f"case-{n}")
            progress.advance()


def test_not_a_terminal_prints_a_count_line_every_tenth_and_at_the_end():
    out = io.StringIO()
    _run(Console(file=out, force_terminal=False, width=200), 25)
    lines = out.getvalue().splitlines()
    # 25 questions, a line every 3 (ceil 25/10) and one at the end: 3, 6, ..., 24, 25.
    assert [int(re.match(r"extractive: (\d+)/25 questions answered", x).group(1)) for x in lines] == [
        3, 6, 9, 12, 15, 18, 21, 24, 25]
    assert re.search(r"\(\d+\.\d/s, \d+s elapsed, ETA \d+s\)$", lines[0])
    assert lines[-1].endswith("done)")


def test_on_a_terminal_a_bar_shows_rate_and_eta_and_no_count_lines():
    out = io.StringIO()
    _run(Console(file=out, force_terminal=True, width=160), 4)
    text = out.getvalue()
    assert "4/4" in text and "q/s" in text and "ETA" in text
    assert "questions answered" not in text


def test_quiet_prints_nothing():
    for terminal in (True, False):
        out = io.StringIO()
        _run(Console(file=out, force_terminal=terminal), 30, enabled=False)
        assert out.getvalue() == ""
