"""Faults, each started for real and broken for real: the Chroma server killed while questions are asked, the
app and `khabar ingest` on one embedded index, a read-only or full data folder.

The servers run as separate processes (uvicorn over the real app, `chroma run`), reached over real HTTP.
The read-only and full folders are small tmpfs mounts, which need root (CI runs as root); elsewhere those
tests are skipped with the reason.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from api_support import error_of, free_port, sse_events

from assistant.errors import StorageError

pytestmark = pytest.mark.model

PROJECT_ROOT = Path(__file__).resolve().parents[1]
GUARANTORS = "من هي الدول الضامنة لمحادثات أستانا؟"
SECOND_ARTICLE = """مباحثات في أنقرة حول سوريا

استضافت العاصمة التركية أنقرة اجتماعا لوزراء خارجية الدول الضامنة لبحث وقف إطلاق النار في إدلب.

وقال وزير الخارجية التركي إن الاجتماع ناقش إعادة فتح الطرق الدولية وعودة اللاجئين.
"""


def khabar_env(tmp_path: Path, **settings: str) -> dict[str, str]:
    """The environment of a Khabar process with its own index and data folders under ``tmp_path``."""
    # The session's embedding cache is kept (tests/conftest.py): without it each process embedded the article.
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("KHABAR_") or k == "KHABAR_EMBEDDING_CACHE"}
    env.update({"KHABAR_INDEX_DIR": str(tmp_path / "index"), "KHABAR_DATA_DIR": str(tmp_path / "data"),
                "KHABAR_MODELS_DIR": str(PROJECT_ROOT / "models"),
                "PYTHONPATH": f"{PROJECT_ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"})
    env.update({f"KHABAR_{k.upper()}": v for k, v in settings.items()})
    return env


def wait_for(check, timeout: float, what: str, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            pytest.fail(f"{what}: the process exited with {proc.returncode}: {_output(proc)[-3000:]}")
        with contextlib.suppress(httpx.HTTPError):
            if check():
                return
        time.sleep(0.5)
    pytest.fail(f"{what}: not within {timeout} s")


def _output(proc: subprocess.Popen) -> str:
    with contextlib.suppress(Exception):
        return proc.communicate(timeout=5)[0] or ""
    return ""


@contextlib.contextmanager
def api_server(env: dict[str, str]) -> Iterator[str]:
    """The real API (`uvicorn --factory assistant.server:api_only_app`) in its own process, once ready."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "assistant.server:api_only_app", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning"],
        env=env, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: httpx.get(f"{url}/api/v1/ready", timeout=5).status_code == 200, 600,
                 "the API server", proc)
        yield url
    finally:
        proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=30)
        if proc.poll() is None:
            proc.kill()


class ChromaServer:
    """A `chroma run` process that can be killed and started again on the same port and folder."""

    def __init__(self, path: Path) -> None:
        self.path, self.port = path, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        chroma = Path(sys.executable).with_name("chroma")
        self.proc = subprocess.Popen(
            [str(chroma if chroma.exists() else shutil.which("chroma") or "chroma"), "run", "--path",
             str(self.path), "--host", "127.0.0.1", "--port", str(self.port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: httpx.get(f"{self.url}/api/v2/heartbeat", timeout=1).status_code == 200, 120,
                 "the Chroma server", self.proc)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)


def ask(url: str, question: str, **body) -> httpx.Response:
    return httpx.post(f"{url}/api/v1/ask", json={"question": question, **body}, timeout=120)


# --- the Chroma server killed while questions are asked -----------------------------------------------------
def test_a_killed_chroma_server_is_a_503_then_answers_again_without_a_restart(tmp_path):
    chroma = ChromaServer(tmp_path / "chroma")
    chroma.start()
    try:
        with api_server(khabar_env(tmp_path, chroma_url=chroma.url)) as url:
            before = ask(url, GUARANTORS)
            assert before.status_code == 200
            assert "تركيا وروسيا وإيران" in before.json()["answer"]

            chroma.kill()
            down = ask(url, GUARANTORS)
            assert down.status_code == 503
            assert error_of(down)["code"] == "store_unavailable"
            assert int(down.headers["retry-after"]) >= 1
            ready = httpx.get(f"{url}/api/v1/ready", timeout=30)
            assert ready.status_code == 503
            assert ready.json()["ready"] is False and ready.json()["reason"] == "store_unavailable"
            assert httpx.get(f"{url}/api/v1/health", timeout=30).status_code == 200  # alive, not ready
            guarantors = {"question": "Who are the guarantors?"}
            with httpx.stream("POST", f"{url}/api/v1/ask/stream", json=guarantors, timeout=60) as streamed:
                events = list(sse_events(streamed.iter_lines()))
            errors = [data for event, data in events if event == "error"]
            assert errors and '"store_unavailable"' in errors[0]
            chat = httpx.post(f"{url}/v1/chat/completions", timeout=60, json={
                "model": "khabar", "messages": [{"role": "user", "content": GUARANTORS}]})
            assert chat.status_code == 503 and "store_unavailable" in chat.text

            chroma.start()  # same folder, same port: the app reconnects by itself
            wait_for(lambda: httpx.get(f"{url}/api/v1/ready", timeout=30).status_code == 200, 60,
                     "readiness after the Chroma server came back")
            after = ask(url, GUARANTORS)
            assert after.status_code == 200
            assert after.json()["answer"] == before.json()["answer"]
    finally:
        if chroma.proc and chroma.proc.poll() is None:
            chroma.proc.terminate()
            chroma.proc.wait(timeout=30)


# --- the app and `khabar ingest` on one embedded index ------------------------------------------------------
def test_ingest_while_the_app_holds_the_embedded_index_is_refused_clearly(tmp_path):
    env = khabar_env(tmp_path)
    article = tmp_path / "ankara-talks.ar.txt"
    article.write_text(SECOND_ARTICLE, encoding="utf-8")
    khabar = str(Path(sys.executable).with_name("khabar"))
    with api_server(env) as url:
        before = ask(url, GUARANTORS).json()["answer"]
        busy = subprocess.run([khabar, "ingest", str(article)], env=env, capture_output=True, text=True,
                              timeout=600)
        assert busy.returncode != 0
        assert "index is busy" in busy.stderr and "KHABAR_CHROMA_URL" in busy.stderr
        assert "Traceback" not in busy.stderr + busy.stdout
        # The app is untouched: same articles, same answer.
        listed = httpx.get(f"{url}/api/v1/articles", timeout=30).json()["articles"]
        assert [a["id"] for a in listed] == ["assad-putin-sochi"]
        assert ask(url, GUARANTORS).json()["answer"] == before
    # Once the app has stopped, the same command goes through and the index holds both articles.
    done = subprocess.run([khabar, "ingest", str(article)], env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    with api_server(env) as url:
        ids = [a["id"] for a in httpx.get(f"{url}/api/v1/articles", timeout=30).json()["articles"]]
        assert ids == ["ankara-talks", "assad-putin-sochi"]
        assert "تركيا وروسيا وإيران" in ask(url, GUARANTORS).json()["answer"]


# --- a read-only or full data folder ------------------------------------------------------------------------
@contextlib.contextmanager
def tmpfs(path: Path, size: str, *, read_only: bool = False) -> Iterator[Path]:
    """A small tmpfs mounted at ``path`` (root only; the test is skipped otherwise)."""
    path.mkdir(parents=True, exist_ok=True)
    options = f"size={size}" + (",ro" if read_only else "")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], capture_output=True,
                             text=True) if os.geteuid() == 0 else None
    if mounted is None or mounted.returncode != 0:
        pytest.skip("mounting a small tmpfs needs root with CAP_SYS_ADMIN")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def fill(folder: Path) -> Path:
    """Write into ``folder`` until the disk is full; the file that took the space."""
    filler = folder / "filler.bin"
    with open(filler, "wb", buffering=0) as out, contextlib.suppress(OSError):
        while True:
            out.write(b"\0" * 65536)
    # Then the last partial block, in small writes.
    with contextlib.suppress(OSError), open(folder / "filler-2.bin", "wb", buffering=0) as out:
        while True:
            out.write(b"\0" * 512)
    return filler


def test_a_read_only_data_folder_stops_the_start_with_a_message(tmp_path):
    with tmpfs(tmp_path / "data", "1m", read_only=True):
        done = subprocess.run([sys.executable, str(PROJECT_ROOT / "app.py")], env=khabar_env(tmp_path),
                              cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 1
    assert "cannot start: the data folder (KHABAR_DATA_DIR) is not writable" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_full_data_folder_refuses_to_save_clearly_and_loses_nothing(tmp_path):
    with tmpfs(tmp_path / "data", "2m") as data, api_server(khabar_env(tmp_path)) as url:
        first = ask(url, GUARANTORS, conversation_id="telegram:7")
        assert first.status_code == 200
        fill(data)

        refused = ask(url, "Why was the visit not announced in advance?", conversation_id="telegram:7")
        assert refused.status_code == 503
        error = error_of(refused)
        assert error["code"] == "storage_unavailable" and "full or read-only" in error["message"]
        # Reading may be refused too (SQLite's write-ahead log writes even to read), never with a 500;
        # questions that store nothing still answer.
        kept = httpx.get(f"{url}/api/v1/conversations/telegram:7", timeout=30)
        if kept.status_code == 200:
            assert [m["content"] for m in kept.json()["messages"]][:1] == [GUARANTORS]
        else:
            assert kept.status_code == 503 and error_of(kept)["code"] == "storage_unavailable"
        alone = ask(url, GUARANTORS, history=[])
        assert alone.status_code == 200, alone.text

        for filler in data.glob("filler*.bin"):
            filler.unlink()
        again = ask(url, "Why was the visit not announced in advance?", conversation_id="telegram:7")
        assert again.status_code == 200
        # Nothing was lost: the first turn and the new one, and nothing of the refused attempt.
        kept = httpx.get(f"{url}/api/v1/conversations/telegram:7", timeout=30).json()
        assert len(kept["messages"]) == 4 and kept["messages"][0]["content"] == GUARANTORS


def test_feedback_on_a_full_disk_is_a_storage_error_not_a_silent_loss(tmp_path):
    from assistant.schemas import Answer
    from assistant.web.feedback import FeedbackStore

    with tmpfs(tmp_path / "data", "1m") as data:
        store = FeedbackStore(data / "feedback.sqlite3")
        answer = Answer(question=GUARANTORS, answer="«تركيا وروسيا وإيران» [1]", language="ar",
                        mode="extractive")
        row = store.rate("session-a", 0, "up", answer)
        fill(data)
        with pytest.raises(StorageError, match="rating could not be saved"):
            for turn in range(1, 200):  # until the free pages inside the file are used up too
                store.rate("session-a", turn, "down", answer.model_copy(update={"answer": "x" * 2000}))
        for filler in data.glob("filler*.bin"):
            filler.unlink()
        records = store.records()
        assert records[0].id == row and records[0].rating == "up"  # the earlier rating is whole
