"""Start-up: the server answers HTTP at once and loads the models and the index in the background.

The wiring tests hold a fake loader (the fake embedder behind a gate) so that "still loading" lasts as long
as the test needs; the last test starts the real `app.py` with the real model and watches it become ready.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from conftest import HashEmbedder
from test_index import free_port

from assistant import Assistant
from assistant.errors import ModelUnavailable, Starting
from assistant.server import create_app, serve_in_thread
from assistant.settings import PROJECT_ROOT
from assistant.starting import BackgroundAssistant

QUESTION = "ما هي الدول الضامنة لمحادثات استانا؟"


def _gated(make_settings, gate: threading.Event):
    settings = make_settings(not_found_threshold=0.1)

    def build() -> Assistant:
        assert gate.wait(60), "the test never let the loader finish"
        return Assistant(settings, embedder=HashEmbedder())

    return settings, build


def test_background_assistant_raises_starting_then_delegates(make_settings):
    gate = threading.Event()
    settings, build = _gated(make_settings, gate)
    loading = BackgroundAssistant(build, settings, retry_after=7)
    assert loading.loading and loading.settings is settings
    with pytest.raises(Starting) as raised:
        loading.articles()
    assert raised.value.code == "starting" and raised.value.retry_after == 7
    gate.set()
    assert loading.wait(60) is not None and not loading.loading
    assert [a.id for a in loading.articles()] == ["assad-putin-sochi"]


def test_a_failed_load_is_reported_not_hidden(make_settings):
    failures = []

    def build() -> Assistant:
        raise ModelUnavailable("the embedding model is not in models/ and there is no network")

    loading = BackgroundAssistant(build, make_settings(), on_failure=failures.append)
    assert loading.wait(10) is None and not loading.loading
    assert len(failures) == 1 and isinstance(failures[0], ModelUnavailable)
    with pytest.raises(ModelUnavailable):
        loading.ask(QUESTION)


def test_server_answers_at_once_starting_then_ready(make_settings):
    gate = threading.Event()
    settings, build = _gated(make_settings, gate)
    app = create_app(BackgroundAssistant(build, settings, retry_after=3))
    with serve_in_thread(app) as url, httpx.Client(base_url=url, timeout=60) as c:
        assert c.get("/api/v1/health").status_code == 200
        ready = c.get("/api/v1/ready")
        assert ready.status_code == 503 and ready.headers["Retry-After"] == "3"
        assert ready.json() == {"ready": False, "articles": 0, "passages": 0, "starting": True,
                                "reason": "starting"}
        for asked in (c.post("/api/v1/ask", json={"question": QUESTION}),
                      c.post("/v1/chat/completions",
                             json={"model": "khabar", "messages": [{"role": "user", "content": QUESTION}]}),
                      c.get("/api/v1/articles")):
            assert asked.status_code == 503, asked.text
            assert asked.json()["error"]["code"] == "starting"
            assert asked.headers["Retry-After"] == "3"
        page = c.get("/")
        assert page.status_code == 503 and "Khabar is starting" in page.text and "خبر يستعد" in page.text

        gate.set()
        deadline = time.monotonic() + 60
        while (ready := c.get("/api/v1/ready")).status_code != 200:
            assert time.monotonic() < deadline, ready.text
            time.sleep(0.1)
        assert ready.json()["starting"] is False and ready.json()["passages"] > 0
        answer = c.post("/api/v1/ask", json={"question": QUESTION})
        assert answer.status_code == 200 and "تركيا" in answer.json()["answer"]
        # The chat page replaced the starting page (Gradio's HTML and its config endpoint are served).
        deadline = time.monotonic() + 60
        while (page := c.get("/")).status_code != 200:
            assert time.monotonic() < deadline, page.text[:300]
            time.sleep(0.2)
        assert "gradio" in page.text.lower() and "Khabar is starting" not in page.text
        assert c.get("/config").status_code == 200


def test_a_failed_load_is_a_clear_503_and_the_page_says_so(make_settings):
    def build() -> Assistant:
        raise ModelUnavailable("the embedding model is not in models/ and there is no network")

    loading = BackgroundAssistant(build, make_settings())
    assert loading.wait(10) is None
    with serve_in_thread(create_app(loading)) as url, httpx.Client(base_url=url, timeout=60) as c:
        for response in (c.get("/api/v1/ready"), c.post("/api/v1/ask", json={"question": QUESTION})):
            assert response.status_code == 503
            assert response.json()["error"]["code"] == "model_unavailable"
            assert "no network" in response.json()["error"]["message"]
        page = c.get("/")
        assert page.status_code == 503 and "could not start" in page.text and "تعذر تشغيل خبر" in page.text


@pytest.mark.model
def test_app_py_exits_with_a_message_when_loading_fails(tmp_path):
    """`make run` with the Chroma server down: the load fails in the background and the server stops."""
    env = {**os.environ, "KHABAR_PORT": str(free_port()), "KHABAR_INDEX_DIR": str(tmp_path / "index"),
           "KHABAR_DATA_DIR": str(tmp_path / "data"), "KHABAR_CHROMA_URL": f"http://127.0.0.1:{free_port()}"}
    done = subprocess.run([sys.executable, str(PROJECT_ROOT / "app.py")], env=env, cwd=PROJECT_ROOT,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 1
    assert "cannot start: cannot reach the Chroma server" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.model
def test_app_py_serves_before_the_model_is_loaded(tmp_path):
    """The real `app.py` (page and API, real model): HTTP first, `starting`, then ready and answering."""
    port = free_port()
    env = {**os.environ, "KHABAR_PORT": str(port), "KHABAR_INDEX_DIR": str(tmp_path / "index"),
           "KHABAR_DATA_DIR": str(tmp_path / "data"), "KHABAR_LOAD_IN_BACKGROUND": "true"}
    log = tmp_path / "server.log"
    url = f"http://127.0.0.1:{port}"
    with log.open("w") as sink:
        server = subprocess.Popen([sys.executable, str(PROJECT_ROOT / "app.py")], env=env, cwd=PROJECT_ROOT,
                                  stdout=sink, stderr=subprocess.STDOUT)
    try:
        seen: list[int] = []
        deadline = time.monotonic() + 600
        while not seen or seen[-1] != 200:
            assert server.poll() is None, Path(log).read_text()[-3000:]
            assert time.monotonic() < deadline, "not ready in 10 minutes"
            with contextlib.suppress(httpx.TransportError):  # not listening yet
                seen.append(httpx.get(f"{url}/api/v1/ready", timeout=5).status_code)
            if seen and seen[-1] == 503 and len(seen) == 1:
                starting = httpx.post(f"{url}/api/v1/ask", json={"question": QUESTION}, timeout=30)
                assert starting.status_code == 503 and starting.json()["error"]["code"] == "starting"
            time.sleep(0.2)
        assert seen[0] == 503  # the server listened while the model was still loading
        answer = httpx.post(f"{url}/api/v1/ask", json={"question": QUESTION}, timeout=120)
        assert answer.status_code == 200 and "تركيا" in answer.json()["answer"]
        # The page follows the API's readiness within moments (it is mounted once the assistant is loaded).
        deadline = time.monotonic() + 30
        while (page := httpx.get(url + "/", timeout=30)).status_code != 200:
            assert page.status_code == 503 and time.monotonic() < deadline
            time.sleep(0.2)
    finally:
        server.terminate()
        server.wait(timeout=30)
