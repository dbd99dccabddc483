"""The chat page (Gradio). A first version: streaming chat on the Assistant."""

from __future__ import annotations

import gradio as gr

from .errors import KhabarError
from .facade import Assistant
from .schemas import Message


def build_page(assistant: Assistant) -> gr.Blocks:
    """The chat page as a Gradio app bound to ``assistant``."""

    def respond(message: str, history: list[dict]):
        turns = [Message(role=m["role"], content=str(m["content"])) for m in history
                 if m.get("role") in ("user", "assistant")]
        text = ""
        try:
            for item in assistant.stream(message, turns):
                if isinstance(item, str):
                    text += item
                    yield text
        except KhabarError as exc:
            yield f"⚠️ {exc}"

    return gr.ChatInterface(respond, title="Khabar")
