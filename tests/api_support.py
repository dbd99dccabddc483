"""Helpers shared by the HTTP API tests: servers over the session's assistant, SSE parsing, error checks."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx

from assistant import Assistant

#: What no answer of the API may contain: a stack trace, a server path, a source file name.
LEAKS = ("Traceback", "/work/", "/srv/", 'File "', ".py\"", ".py'", "site-packages")


def free_port() -> int:
    """A loopback port that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def closed_port_url() -> str:
    """A loopback URL on which nothing listens (the port was free a moment ago)."""
    return f"http://127.0.0.1:{free_port()}/v1"


def sibling(assistant: Assistant, **updates) -> Assistant:
    """An assistant with changed settings sharing the session's embedding model and index."""
    settings = assistant.settings.model_copy(update=updates)
    return Assistant(settings, embedder=assistant.embedder, store=assistant.store, ingest_corpus=False)


def sse_events(lines: Iterator[str]) -> Iterator[tuple[str, str]]:
    """(event, data) pairs of a Server-Sent Events stream, comments (pings) skipped."""
    event, data = "message", []
    for line in lines:
        if line == "":
            if data:
                yield event, "\n".join(data)
            event, data = "message", []
        elif not line.startswith(":"):
            name, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if name == "event":
                event = value
            elif name == "data":
                data.append(value)


def error_of(response: httpx.Response) -> dict:
    """The `error` object of a JSON error answer, checking the shape every error shares."""
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert error["code"] and error["message"]
    assert error["request_id"] == response.headers["x-request-id"]
    assert not any(leak in response.text for leak in LEAKS), response.text
    return error
