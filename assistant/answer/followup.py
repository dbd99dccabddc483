"""The query retrieval searches with when a question comes inside a conversation."""

from __future__ import annotations

from assistant.schemas import Message


def previous_question(history: list[Message]) -> str:
    """The last question the user asked before this one ("" when none)."""
    return next((m.content for m in reversed(history) if m.role == "user"), "")


def combined_query(question: str, history: list[Message]) -> str:
    """Without a model to rewrite a follow-up, the previous question supplies what "there" or "it" refer to;
    the current question comes last so that it dominates neither list alone."""
    return f"{previous_question(history)} {question}".strip()
