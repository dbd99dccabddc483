"""Whether the retrieved passages can answer the question: the one not-found rule, used by the facade, the
generative stage (a refusal while retrieval is confident is suspect) and calibration."""

from __future__ import annotations

from dataclasses import dataclass

from assistant.retrieve.base import RetrievalResult


@dataclass(frozen=True)
class Answerability:
    """The verdict, with the evidence behind it (shown in the answer's note when it refuses)."""

    answerable: bool
    note: str | None = None


def confident(best_dense: float, threshold: float) -> bool:
    """True when the closest passage is similar enough to the question to be taken as on topic."""
    return best_dense >= threshold


def judge(result: RetrievalResult, threshold: float) -> Answerability:
    """Refuse when even the closest passage is far from the question."""
    best = result.best_dense
    if not confident(best, threshold):
        return Answerability(False, f"best similarity {best:.3f} is below the threshold")
    return Answerability(True)
