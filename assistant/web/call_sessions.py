"""Forgetting a page API call's Gradio session once its result has been read.

A call of a page endpoint through Gradio's HTTP API (``POST /gradio_api/call/ask``, then ``GET
/gradio_api/call/ask/{event_id}`` for the result) is a session of its own to Gradio, named after its event
id, and Gradio keeps what it made for that session after the result is read: the session's component
state (a copy of the page's configuration, about 35 KB; up to ``state_session_capacity`` sessions), its
message queue (up to 2,000), its entry of pending event ids (an empty set, never removed: unbounded) and
the event's analytics record (up to 10,000). Nothing reads them again, since the next call is a new
session; under load they were most of the page's memory growth (bench/README.md, "The soak found memory
growth"). Gradio has no setting to drop them, so this middleware does it when the result stream ends.

A browser's session (``/gradio_api/queue/join`` with a session hash of its own) is never named after an
event id, so it is left to Gradio. Uses Gradio's internals (``Blocks._queue``, ``Blocks.state_holder``):
``tests/test_web_call_sessions.py`` fails if they change.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from starlette.types import ASGIApp, Receive, Scope, Send

if TYPE_CHECKING:
    from gradio import Blocks

#: The result stream of one call: ``/gradio_api/call[/v2]/<endpoint>/<event id>``.
_RESULT_PATH = re.compile(r"^/gradio_api/call/(?:v2/)?[^/]+/([0-9a-f]{32})/?$")


def forget_call_session(blocks: Blocks, event_id: str) -> bool:
    """Drop what Gradio keeps for the call session named ``event_id`` unless an event of it is still pending;
    True if it was dropped."""
    queue = blocks._queue
    if queue.pending_event_ids_session.get(event_id):  # still running: the client left and may come back
        return False
    queue.pending_event_ids_session.pop(event_id, None)
    queue.pending_messages_per_session.pop(event_id, None)
    queue.event_analytics.pop(event_id, None)
    holder = blocks.state_holder
    with holder.lock:
        holder.session_data.pop(event_id, None)
        holder.time_last_used.pop(event_id, None)
    return True


#: Where the server's app keeps the mounted page (``app.state.<PAGE_STATE>``), for the middleware.
PAGE_STATE = "khabar_page"


class ForgetCallSessions:
    """ASGI middleware of the server's app: after a call's result stream ends, :func:`forget_call_session`
    on the page found in ``app.state.khabar_page`` (set when the page is mounted, which may be after the
    server started)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = (_RESULT_PATH.match(scope["path"]) if scope["type"] == "http" and scope["method"] == "GET"
                 else None)
        # Read before the page's own app handles the request: mounting rewrites scope["app"].
        blocks = getattr(scope["app"].state, PAGE_STATE, None) if found is not None else None
        if blocks is None:
            await self.app(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            forget_call_session(blocks, found.group(1))
