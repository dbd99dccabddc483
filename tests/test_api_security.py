"""Security with API keys set, over real HTTP: one key cannot read, continue or delete another key's
conversation; Gradio's own API (a door around the keys and rate limits) is closed; keys never reach the log
or the files the server writes."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import httpx
import openai
import pytest
from api_support import closed_port_url, sibling, sse_events
from pydantic import SecretStr

from assistant.api import create_api
from assistant.server import create_app, serve_in_thread

GUARANTORS_AR = "ما هي الدول الضامنة لمحادثات استانا؟"
WHO_WAS_ABSENT = "ومن غاب عنها؟"  # "and who was absent from them?": needs the previous question
WHY_SECRET = "لماذا لم يعلن عن الزيارة مسبقا؟"

KEY_A = "khabar-sec-key-alpha-93be1f0c"
KEY_B = "khabar-sec-key-beta-0d7a44e2"
KEY_GEN = "khabar-sec-key-generative-5c21"


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture(scope="module")
def guarded(assistant) -> Iterator[tuple[str, object]]:
    """Keys A and B (and a generative key), a rate limit never reached; yields (url, settings)."""
    served = sibling(assistant, api_keys=[SecretStr(KEY_A), SecretStr(KEY_B)],
                     generative_keys=[SecretStr(KEY_GEN)], rate_limit_per_minute=100_000,
                     llm_base_url=closed_port_url(), llm_timeout=10.0)  # generative falls back at once
    with serve_in_thread(create_api(served)) as url:
        yield url, served.settings


def test_one_key_cannot_read_continue_or_delete_another_keys_conversation(guarded):
    url, _ = guarded
    cid = "telegram:shared-id-77"
    with httpx.Client(base_url=url, timeout=300) as c:
        first = c.post("/api/v1/ask", json={"question": GUARANTORS_AR, "conversation_id": cid},
                       headers=bearer(KEY_A))
        assert first.status_code == 200

        # B guesses the id: nothing to read, nothing to delete.
        assert c.get(f"/api/v1/conversations/{cid}", headers=bearer(KEY_B)).status_code == 404
        assert c.delete(f"/api/v1/conversations/{cid}", headers=bearer(KEY_B)).status_code == 404

        # B "continues" it: the follow-up is answered without A's turns (B has no such conversation)...
        b_follow = c.post("/api/v1/ask", json={"question": WHO_WAS_ABSENT, "conversation_id": cid},
                          headers=bearer(KEY_B)).json()
        assert b_follow["mode"] == "not_found"
        with c.stream("POST", "/api/v1/ask/stream", headers=bearer(KEY_B),
                      json={"question": WHO_WAS_ABSENT, "conversation_id": cid}) as r:
            streamed = next(json.loads(d) for name, d in sse_events(r.iter_lines()) if name == "answer")
        assert streamed["mode"] == "not_found"
        # ...and B's turns went to B's own conversation of that id, not into A's.
        b_stored = c.get(f"/api/v1/conversations/{cid}", headers=bearer(KEY_B)).json()["messages"]
        assert [m["content"] for m in b_stored if m["role"] == "user"] == [WHO_WAS_ABSENT, WHO_WAS_ABSENT]

        a_stored = c.get(f"/api/v1/conversations/{cid}", headers=bearer(KEY_A)).json()["messages"]
        assert [m["content"] for m in a_stored if m["role"] == "user"] == [GUARANTORS_AR]
        a_follow = c.post("/api/v1/ask", json={"question": WHO_WAS_ABSENT, "conversation_id": cid},
                          headers=bearer(KEY_A)).json()
        assert a_follow["mode"] == "extractive" and "الولايات المتحدة" in a_follow["answer"]

        # B deleting its own conversation of that id leaves A's alone.
        assert c.delete(f"/api/v1/conversations/{cid}", headers=bearer(KEY_B)).status_code == 204
        assert len(c.get(f"/api/v1/conversations/{cid}", headers=bearer(KEY_A)).json()["messages"]) == 4


def _gradio_endpoints(c: httpx.Client) -> set[str]:
    info = c.get("/gradio_api/info")
    assert info.status_code == 200
    return set(info.json()["named_endpoints"])


def test_gradio_side_door_is_closed_when_keys_are_set(assistant):
    keyed = sibling(assistant, api_keys=[SecretStr(KEY_A)], rate_limit_per_minute=0)
    with serve_in_thread(create_app(keyed)) as url, httpx.Client(base_url=url, timeout=300) as c:
        assert c.get("/").status_code == 200  # the page itself is served
        assert "/ask" not in _gradio_endpoints(c)
        tried = c.post("/gradio_api/call/ask", json={"data": [WHY_SECRET, []]})
        assert tried.status_code == 404 and "event_id" not in tried.text
        # The API itself still answers, with a key only.
        assert c.post("/api/v1/ask", json={"question": WHY_SECRET}).status_code == 401
        assert c.post("/api/v1/ask", json={"question": WHY_SECRET}, headers=bearer(KEY_A)).status_code == 200


def test_gradio_api_is_offered_when_the_api_is_open(assistant):
    """The counterpart of the test above: without keys the page's `ask` endpoint exists, so the check above
    looks at the right place."""
    open_api = sibling(assistant, rate_limit_per_minute=0)
    with serve_in_thread(create_app(open_api)) as url, httpx.Client(base_url=url, timeout=300) as c:
        assert "/ask" in _gradio_endpoints(c)


#: Loggers of the clients in this test process (openai logs its request options, headers included, at
#: DEBUG): what the server logs is the question here.
CLIENT_LOGGERS = ("openai", "httpx", "httpcore")


def test_keys_never_reach_the_log_or_the_servers_files(guarded, caplog):
    url, settings = guarded
    caplog.set_level(logging.DEBUG)
    wrong = [KEY_A + "x", KEY_B[:-1], "sk-" + KEY_A, KEY_GEN.upper()]
    with httpx.Client(base_url=url, timeout=300) as c:
        for key in (KEY_A, KEY_B, KEY_GEN, *wrong):
            c.get("/api/v1/articles", headers=bearer(key))
            c.post("/api/v1/ask", json={"question": WHY_SECRET, "conversation_id": "logs:1"},
                   headers=bearer(key))
            with c.stream("POST", "/api/v1/ask/stream", json={"question": WHY_SECRET},
                          headers=bearer(key)) as r:
                list(r.iter_lines())
            c.get("/api/v1/conversations/logs:1", headers=bearer(key))
            c.get("/api/v1/articles", headers={"Authorization": f"Basic {key}"})
            c.get("/api/v1/articles", headers={"X-API-Key": key})
        c.post("/api/v1/ask", content=f'{{"question": "{KEY_A}', headers={**bearer(KEY_B),
                                                                          "Content-Type": "application/json"})
    for key in (KEY_A, KEY_GEN):
        client = openai.OpenAI(base_url=f"{url}/v1", api_key=key, max_retries=0, timeout=300)
        client.chat.completions.create(model="khabar-generative" if key == KEY_GEN else "khabar",
                                       messages=[{"role": "user", "content": WHY_SECRET}])
    bad = openai.OpenAI(base_url=f"{url}/v1", api_key=wrong[0], max_retries=0, timeout=300)
    with pytest.raises(openai.PermissionDeniedError):
        bad.models.list()

    server_records = [r for r in caplog.records if not r.name.startswith(CLIENT_LOGGERS)]
    assert any("/api/v1/ask" in r.getMessage() for r in server_records)  # the server did log the requests
    logged = "\n".join(r.getMessage() + (r.exc_text or "") for r in server_records)
    for key in (KEY_A, KEY_B, KEY_GEN, *wrong):
        assert key not in logged
        assert key.lower() not in logged.lower()

    # Conversations and rate-limit buckets are kept under key fingerprints, never the keys.
    files = list(settings.runtime_dir.glob("*.sqlite3*"))
    assert {"conversations.sqlite3", "ratelimit.sqlite3"} <= {p.name for p in files}
    for path in files:
        content = path.read_bytes()
        for key in (KEY_A, KEY_B, KEY_GEN):
            assert key.encode() not in content, path.name
