"""The multi-worker deployment of docs/deployment.md, for real: a `chroma run` server, `khabar ingest` into
it, then `uvicorn --workers 2` over the API, asked through real HTTP.

Which worker answered a request is read from the server's log (each line carries the process id and the
request id, which the test chooses), so the test can insist that a conversation and a rate limit span both
workers rather than hope they did. Each request opens a new connection: a kept-alive one would stay with
one worker.
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from pathlib import Path

import httpx
import pytest
from test_index import chroma_server, free_port  # noqa: F401  (chroma_server is a fixture)

from assistant.settings import PROJECT_ROOT

ARTICLE = PROJECT_ROOT / "data" / "articles" / "assad-putin-sochi.ar.txt"
GUARANTORS_AR = "ما هي الدول الضامنة لمحادثات استانا؟"
WHO_WAS_ABSENT = "ومن غاب عنها؟"  # "and who was absent from them?": needs the previous question
KEY_CHAT = "khabar-workers-chat-3b8e1d"
KEY_BURST = "khabar-workers-burst-94c2a7"
LIMIT = 30  # requests a minute per key
START_TIMEOUT = 600  # two workers load the model at once on two shared cores

pytestmark = pytest.mark.model  # the workers load the real embedding model


class Deployment:
    """The running server: its URL and log, and which worker answered which request."""

    def __init__(self, url: str, log: Path, data: Path) -> None:
        self.url, self.log, self.data = url, log, data

    def request(self, method: str, path: str, key: str, **kwargs) -> tuple[httpx.Response, int]:
        """One request on a new connection; the response and the pid of the worker that answered it."""
        rid = f"t-{uuid.uuid4().hex}"
        headers = {"Authorization": f"Bearer {key}", "X-Request-ID": rid}
        response = httpx.request(method, self.url + path, headers=headers, timeout=120, **kwargs)
        return response, self.worker_of(rid)

    def worker_of(self, rid: str) -> int:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            found = re.search(rf"\[pid (\d+)\] \[{rid}\]", self.log.read_text(errors="replace"))
            if found:
                return int(found.group(1))
            time.sleep(0.05)
        raise AssertionError(f"no log line for request {rid}")


@pytest.fixture(scope="module")
def deployment(chroma_server, tmp_path_factory):  # noqa: F811  (the imported fixture)
    root = tmp_path_factory.mktemp("workers")
    env = {**os.environ, "KHABAR_CHROMA_URL": chroma_server, "KHABAR_COLLECTION": "workers",
           "KHABAR_DATA_DIR": str(root / "data"), "KHABAR_INDEX_DIR": str(root / "index"),
           "KHABAR_CORPUS": str(ARTICLE), "KHABAR_API_KEYS": f"{KEY_CHAT},{KEY_BURST}",
           "KHABAR_RATE_LIMIT_PER_MINUTE": str(LIMIT)}
    khabar = Path(sys.executable).with_name("khabar")
    # The articles go in once, before the workers start (docs/deployment.md), so no two workers write them.
    done = subprocess.run([str(khabar), "ingest", "--json", str(ARTICLE)], env=env, cwd=PROJECT_ROOT,
                          capture_output=True, text=True, timeout=START_TIMEOUT)
    assert done.returncode == 0, done.stderr[-2000:]
    port = free_port()
    log = root / "server.log"
    with log.open("w") as sink:
        server = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", "assistant.server:api_only_app", "--workers", "2",
             "--timeout-worker-healthcheck", "60",  # as docs/deployment.md says
             "--host", "127.0.0.1", "--port", str(port)],
            env=env, cwd=PROJECT_ROOT, stdout=sink, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while log.read_text(errors="replace").count("Application startup complete") < 2:
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail("the workers did not start:\n" + log.read_text(errors="replace")[-3000:])
            time.sleep(0.5)
        deployment = Deployment(f"http://127.0.0.1:{port}", log, root / "data")
        # Each worker loads the model in the background (`starting` meanwhile): wait until both say ready.
        ready_workers: set[int] = set()
        while len(ready_workers) < 2:
            assert server.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
            response, worker = deployment.request("GET", "/api/v1/ready", KEY_CHAT)
            if response.status_code == 200:
                ready_workers.add(worker)
            else:
                assert response.json().get("starting") is True, response.text
                time.sleep(0.5)
        yield deployment
    finally:
        server.terminate()  # uvicorn's supervisor stops its workers on SIGTERM
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)


def test_two_workers_share_index_conversations_and_rate_limit(deployment):
    ready = httpx.get(deployment.url + "/api/v1/ready", timeout=30)
    assert ready.status_code == 200 and ready.json()["passages"] > 0

    # A conversation over several requests: its second request is made to land on the other worker.
    cid = f"workers-{uuid.uuid4().hex[:8]}"
    first, first_worker = deployment.request("POST", "/api/v1/ask", KEY_CHAT,
                                             json={"question": GUARANTORS_AR, "conversation_id": cid})
    assert first.status_code == 200, first.text
    assert "تركيا" in first.json()["answer"]
    for _ in range(20):
        stored, worker = deployment.request("GET", f"/api/v1/conversations/{cid}", KEY_CHAT)
        if worker != first_worker:
            break
    else:
        pytest.fail("every request went to the same worker")
    assert stored.status_code == 200
    assert [m["content"] for m in stored.json()["messages"]][:1] == [GUARANTORS_AR]
    follow, _ = deployment.request("POST", "/api/v1/ask", KEY_CHAT,
                                   json={"question": WHO_WAS_ABSENT, "conversation_id": cid})
    assert follow.status_code == 200, follow.text
    assert "الولايات المتحدة" in follow.json()["answer"]  # answered from the stored first turn
    final, _ = deployment.request("GET", f"/api/v1/conversations/{cid}", KEY_CHAT)
    assert [m["role"] for m in final.json()["messages"]] == ["user", "assistant"] * 2
    for shared in ("conversations", "ratelimit"):
        with closing(sqlite3.connect(deployment.data / "runtime" / f"{shared}.sqlite3")) as db:
            assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"

    # The rate limit: one allowance for the key across both workers, not one per worker.
    start = time.monotonic()
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: deployment.request("GET", "/api/v1/articles", KEY_BURST),
                                range(2 * LIMIT)))
    refilled = (time.monotonic() - start) * LIMIT / 60
    allowed = [worker for response, worker in results if response.status_code == 200]
    refused = [response for response, _ in results if response.status_code == 429]
    assert len(allowed) + len(refused) == 2 * LIMIT
    assert LIMIT <= len(allowed) <= LIMIT + refilled + 1
    assert len(set(allowed)) == 2  # both workers drew on the one allowance
    assert refused[0].json()["error"]["code"] == "rate_limited"
    assert int(refused[0].headers["Retry-After"]) >= 1
    # No worker was killed and started again on the way (uvicorn's health check, docs/deployment.md).
    assert " died" not in deployment.log.read_text(errors="replace")
