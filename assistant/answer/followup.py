"""The query retrieval searches with when a question comes inside a conversation."""

from __future__ import annotations

from assistant.colloquial import is_acknowledgement
from assistant.questions import bare_answer_type, looks_like_followup, reading
from assistant.schemas import Message


def _questions(history: list[Message]) -> list[str]:
    """What the user asked, in order, without the messages that ask nothing ("thanks!", «شكرا», 👍)."""
    return [m.content for m in history if m.role == "user" and not is_acknowledgement(m.content)]


def previous_question(history: list[Message]) -> str:
    """The last question the user asked before this one ("" when none)."""
    asked = _questions(history)
    return asked[-1] if asked else ""


def topic_question(history: list[Message]) -> str:
    """The question that set the conversation's current topic: the last one that does not itself lean on
    the conversation ("" when none). In "How many warships…?" / "What missiles do they carry?" / "And how
    many were there?", the last two lean on the first."""
    asked = _questions(history)
    # "how many", «ومتى؟»: a question asking only a kind of answer sets no topic, even without "and".
    return next((q for q in reversed(asked) if not looks_like_followup(q) and bare_answer_type(q) is None),
                asked[0] if asked else "")


def combined_query(question: str, history: list[Message]) -> str:
    """Without a model to rewrite a follow-up, the question that set the topic and the previous question
    supply what "there" or "it" refer to (the previous one alone loses the topic after two follow-ups); the
    current question comes last so that it dominates neither list alone."""
    # The earlier questions are read as the current one is (plain letters, names capitalised).
    earlier = (reading(q) for q in (topic_question(history), previous_question(history)) if q)
    parts = dict.fromkeys(q for q in (*earlier, question) if q)
    return " ".join(parts).strip()
