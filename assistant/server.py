"""Serving: the chat page and the HTTP API in one process, on one port."""

from __future__ import annotations

import gradio as gr
import uvicorn
from fastapi import FastAPI

from .facade import Assistant
from .settings import Settings, get_settings
from .web import build_page


def create_app(assistant: Assistant) -> FastAPI:
    """The ASGI app: the page at ``/``."""
    app = FastAPI(title="Khabar")
    return gr.mount_gradio_app(app, build_page(assistant), path="/")


def main(settings: Settings | None = None) -> None:
    """Build the assistant (fetching models and indexing on first run) and serve until interrupted."""
    settings = settings or get_settings()
    assistant = Assistant(settings, progress=True)
    uvicorn.run(create_app(assistant), host=settings.host, port=settings.port)
