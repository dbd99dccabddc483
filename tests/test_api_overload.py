"""Overload by design, over real HTTP: a bounded number of answers in flight and a bounded queue, then `503`
with `Retry-After`; generative answers in a pool of their own, with a time limit and a permission; the rate
limit shared by the worker processes of one server.

Saturation needs answers that last as long as the test wants, so those tests hold a stand-in assistant's
answers open; the permission and one saturation test use the real assistant.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import openai
import pytest
from api_support import closed_port_url, error_of, sibling, sse_events
from pydantic import SecretStr

from assistant.api import create_api
from assistant.api.admission import NOT_PERMITTED_NOTE
from assistant.schemas import Answer, ArticleInfo
from assistant.server import serve_in_thread
from assistant.settings import PROJECT_ROOT

WHY_SECRET = "لماذا لم يعلن عن الزيارة مسبقا؟"
KEY_A = "khabar-test-key-generative-a41"
KEY_B = "khabar-test-key-extractive-b72"


class Held:
    """A stand-in assistant whose answers last until the test lets them go (``let_go``), or, in generative
    mode, until the pipeline is cancelled (as the real one ends a generation: with the extractive
    fallback)."""

    def __init__(self, settings) -> None:
        self.settings = settings
        self.let_go = threading.Event()
        self.started = threading.Semaphore(0)

    def validate(self, question: str) -> str:
        return question.strip()

    def ready(self) -> bool:
        return True

    def articles(self) -> list[ArticleInfo]:
        return []

    def stream(self, question, history=None, *, mode=None, language=None, cancel=None, **_):
        self.started.release()
        while not self.let_go.wait(0.02):
            if cancel is not None and cancel.is_set():
                yield Answer(question=question, answer="quoted", language="en", mode="fallback",
                             note="cancelled before the language model finished", timings={"total": 1.0})
                return
        yield "the answer "
        yield Answer(question=question, answer="the answer", language="en", mode=mode or "extractive",
                     timings={"total": 1.0})


@pytest.fixture
def held(make_settings):
    """Starts servers over :class:`Held` assistants with the limits given; yields (assistant, url, pools)."""
    servers: list = []

    def start(**limits):
        assistant = Held(make_settings(rate_limit_per_minute=0, **limits))
        app = create_api(assistant)
        server = serve_in_thread(app)
        servers.append((assistant, server))
        return assistant, server.__enter__(), app.state.khabar.admissions

    yield start
    for assistant, server in servers:
        assistant.let_go.set()
        server.__exit__(None, None, None)


def in_background(call) -> tuple[threading.Thread, list]:
    out: list = []
    thread = threading.Thread(target=lambda: out.append(call()), daemon=True)
    thread.start()
    return thread, out


def wait_until(condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.02)


def busy(response: httpx.Response, code: str = "overloaded") -> None:
    """A 503 answer of the kind the API documents: JSON with a code and a whole-second Retry-After."""
    assert response.status_code == 503, response.text
    assert error_of(response)["code"] == code
    assert int(response.headers["retry-after"]) >= 1


ASK = {"question": "q"}
CHAT = {"model": "khabar", "messages": [{"role": "user", "content": "q"}]}


def stream_whole(url: str, body: dict = ASK) -> list[tuple[str, str]]:
    with httpx.stream("POST", f"{url}/api/v1/ask/stream", json=body, timeout=60) as r:
        return list(sse_events(r.iter_lines()))


def test_beyond_the_slots_and_the_queue_comes_503_with_retry_after(held):
    assistant, url, pools = held(max_answers_in_flight=1, max_answers_queued=1, queue_timeout_seconds=60)
    first, first_out = in_background(lambda: httpx.post(f"{url}/api/v1/ask", json=ASK, timeout=60))
    assert assistant.started.acquire(timeout=30)  # answering
    second, second_out = in_background(lambda: stream_whole(url))
    wait_until(lambda: pools.answers.waiting == 1)
    assert httpx.get(f"{url}/api/v1/health", timeout=10).status_code == 200  # probes are never queued

    start = time.monotonic()
    busy(httpx.post(f"{url}/api/v1/ask", json=ASK, timeout=60))
    busy(httpx.post(f"{url}/v1/chat/completions", json=CHAT, timeout=60))
    busy(httpx.post(f"{url}/api/v1/ask/stream", json=ASK, timeout=60))  # plain JSON, before any event
    assert time.monotonic() - start < 5  # refused at once, not after waiting

    assistant.let_go.set()
    first.join(30)
    second.join(30)
    assert first_out[0].status_code == 200 and first_out[0].json()["answer"] == "the answer"
    assert [name for name, _ in second_out[0]][-2:] == ["answer", "done"]
    # Every slot was given back.
    assert httpx.post(f"{url}/api/v1/ask", json=ASK, timeout=60).status_code == 200
    assert pools.answers.running == 0 and pools.answers.waiting == 0


def test_waiting_longer_than_the_queue_timeout_is_503(held):
    assistant, url, _pools = held(max_answers_in_flight=1, max_answers_queued=4, queue_timeout_seconds=1)
    first, first_out = in_background(lambda: httpx.post(f"{url}/api/v1/ask", json=ASK, timeout=60))
    assert assistant.started.acquire(timeout=30)
    start = time.monotonic()
    waited = httpx.post(f"{url}/api/v1/ask", json=ASK, timeout=60)
    busy(waited)
    assert "within 1 s" in waited.json()["error"]["message"]
    assert 0.9 < time.monotonic() - start < 10
    assistant.let_go.set()
    first.join(30)
    assert first_out[0].status_code == 200


def test_a_request_that_would_wait_past_the_timeout_is_refused_at_once(held):
    assistant, url, pools = held(max_answers_in_flight=1, max_answers_queued=4, queue_timeout_seconds=2)
    # One answer that takes about 1.5 s teaches the pool how long answers take.
    timer = threading.Timer(1.5, assistant.let_go.set)
    timer.start()
    assert httpx.post(f"{url}/api/v1/ask", json=ASK, timeout=60).status_code == 200
    assistant.let_go.clear()
    first, first_out = in_background(lambda: httpx.post(f"{url}/api/v1/ask", json=ASK, timeout=60))
    while assistant.started.acquire(timeout=0):  # drain the count of the answer above
        pass
    wait_until(lambda: pools.answers.running == 1)
    second, second_out = in_background(lambda: httpx.post(f"{url}/api/v1/ask", json=ASK, timeout=60))
    wait_until(lambda: pools.answers.waiting == 1)  # about 1.5 s expected: it waits
    start = time.monotonic()
    refused = httpx.post(f"{url}/api/v1/ask", json=ASK, timeout=60)  # about 3 s expected: past 2 s
    busy(refused)
    assert "would be about" in refused.json()["error"]["message"]
    assert int(refused.headers["retry-after"]) >= 3
    assert time.monotonic() - start < 1.5  # at once, not after the 2 s timeout
    assistant.let_go.set()
    first.join(30)
    second.join(30)
    assert first_out[0].status_code == 200 and second_out[0].status_code == 200


def test_a_client_leaving_a_stream_gives_its_slot_back(held):
    assistant, url, pools = held(max_answers_in_flight=1, max_answers_queued=0, queue_timeout_seconds=60)
    with httpx.stream("POST", f"{url}/api/v1/ask/stream", json=ASK, timeout=60) as r:
        assert r.status_code == 200
        assert assistant.started.acquire(timeout=30)
        busy(httpx.post(f"{url}/api/v1/ask", json=ASK, timeout=60))  # the one slot is taken
    # The client left without reading: the slot comes back without anyone letting the answer go.
    wait_until(lambda: pools.answers.running == 0)
    assistant.let_go.set()
    assert httpx.post(f"{url}/api/v1/ask", json=ASK, timeout=60).status_code == 200


def test_generative_answers_have_their_own_pool(held):
    assistant, url, pools = held(max_answers_in_flight=1, max_answers_queued=0, max_generative_in_flight=1,
                                 max_generative_queued=0, generative_timeout_seconds=60)
    generative = {"question": "q", "mode": "generative"}
    first, first_out = in_background(lambda: httpx.post(f"{url}/api/v1/ask", json=generative, timeout=60))
    assert assistant.started.acquire(timeout=30)
    busy(httpx.post(f"{url}/api/v1/ask", json=generative, timeout=60), "generative_busy")
    busy(httpx.post(f"{url}/v1/chat/completions", timeout=60,
                    json={**CHAT, "model": "khabar-generative"}), "generative_busy")
    assert pools.answers.running == 0  # a generative answer holds no slot of the general pool
    assistant.let_go.set()
    first.join(30)
    assert first_out[0].json()["mode"] == "generative"


def test_a_generative_answer_past_its_time_limit_is_the_extractive_one_with_a_note(held):
    _assistant, url, pools = held(generative_timeout_seconds=1)
    start = time.monotonic()
    response = httpx.post(f"{url}/api/v1/ask", json={"question": "q", "mode": "generative"}, timeout=60)
    elapsed = time.monotonic() - start
    assert response.status_code == 200
    body = response.json()
    assert body["mode"] == "fallback" and "within the 1 s limit" in body["note"]
    assert 0.9 < elapsed < 10
    events = stream_whole(url, {"question": "q", "mode": "generative"})
    final = next(json.loads(data) for name, data in events if name == "answer")
    assert final["mode"] == "fallback" and "within the 1 s limit" in final["note"]
    assert pools.generative.running == 0


# --- with the real assistant --------------------------------------------------------------------------------
def test_saturating_the_real_assistant_sheds_with_503_and_answers_the_rest(assistant):
    served = sibling(assistant, rate_limit_per_minute=0, max_answers_in_flight=1, max_answers_queued=1,
                     queue_timeout_seconds=60)
    with serve_in_thread(create_api(served)) as url:
        barrier = threading.Barrier(8)

        def ask(_: int) -> httpx.Response:
            with httpx.Client(timeout=120) as c:
                barrier.wait()
                return c.post(f"{url}/api/v1/ask", json={"question": WHY_SECRET})

        with ThreadPoolExecutor(8) as pool:
            responses = list(pool.map(ask, range(8)))
    statuses = sorted(r.status_code for r in responses)
    assert set(statuses) <= {200, 503}, statuses
    assert statuses.count(200) >= 2 and statuses.count(503) >= 1, statuses
    for response in responses:
        if response.status_code == 200:
            assert "لدواع أمنية" in response.json()["answer"]
        else:
            busy(response)


@pytest.fixture(scope="module")
def gated_url(assistant) -> Iterator[str]:
    """Keys A and B; only A may have generative answers; the model server is down (so A's are fallbacks)."""
    served = sibling(assistant, rate_limit_per_minute=0, api_keys=[SecretStr(KEY_B)],
                     generative_keys=[SecretStr(KEY_A)], llm_base_url=closed_port_url(), llm_timeout=10.0)
    with serve_in_thread(create_api(served)) as url:
        yield url


def test_generative_from_a_key_without_the_permission_is_extractive_with_a_note(gated_url):
    b = {"Authorization": f"Bearer {KEY_B}"}
    asked = httpx.post(f"{gated_url}/api/v1/ask", json={"question": WHY_SECRET, "mode": "generative"},
                       headers=b, timeout=300)
    assert asked.status_code == 200
    body = asked.json()
    assert body["mode"] == "extractive" and body["note"] == NOT_PERMITTED_NOTE
    assert "لدواع أمنية" in body["answer"] and body["citations"]

    with httpx.stream("POST", f"{gated_url}/api/v1/ask/stream", headers=b, timeout=300,
                      json={"question": WHY_SECRET, "mode": "generative"}) as r:
        final = next(json.loads(d) for name, d in sse_events(r.iter_lines()) if name == "answer")
    assert final["mode"] == "extractive" and final["note"] == NOT_PERMITTED_NOTE

    client = openai.OpenAI(base_url=f"{gated_url}/v1", api_key=KEY_B, max_retries=0, timeout=300)
    reply = client.chat.completions.create(model="khabar-generative",
                                           messages=[{"role": "user", "content": WHY_SECRET}])
    assert reply.model_extra["khabar"]["mode"] == "extractive"
    assert reply.model_extra["khabar"]["note"] == NOT_PERMITTED_NOTE

    # An extractive question from the same key carries no note.
    plain = httpx.post(f"{gated_url}/api/v1/ask", json={"question": WHY_SECRET}, headers=b, timeout=300)
    assert plain.json()["mode"] == "extractive" and plain.json()["note"] is None


def test_a_generative_key_reaches_the_generative_path(gated_url):
    a = {"Authorization": f"Bearer {KEY_A}"}
    asked = httpx.post(f"{gated_url}/api/v1/ask", json={"question": WHY_SECRET, "mode": "generative"},
                       headers=a, timeout=300)
    assert asked.status_code == 200
    body = asked.json()
    # The model server is down, so the generative path falls back, saying why: not the permission note.
    assert body["mode"] == "fallback" and body["note"] and body["note"] != NOT_PERMITTED_NOTE
    assert httpx.get(f"{gated_url}/api/v1/articles", headers=a, timeout=60).status_code == 200  # a valid key
    assert httpx.get(f"{gated_url}/api/v1/articles", timeout=60).status_code == 401


def test_generative_can_be_switched_off_for_everyone(assistant):
    served = sibling(assistant, rate_limit_per_minute=0, allow_generative=False,
                     llm_base_url=closed_port_url(), llm_timeout=10.0)
    with serve_in_thread(create_api(served)) as url:
        body = httpx.post(f"{url}/api/v1/ask", json={"question": WHY_SECRET, "mode": "generative"},
                          timeout=300).json()
    assert body["mode"] == "extractive" and body["note"] == NOT_PERMITTED_NOTE


# --- the rate limit across worker processes -----------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_rate_limit_holds_across_uvicorn_workers(tmp_path):
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": f"{PROJECT_ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
           "KHABAR_DATA_DIR": str(tmp_path / "data"), "KHABAR_API_KEYS": KEY_A,
           "KHABAR_RATE_LIMIT_PER_MINUTE": "5"}
    scenarios = Path(__file__).parent / "scenarios"
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "limited_app:app", "--app-dir", str(scenarios),
         "--workers", "2", "--timeout-worker-healthcheck", "60", "--host", "127.0.0.1", "--port", str(port),
         "--log-level", "warning"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"

        def up() -> bool:
            try:
                return httpx.get(f"{url}/api/v1/health", timeout=2).status_code == 200
            except httpx.TransportError:
                return False

        wait_until(up, timeout=120)
        headers = {"Authorization": f"Bearer {KEY_A}"}
        statuses, workers = [], set()
        start = time.monotonic()
        for _ in range(60):  # a new connection each time, so that both workers get some
            response = httpx.get(f"{url}/api/v1/articles", headers=headers, timeout=30)
            statuses.append(response.status_code)
            workers.add(response.headers["x-worker-pid"])
            if len(workers) == 2 and len(statuses) >= 12:
                break
        elapsed = time.monotonic() - start
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert len(workers) == 2, "one worker served every request; the test proves nothing"
    assert set(statuses) == {200, 429}
    # Five a minute between both workers (plus what refilled meanwhile), not five for each.
    assert statuses.count(200) <= 5 + int(elapsed * 5 / 60), statuses
