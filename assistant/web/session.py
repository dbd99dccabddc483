"""The page's per-browser-session state: the conversation shown, its turns, and what the chat displays."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from assistant.schemas import Answer, Message
from assistant.textnorm import detect_language
from assistant.web.render import render_answer, render_error, render_partial, render_user


@dataclass
class Turn:
    """One question and what came back: an answer, or an error message to show instead."""

    question: str
    answer: Answer | None = None
    error: str | None = None


@dataclass
class ChatSession:
    """One browser session's conversation (kept in ``gr.State``, one per session)."""

    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    turns: list[Turn] = field(default_factory=list)
    shown: int | None = None  # the turn whose sources the panel shows
    feedback_id: int | None = None  # the last rating, which a comment attaches to
    browser: str = ""  # the browser's id (local storage) its conversations are kept under; "" keeps none

    def history(self) -> list[Message]:
        """Earlier answered turns, as the assistant takes them for follow-up questions."""
        messages: list[Message] = []
        for turn in self.turns:
            if turn.answer is not None:
                messages += [Message(role="user", content=turn.answer.question),
                             Message(role="assistant", content=turn.answer.answer)]
        return messages


def new_session() -> ChatSession:
    """A fresh conversation with its own id (a function, so that Gradio calls it once per session)."""
    return ChatSession()


def chat_messages(conv: ChatSession, ui: str, partial: str = "", streaming: int | None = None
                  ) -> list[dict[str, str]]:
    """The chatbot's value: two messages per turn; a turn with neither answer nor error is still coming
    (turn ``streaming`` shows the ``partial`` text received so far)."""
    messages: list[dict[str, str]] = []
    for number, turn in enumerate(conv.turns):
        messages.append({"role": "user", "content": render_user(turn.question)})
        if turn.answer is not None:
            content = render_answer(turn.answer, number, ui)
        elif turn.error is not None:
            content = render_error(turn.error, ui)
        else:
            content = render_partial(partial if number == streaming else "", detect_language(turn.question))
        messages.append({"role": "assistant", "content": content})
    return messages
