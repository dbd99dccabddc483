"""Page API calls (`/gradio_api/call/ask`) leave nothing behind in Gradio once their result is read, while a
session with a hash of its own keeps its state (issue 12: memory flat under load).

The fake embedder serves here: this tests what the server keeps, not the quality of answers."""

from __future__ import annotations

import json

import httpx
from api_support import sibling

from assistant.server import create_app, serve_in_thread
from assistant.web.call_sessions import PAGE_STATE

QUESTIONS = ["ما هي الدول الضامنة لمحادثات أستانا؟", "أين التقى بوتين بالأسد؟",
             "Why was the visit not announced in advance?"]
CALLS = 12


def _call(client: httpx.Client, question: str, **extra) -> tuple[str, dict]:
    joined = client.post("/gradio_api/call/ask", json={"data": [question, []], **extra})
    assert joined.status_code == 200, joined.text
    event_id = joined.json()["event_id"]
    result = client.get(f"/gradio_api/call/ask/{event_id}")
    assert result.status_code == 200 and "event: complete" in result.text, result.text[:300]
    data = result.text.split("event: complete", 1)[1].split("data: ", 1)[1].splitlines()[0]
    return event_id, json.loads(data)[0]


def test_page_api_calls_leave_no_gradio_session_behind(fake_assistant):
    app = create_app(sibling(fake_assistant, rate_limit_per_minute=0))
    page = getattr(app.state, PAGE_STATE)
    queue, holder = page._queue, page.state_holder
    with serve_in_thread(app) as url, httpx.Client(base_url=url, timeout=120) as client:
        events = []
        for i in range(CALLS):
            event_id, answer = _call(client, QUESTIONS[i % len(QUESTIONS)])
            events.append(event_id)
            assert answer["answer"] and answer["language"] in ("ar", "en")
        # A caller naming its own session (as a browser tab does) keeps it: only call sessions are dropped.
        own = "browser-tab-1a2b3c"
        own_event, answer = _call(client, QUESTIONS[0], session_hash=own)
        assert "أستانا" in QUESTIONS[0] and answer["language"] == "ar"

    assert own in holder.session_data
    assert set(holder.session_data) == {own}, f"{len(holder.session_data)} sessions kept"
    assert not set(events) & set(holder.time_last_used)
    assert not set(events) & set(queue.pending_messages_per_session)
    assert not set(events) & set(queue.pending_event_ids_session)
    assert not set(events) & set(queue.event_analytics)
    assert own_event not in queue.event_analytics  # the event record goes; the session stays


def test_a_refused_page_call_says_why_and_prints_no_traceback(fake_assistant, capfd):
    app = create_app(sibling(fake_assistant, rate_limit_per_minute=0))
    with serve_in_thread(app) as url, httpx.Client(base_url=url, timeout=120) as client:
        joined = client.post("/gradio_api/call/ask", json={"data": [QUESTIONS[0], [{"role": "robot"}]]})
        assert joined.status_code == 200, joined.text
        result = client.get(f"/gradio_api/call/ask/{joined.json()['event_id']}")
    assert "event: error" in result.text
    assert "history must be a list of {role: user|assistant, content: text} turns" in result.text
    # An expected refusal is the caller's answer, not a server fault: nothing in the server's log.
    assert "Traceback" not in capfd.readouterr().err
