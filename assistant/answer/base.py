"""The seam of the generative stage: what a generator must offer, and what it hands back to the facade.

A generator writes an answer from numbered passages and verifies it. It knows nothing of the extractive
fallback or of the facade's timer: it returns either a :class:`Generated` answer or a :class:`Rejected` one
with a structured reason, and the facade decides what the user gets.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

from assistant.schemas import Citation, FallbackReason, Language, Message, ScoredPassage


@dataclass(frozen=True)
class Generated:
    """A generated answer that passed verification."""

    text: str
    citations: list[Citation]
    note: str | None = None
    timings: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Rejected:
    """No usable generated answer; ``detail`` is a user-readable sentence saying why."""

    reason: FallbackReason
    detail: str
    timings: dict[str, float] = field(default_factory=dict)


class Generator(Protocol):
    """Writes verified answers with a language model (``Assistant(generator=...)`` plugs one in)."""

    def condense(self, question: str, history: list[Message], language: Language) -> str:
        """``question`` rewritten to stand alone, for retrieval."""
        ...

    def stream(self, question: str, language: Language, history: list[Message],
               passages: list[ScoredPassage], cancel: threading.Event | None = None, *,
               closeness: float | None = None) -> Iterator[str | Generated | Rejected]:
        """Yield the model's raw text as it is written, then one :class:`Generated` or :class:`Rejected`.

        ``closeness`` is how close the article comes to the question, on the not-found threshold's scale: at
        or above the threshold the model may not decline."""
        ...

    def close(self) -> None:
        """Release what the generator started (a local model server)."""
        ...
