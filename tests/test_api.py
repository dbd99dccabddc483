"""The HTTP API over real HTTP: a uvicorn server on a free loopback port, the real assistant, httpx.

A few wiring tests (a server error, readiness, the end of generation on disconnect) use a stand-in assistant,
because the real one cannot be made to fail or to stream forever on demand.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest
from api_support import closed_port_url, error_of, sibling, sse_events
from pydantic import SecretStr

from assistant import Assistant
from assistant.api import create_api
from assistant.api.conversations import ConversationStore
from assistant.errors import InvalidQuestion
from assistant.schemas import ArticleInfo, Message
from assistant.server import create_app, serve_in_thread

WHY_SECRET = "لماذا لم يعلن عن الزيارة مسبقا؟"
GUARANTORS_AR = "ما هي الدول الضامنة لمحادثات استانا؟"
WHO_WAS_ABSENT = "ومن غاب عنها؟"  # "and who was absent from them?": needs the previous question
GUARANTORS_EN = "Which countries are the guarantor states of the Astana talks?"

KEY_A = "khabar-test-key-alpha-7f3a9c"
KEY_B = "khabar-test-key-beta-51d0e2"


# --- fixtures ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def api(assistant) -> Iterator[httpx.Client]:
    """A client of the API-only app: open (no keys), no rate limit, the model server 'down'."""
    served = sibling(assistant, rate_limit_per_minute=0, llm_base_url=closed_port_url(), llm_timeout=10.0)
    with serve_in_thread(create_api(served)) as url, httpx.Client(base_url=url, timeout=300) as client:
        yield client


@pytest.fixture(scope="module")
def guarded_url(assistant) -> Iterator[str]:
    """The API with two keys configured and no rate limit."""
    served = sibling(assistant, api_keys=[SecretStr(KEY_A), SecretStr(KEY_B)], rate_limit_per_minute=0)
    with serve_in_thread(create_api(served)) as url:
        yield url


# --- asking -------------------------------------------------------------------------------------------------
def test_ask_in_arabic_answers_with_citations_into_the_article(api):
    response = api.post("/api/v1/ask", json={"question": WHY_SECRET})
    assert response.status_code == 200
    body = response.json()
    assert "لدواع أمنية" in body["answer"]
    assert body["language"] == "ar" and body["mode"] == "extractive"
    assert "[1]" in body["answer"]
    assert body["conversation_id"].startswith("c_")  # a new server-kept conversation
    assert body["timings"]["total"] > 0
    first = body["citations"][0]
    assert {"n", "passage_id", "article_id", "text", "span", "score"} <= first.keys()
    assert first["n"] == 1
    # The span points into the article's text, which the API also serves.
    article = api.get(f"/api/v1/articles/{first['article_id']}").json()
    assert article["text"][first["span"]["start"]:first["span"]["end"]] == first["quote"]
    assert "لدواع أمنية" in first["quote"]


def test_ask_in_english_quotes_the_arabic_source(api):
    body = api.post("/api/v1/ask", json={"question": GUARANTORS_EN}).json()
    assert body["language"] == "en"
    # A "who" question leads with the answering words, then the framed quote.
    assert body["answer"].startswith("In the article's words: «")
    assert "According to the article" in body["answer"]
    assert any("تركيا وروسيا وإيران" in c["quote"] for c in body["citations"])


def test_language_can_be_forced(api):
    body = api.post("/api/v1/ask", json={"question": WHY_SECRET, "language": "en"}).json()
    assert body["language"] == "en" and body["answer"].startswith("According to the article")


def test_follow_up_uses_the_server_kept_conversation(api):
    cid = "test:follow-up-1"
    first = api.post("/api/v1/ask", json={"question": GUARANTORS_AR, "conversation_id": cid}).json()
    assert first["conversation_id"] == cid
    follow = api.post("/api/v1/ask", json={"question": WHO_WAS_ABSENT, "conversation_id": cid}).json()
    assert follow["mode"] == "extractive"
    assert "الولايات المتحدة" in follow["answer"]
    stored = api.get(f"/api/v1/conversations/{cid}").json()
    assert [m["role"] for m in stored["messages"]] == ["user", "assistant", "user", "assistant"]
    assert stored["messages"][0]["content"] == GUARANTORS_AR
    assert stored["messages"][3]["content"] == follow["answer"]

    # Without the conversation the same words are not understood.
    alone = api.post("/api/v1/ask", json={"question": WHO_WAS_ABSENT}).json()
    assert alone["mode"] == "not_found"


def test_the_same_follow_up_stateless_with_history(api):
    first = api.post("/api/v1/ask", json={"question": GUARANTORS_AR, "history": []}).json()
    assert first["conversation_id"] is None
    history = [{"role": "user", "content": GUARANTORS_AR}, {"role": "assistant", "content": first["answer"]}]
    follow = api.post("/api/v1/ask", json={"question": WHO_WAS_ABSENT, "history": history}).json()
    assert follow["conversation_id"] is None
    assert follow["mode"] == "extractive"
    assert "الولايات المتحدة" in follow["answer"]


# --- streaming ----------------------------------------------------------------------------------------------
def test_stream_sends_deltas_then_the_answer_with_citations_then_done(api):
    cid = "test:stream-1"
    with api.stream("POST", "/api/v1/ask/stream", json={"question": WHY_SECRET, "conversation_id": cid}) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        events = list(sse_events(r.iter_lines()))
    names = [name for name, _ in events]
    assert names[-2:] == ["answer", "done"]
    assert set(names[:-2]) == {"delta"} and len(names) > 3
    text = "".join(json.loads(data)["text"] for name, data in events if name == "delta")
    final = json.loads(events[-2][1])
    assert text == final["answer"]
    assert "لدواع أمنية" in final["answer"]
    assert final["citations"] and final["citations"][0]["n"] == 1
    assert final["conversation_id"] == cid
    assert json.loads(events[-1][1]) == {"ok": True}
    assert len(api.get(f"/api/v1/conversations/{cid}").json()["messages"]) == 2


def test_disconnect_mid_stream_leaves_the_server_serving(api):
    with api.stream("POST", "/api/v1/ask/stream", json={"question": GUARANTORS_AR}) as r:
        first = next(sse_events(r.iter_lines()))
        assert first[0] == "delta"
    # The connection is closed with most of the answer unread; the server carries on.
    assert api.get("/api/v1/health").status_code == 200
    again = api.post("/api/v1/ask", json={"question": WHY_SECRET})
    assert again.status_code == 200 and "لدواع أمنية" in again.json()["answer"]


def test_stream_errors_before_the_stream_are_plain_json(api):
    response = api.post("/api/v1/ask/stream", json={"question": "x" * 2001})
    assert response.status_code == 422
    assert error_of(response)["code"] == "question_too_long"


# --- conversations ------------------------------------------------------------------------------------------
def test_conversation_read_delete_and_unknown_ids(api):
    cid = "test:delete-me"
    api.post("/api/v1/ask", json={"question": WHY_SECRET, "conversation_id": cid})
    got = api.get(f"/api/v1/conversations/{cid}")
    assert got.status_code == 200
    assert got.json()["conversation_id"] == cid and len(got.json()["messages"]) == 2
    assert api.delete(f"/api/v1/conversations/{cid}").status_code == 204
    gone = api.get(f"/api/v1/conversations/{cid}")
    assert gone.status_code == 404
    assert error_of(gone)["code"] == "conversation_not_found"
    again = api.delete(f"/api/v1/conversations/{cid}")
    assert again.status_code == 404 and error_of(again)["code"] == "conversation_not_found"
    bad = api.get("/api/v1/conversations/not%20an%20id")
    assert bad.status_code == 422
    assert error_of(bad)["fields"][0]["field"] == "path.conversation_id"


def test_conversations_are_bounded_and_expire_when_idle(assistant, tmp_path):
    now = [1_000_000.0]
    store = ConversationStore(tmp_path / "c.sqlite3", max_turns=2, ttl_seconds=600, clock=lambda: now[0])
    served = sibling(assistant, rate_limit_per_minute=0)
    with serve_in_thread(create_api(served, conversations=store)) as url, httpx.Client(base_url=url,
                                                                                       timeout=300) as c:
        questions = [GUARANTORS_AR, WHY_SECRET, "أين التقى بوتين بالأسد؟"]
        started = []
        for question in questions:
            asked = c.post("/api/v1/ask", json={"question": question, "conversation_id": "b:1"})
            assert asked.status_code == 200
            started.append(asked.json()["new_conversation"])
        assert started == [True, False, False]
        kept = c.get("/api/v1/conversations/b:1").json()["messages"]
        assert [m["content"] for m in kept if m["role"] == "user"] == questions[1:]  # the oldest turn is gone

        now[0] += 599  # still within the idle time
        assert c.get("/api/v1/conversations/b:1").status_code == 200
        now[0] += 601  # idle for longer than the time to live
        expired = c.get("/api/v1/conversations/b:1")
        assert expired.status_code == 404 and error_of(expired)["code"] == "conversation_not_found"
        # The id can be used again: it starts a new conversation, and the bot is told so (it can warn its
        # user that the earlier turns are forgotten).
        again = c.post("/api/v1/ask", json={"question": WHY_SECRET, "conversation_id": "b:1"})
        assert again.json()["new_conversation"] is True
        assert len(c.get("/api/v1/conversations/b:1").json()["messages"]) == 2
        stateless = c.post("/api/v1/ask", json={"question": WHY_SECRET, "history": []})
        assert stateless.json()["new_conversation"] is None and stateless.json()["conversation_id"] is None


def test_conversation_store_scopes_by_owner(tmp_path):
    store = ConversationStore(tmp_path / "c.sqlite3", max_turns=5, ttl_seconds=60)
    store.append("same-id", [Message(role="user", content="سؤال")], owner="key:a")
    assert store.get("same-id", owner="key:b") is None
    assert store.history("same-id", owner="key:a") == [Message(role="user", content="سؤال")]
    assert not store.delete("same-id", owner="key:b")
    assert store.delete("same-id", owner="key:a")
    assert store.get("same-id", owner="key:a") is None


# --- status and articles ------------------------------------------------------------------------------------
def test_health_ready_and_articles(api):
    health = api.get("/api/v1/health")
    assert health.status_code == 200 and health.json()["status"] == "ok"
    assert api.head("/api/v1/health").status_code == 200  # uptime checkers probe with HEAD
    ready = api.get("/api/v1/ready").json()
    assert ready["ready"] is True and ready["passages"] > 0 and ready["articles"] == 1
    articles = api.get("/api/v1/articles").json()["articles"]
    assert [a["id"] for a in articles] == ["assad-putin-sochi"]
    assert articles[0]["language"] == "ar" and "سوتشي" in articles[0]["title"]
    missing = api.get("/api/v1/articles/no-such-article")
    assert missing.status_code == 404 and error_of(missing)["code"] == "article_not_found"


# --- keys, limits and other errors --------------------------------------------------------------------------
def test_missing_and_invalid_keys(guarded_url):
    with httpx.Client(base_url=guarded_url, timeout=300) as c:
        missing = c.get("/api/v1/articles")
        assert missing.status_code == 401
        assert error_of(missing)["code"] == "unauthorized"
        assert missing.headers["www-authenticate"] == "Bearer"
        not_bearer = c.get("/api/v1/articles", headers={"Authorization": f"Basic {KEY_A}"})
        assert not_bearer.status_code == 401
        wrong = c.get("/api/v1/articles", headers={"Authorization": "Bearer not-a-key"})
        assert wrong.status_code == 403 and error_of(wrong)["code"] == "forbidden"
        near = c.get("/api/v1/articles", headers={"Authorization": f"Bearer {KEY_A[:-1]}"})
        assert near.status_code == 403
        for key in (KEY_A, KEY_B):
            assert c.get("/api/v1/articles", headers={"Authorization": f"Bearer {key}"}).status_code == 200
        assert c.get("/api/v1/health").status_code == 200  # probes need no key


def test_conversations_belong_to_the_key_that_made_them(guarded_url):
    a = {"Authorization": f"Bearer {KEY_A}"}
    b = {"Authorization": f"Bearer {KEY_B}"}
    with httpx.Client(base_url=guarded_url, timeout=300) as c:
        asked = c.post("/api/v1/ask", json={"question": WHY_SECRET, "conversation_id": "chat:7"}, headers=a)
        assert asked.status_code == 200
        assert c.get("/api/v1/conversations/chat:7", headers=a).status_code == 200
        assert c.get("/api/v1/conversations/chat:7", headers=b).status_code == 404
        assert c.delete("/api/v1/conversations/chat:7", headers=b).status_code == 404
        assert c.get("/api/v1/conversations/chat:7", headers=a).status_code == 200


def test_logs_carry_request_ids_and_never_keys(guarded_url, caplog):
    caplog.set_level(logging.INFO, logger="assistant.api")
    with httpx.Client(base_url=guarded_url, timeout=300) as c:
        ok = c.get("/api/v1/articles", headers={"Authorization": f"Bearer {KEY_A}"})
        bad = c.get("/api/v1/articles", headers={"Authorization": f"Bearer {KEY_B}x"})
        mine = c.get("/api/v1/articles", headers={"Authorization": f"Bearer {KEY_A}",
                                                  "X-Request-ID": "bot-request-000123"})
    assert mine.headers["x-request-id"] == "bot-request-000123"
    logged = caplog.text
    for response in (ok, bad, mine):
        assert response.headers["x-request-id"] in logged
    assert KEY_A not in logged and KEY_B not in logged


def test_rate_limit_per_key_answers_429_with_retry_after(assistant):
    served = sibling(assistant, api_keys=[SecretStr(KEY_A), SecretStr(KEY_B)], rate_limit_per_minute=2)
    a = {"Authorization": f"Bearer {KEY_A}"}
    with serve_in_thread(create_api(served)) as url, httpx.Client(base_url=url, timeout=300) as c:
        assert [c.get("/api/v1/articles", headers=a).status_code for _ in range(2)] == [200, 200]
        limited = c.get("/api/v1/articles", headers=a)
        assert limited.status_code == 429
        error = error_of(limited)
        assert error["code"] == "rate_limited" and error["limit"] == 2
        assert int(limited.headers["retry-after"]) >= 1
        # Another key has its own allowance.
        assert c.get("/api/v1/articles", headers={"Authorization": f"Bearer {KEY_B}"}).status_code == 200


def test_question_too_long_names_the_limit(api):
    response = api.post("/api/v1/ask", json={"question": "س" * 2001})
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "question_too_long" and error["limit"] == 2000
    assert "2000" in error["message"] and error["fields"][0]["field"] == "body.question"


def test_body_too_large_names_the_limit(api):
    declared = api.post("/api/v1/ask", json={"question": "q" * 70_000})
    assert declared.status_code == 413
    error = error_of(declared)
    assert error["code"] == "body_too_large" and error["limit"] == 64_000 and "64000" in error["message"]

    def chunked() -> Iterator[bytes]:  # no Content-Length: the size is only found while reading
        yield b'{"question": "'
        for _ in range(70):
            yield b"q" * 1000
        yield b'"}'

    streamed = api.post("/api/v1/ask", content=chunked(), headers={"Content-Type": "application/json"})
    assert streamed.status_code == 413 and error_of(streamed)["code"] == "body_too_large"


def test_malformed_json_and_invalid_fields(api):
    malformed = api.post("/api/v1/ask", content=b'{"question": "',
                         headers={"Content-Type": "application/json"})
    assert malformed.status_code == 400 and error_of(malformed)["code"] == "malformed_json"

    missing = api.post("/api/v1/ask", json={"conversation_id": "x1"})
    assert missing.status_code == 422
    error = error_of(missing)
    assert error["code"] == "validation_error"
    assert [f["field"] for f in error["fields"]] == ["body.question"] and "body.question" in error["message"]

    bad_mode = api.post("/api/v1/ask", json={"question": WHY_SECRET, "mode": "creative"})
    assert bad_mode.status_code == 422 and error_of(bad_mode)["fields"][0]["field"] == "body.mode"

    both = api.post("/api/v1/ask", json={"question": WHY_SECRET, "conversation_id": "x1", "history": []})
    assert both.status_code == 422 and "not both" in error_of(both)["message"]

    blank = api.post("/api/v1/ask", json={"question": " \u200f\t "})
    assert blank.status_code == 422 and error_of(blank)["code"] == "invalid_question"

    not_json = api.post("/api/v1/ask", content="question", headers={"Content-Type": "text/plain"})
    assert not_json.status_code == 415 and error_of(not_json)["code"] == "unsupported_media_type"
    # JSON sent without saying so: FastAPI would not read it, so the answer says what to send.
    undeclared = api.post("/api/v1/ask", content=json.dumps({"question": WHY_SECRET}))
    assert undeclared.status_code == 415
    assert "Content-Type: application/json" in error_of(undeclared)["message"]

    # An empty question is refused as a blank one is, not as a schema violation.
    empty = api.post("/api/v1/ask", json={"question": ""})
    assert empty.status_code == 422 and error_of(empty)["code"] == "invalid_question"
    marks = api.post("/api/v1/ask", json={"question": "ـــــ َ ُ"})  # tatweel and vowel marks: nothing
    assert marks.status_code == 422 and error_of(marks)["code"] == "invalid_question"

    wrong_method = api.put("/api/v1/ask", json={"question": WHY_SECRET})
    assert wrong_method.status_code == 405 and error_of(wrong_method)["code"] == "method_not_allowed"


def test_cors_closed_unless_configured(api, assistant):
    preflight = {"Origin": "https://bots.example", "Access-Control-Request-Method": "POST"}
    closed = api.options("/api/v1/ask", headers=preflight)
    assert "access-control-allow-origin" not in closed.headers
    served = sibling(assistant, cors_origins=["https://bots.example"])
    with serve_in_thread(create_api(served)) as url, httpx.Client(base_url=url, timeout=300) as c:
        allowed = c.options("/api/v1/ask", headers=preflight)
        assert allowed.headers["access-control-allow-origin"] == "https://bots.example"
        other = c.options("/api/v1/ask", headers={**preflight, "Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers


def test_generative_mode_with_the_model_server_down_falls_back_and_says_so(api):
    pytest.importorskip("assistant.answer.generative", reason="the generative answerer is not written yet")
    response = api.post("/api/v1/ask", json={"question": WHY_SECRET, "mode": "generative"})
    assert response.status_code == 200
    body = response.json()
    assert body["mode"] == "fallback" and body["note"] and body["fallback_reason"] == "llm_unavailable"
    assert "لدواع أمنية" in body["answer"] and body["citations"]


# --- OpenAI protocol ----------------------------------------------------------------------------------------
def test_openai_client_gets_answers_and_citations(api):
    client = openai.OpenAI(base_url=f"{api.base_url}/v1", api_key="unused", max_retries=0)
    assert "khabar" in [m.id for m in client.models.list()]
    completion = client.chat.completions.create(
        model="khabar", messages=[{"role": "system", "content": "Be brief."},
                                  {"role": "user", "content": WHY_SECRET}])
    assert "لدواع أمنية" in completion.choices[0].message.content
    citations = completion.model_extra["citations"]
    assert citations[0]["n"] == 1 and "لدواع أمنية" in citations[0]["quote"]

    pieces, extra = [], None
    for chunk in client.chat.completions.create(model="khabar", stream=True, messages=[
            {"role": "user", "content": GUARANTORS_AR},
            {"role": "assistant", "content": completion.choices[0].message.content},
            {"role": "user", "content": WHO_WAS_ABSENT}]):
        if chunk.choices and chunk.choices[0].delta.content:
            pieces.append(chunk.choices[0].delta.content)
        if chunk.model_extra.get("citations"):
            extra = chunk.model_extra
    assert "الولايات المتحدة" in "".join(pieces)
    assert extra["citations"] and extra["khabar"]["mode"] == "extractive"


def test_openai_client_sees_api_errors(guarded_url):
    client = openai.OpenAI(base_url=f"{guarded_url}/v1", api_key="wrong-key", max_retries=0)
    with pytest.raises(openai.PermissionDeniedError, match="not valid"):
        client.chat.completions.create(model="khabar", messages=[{"role": "user", "content": WHY_SECRET}])
    client = openai.OpenAI(base_url=f"{guarded_url}/v1", api_key=KEY_A, max_retries=0)
    with pytest.raises(openai.UnprocessableEntityError, match="role 'user'"):
        client.chat.completions.create(model="khabar", messages=[{"role": "assistant", "content": "hi"}])


# --- page and API on one port -------------------------------------------------------------------------------
def test_create_app_serves_the_page_and_the_api_on_one_port(assistant):
    served = sibling(assistant, rate_limit_per_minute=0)
    with serve_in_thread(create_app(served)) as url, httpx.Client(base_url=url, timeout=300) as c:
        page = c.get("/")
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        assert c.get("/api/v1/health").json()["status"] == "ok"
        assert "/api/v1/ask" in c.get("/openapi.json").json()["paths"]
        answer = c.post("/api/v1/ask", json={"question": WHY_SECRET}).json()
        assert "لدواع أمنية" in answer["answer"]
        # Unknown API paths are JSON errors, not the page's HTML 404.
        missing = c.get("/api/v1/no-such-thing")
        assert missing.status_code == 404 and error_of(missing)["code"] == "not_found"
        wrong_method = c.get("/api/v1/ask")
        assert wrong_method.status_code == 405 and "error" in wrong_method.json()


# --- wiring with a stand-in assistant -----------------------------------------------------------------------
class StandIn:
    """Just enough of an Assistant for the API: answers are not the point of these tests."""

    def __init__(self, settings, *, fail: Exception | None = None, ready: bool = True) -> None:
        self.settings = settings
        self.fail = fail
        self.is_ready = ready
        self.closed = threading.Event()
        self.produced = 0

    def validate(self, question: str) -> str:
        if not question.strip():
            raise InvalidQuestion("the question is empty")
        return question.strip()

    def ready(self) -> bool:
        return self.is_ready

    def articles(self) -> list[ArticleInfo]:
        return []

    def ask(self, question, history=None, **_):
        raise self.fail or AssertionError("not used")

    def stream(self, question, history=None, **_):
        """Streams without end, until closed (or fails at once with ``fail``)."""
        if self.fail:
            raise self.fail
        try:
            while True:
                self.produced += 1
                time.sleep(0.01)
                yield f"w{self.produced} "
        finally:
            self.closed.set()


@pytest.fixture
def stand_in_settings(make_settings):
    return make_settings(rate_limit_per_minute=0)


def test_unexpected_errors_are_500_json_without_internals(stand_in_settings, caplog):
    boom = RuntimeError("exploded in /srv/khabar/assistant/secret.py line 12")
    with serve_in_thread(create_api(StandIn(stand_in_settings, fail=boom))) as url:
        response = httpx.post(f"{url}/api/v1/ask", json={"question": "q"}, timeout=60)
    assert response.status_code == 500
    error = error_of(response)
    assert error["code"] == "internal_error" and "secret" not in response.text
    assert error["request_id"] in caplog.text and "exploded" in caplog.text  # the details stay in the log


def test_not_ready_is_503(stand_in_settings):
    with serve_in_thread(create_api(StandIn(stand_in_settings, ready=False))) as url:
        response = httpx.get(f"{url}/api/v1/ready", timeout=60)
    assert response.status_code == 503 and response.json()["ready"] is False


def test_disconnect_stops_the_generation(stand_in_settings):
    stand_in = StandIn(stand_in_settings)
    with serve_in_thread(create_api(stand_in)) as url, httpx.Client(base_url=url, timeout=60) as c:
        with c.stream("POST", "/api/v1/ask/stream", json={"question": "q"}) as r:
            events = sse_events(r.iter_lines())
            assert [next(events)[0] for _ in range(3)] == ["delta"] * 3
        assert stand_in.closed.wait(timeout=30), "the answer stream was not closed after the client left"
        assert c.get("/api/v1/health").status_code == 200


def test_disconnect_cancels_a_generation_in_progress():
    """The scenario runs in a fresh process (see its docstring): a real server and a real client."""
    script = Path(__file__).parent / "scenarios" / "cancel_on_disconnect.py"
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and "cancelled" in done.stdout, done.stdout + done.stderr[-2000:]


def test_stream_failure_after_start_is_an_error_event(stand_in_settings):
    class Failing(StandIn):
        def stream(self, question, history=None, **_):
            yield "partial "
            raise InvalidQuestion("the question cannot be answered")

    with (serve_in_thread(create_api(Failing(stand_in_settings))) as url, httpx.Client(base_url=url) as c,
          c.stream("POST", "/api/v1/ask/stream", json={"question": "q"}) as r):
        events = list(sse_events(r.iter_lines()))
    assert [name for name, _ in events] == ["delta", "error", "done"]
    assert json.loads(events[1][1])["error"]["code"] == "invalid_question"
    assert json.loads(events[2][1]) == {"ok": False}



class RejectedWords:
    """A stand-in model whose words verification rejects: for the stream's wiring, not the model's answers."""

    def condense(self, question, history, language):
        return question

    def stream(self, question, language, history, passages, cancel=None, *, closeness=None):
        from assistant.answer.base import Rejected

        yield from ("Moscow ", "announced ", "it [1]")
        yield Rejected(reason="rejected", detail="the answer states what the passages do not")

    def close(self):
        pass


def test_a_generative_stream_shows_the_model_words_then_replaces_them_when_rejected(assistant):
    rejecting = Assistant(assistant.settings.model_copy(update={"rate_limit_per_minute": 0}),
                          embedder=assistant.embedder, store=assistant.store, generator=RejectedWords(),
                          ingest_corpus=False)
    with serve_in_thread(create_api(rejecting)) as url, httpx.Client(base_url=url, timeout=300) as client:
        body = {"question": WHY_SECRET, "mode": "generative"}
        with client.stream("POST", "/api/v1/ask/stream", json=body) as r:
            events = list(sse_events(r.iter_lines()))
        names = [name for name, _ in events]
        assert names == ["delta", "delta", "delta", "replace", "answer", "done"]
        assert "".join(json.loads(d)["text"] for n, d in events if n == "delta") == "Moscow announced it [1]"
        replace, final = json.loads(events[3][1]), json.loads(events[4][1])
        assert final["mode"] == "fallback" and "لدواع أمنية" in final["answer"]
        assert replace == {"text": final["answer"], "reason": "rejected"}
        # The OpenAI-compatible stream cannot take words back: only the verified (here: fallback) text.
        chat = {"model": "khabar-generative", "stream": True,
                "messages": [{"role": "user", "content": WHY_SECRET}]}
        with client.stream("POST", "/v1/chat/completions", json=chat) as r:
            pieces = [json.loads(d) for _, d in sse_events(r.iter_lines()) if d != "[DONE]"]
        text = "".join(c["choices"][0]["delta"].get("content") or "" for c in pieces if c["choices"])
        assert "Moscow" not in text and text == final["answer"]
