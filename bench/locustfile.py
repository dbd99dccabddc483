"""Locust scenario: bots and page visitors holding conversations in Arabic and English.

* ``ApiBot`` (3 of 4 users) holds a two-question conversation (a question, then a follow-up that needs it)
  through one of the three bot interfaces, picked per conversation: `POST /api/v1/ask` and
  `POST /api/v1/ask/stream` with a server-kept `conversation_id` (deleted afterwards), or
  `POST /v1/chat/completions` with the history in `messages`.
* ``PageVisitor`` (1 of 4) asks through the page's own Gradio endpoint (`/gradio_api/call/ask`, the queue the
  page uses), with the history it keeps.

Run by ``bench/load.py`` (which starts the server and reads the results); by hand:
``.venv/bin/locust -f bench/locustfile.py --headless -u 10 -r 10 -t 60s -H http://127.0.0.1:7860``.
If ``KHABAR_LOAD_OUT`` names a file, a JSON summary is written there when the run stops: answered requests
with their p50/p95/p99 (whole answers, streams read to the end), `503`s (shed load, by design) and errors.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import time
import uuid

from locust import HttpUser, between, events, task

CONVERSATIONS = {
    "ar": [["ما هي الدول الضامنة لمحادثات استانا؟", "ومن غاب عنها؟"],
           ["لماذا لم يعلن عن الزيارة مسبقا؟", "أين التقى بوتين بالأسد؟"],
           ["كم عدد السفن الحربية التي تخطط موسكو لنشرها؟", "ولماذا؟"]],
    "en": [["Which countries are the guarantor states of the Astana talks?", "And who was absent from them?"],
           ["Why was the visit not announced in advance?", "Where did Putin meet Assad?"],
           ["What did Putin and Assad discuss in Sochi?",
            "What did they say about the Syrian constitution?"]],
}
_languages = itertools.cycle(["ar", "en"])

#: (kind, milliseconds) of answered requests; counts of shed and failed ones.
_answered: list[tuple[str, float]] = []
_shed: dict[str, int] = {}
_errors: dict[str, int] = {}
_started = time.monotonic()


def _record(kind: str, status: int, started: float, ok: bool, why: str = "") -> None:
    if status == 503:
        _shed[kind] = _shed.get(kind, 0) + 1
    elif ok:
        _answered.append((kind, (time.perf_counter() - started) * 1000))
    else:
        key = f"{kind}: {status} {why}".strip()
        _errors[key] = _errors.get(key, 0) + 1


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    rank = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))
    return round(ordered[rank], 1)


@events.test_start.add_listener
def _reset(**_) -> None:
    global _started
    _answered.clear()
    _shed.clear()
    _errors.clear()
    _started = time.monotonic()


@events.quitting.add_listener
def _write_summary(environment, **_) -> None:
    path = os.environ.get("KHABAR_LOAD_OUT")
    if not path:
        return
    seconds = time.monotonic() - _started
    times = [ms for _, ms in _answered]
    kinds = sorted({kind for kind, _ in _answered} | set(_shed))
    summary = {
        "seconds": round(seconds, 1), "answered": len(times), "shed_503": sum(_shed.values()),
        "errors": sum(_errors.values()), "error_kinds": _errors,
        "answered_per_s": round(len(times) / seconds, 2) if seconds else 0.0,
        "requests_per_s": round((len(times) + sum(_shed.values()) + sum(_errors.values())) / seconds, 2),
        "p50_ms": _percentile(times, 50), "p95_ms": _percentile(times, 95), "p99_ms": _percentile(times, 99),
        "by_kind": {kind: {"answered": sum(1 for k, _ in _answered if k == kind),
                           "shed_503": _shed.get(kind, 0),
                           "p50_ms": _percentile([ms for k, ms in _answered if k == kind], 50),
                           "p95_ms": _percentile([ms for k, ms in _answered if k == kind], 95)}
                    for kind in kinds},
    }
    with open(path, "w", encoding="utf-8") as out:
        json.dump(summary, out, indent=2, ensure_ascii=False)


class ApiBot(HttpUser):
    """A bot on the HTTP API, one conversation after another."""

    weight = 3
    wait_time = between(1, 3)

    def on_start(self) -> None:
        self.language = next(_languages)

    @task
    def conversation(self) -> None:
        questions = random.choice(CONVERSATIONS[self.language])
        way = random.choice(["ask", "stream", "chat"])
        cid = f"load:{uuid.uuid4().hex[:12]}"
        history: list[dict] = []
        for question in questions:
            if way == "ask":
                answer = self._ask(question, cid)
            elif way == "stream":
                answer = self._stream(question, cid)
            else:
                answer = self._chat(question, history)
            if answer is None:
                return  # shed or failed: a real bot would wait and start again
            history += [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]
            self.wait()
        if way != "chat":
            self.client.delete(f"/api/v1/conversations/{cid}", name="/api/v1/conversations/[id]")

    def _ask(self, question: str, cid: str) -> str | None:
        started = time.perf_counter()
        with self.client.post("/api/v1/ask", json={"question": question, "conversation_id": cid},
                              catch_response=True) as response:
            ok = response.status_code == 200 and bool(response.json().get("answer"))
            _record("ask", response.status_code, started, ok)
            return self._settle(response, ok, lambda: response.json()["answer"])

    def _stream(self, question: str, cid: str) -> str | None:
        started = time.perf_counter()
        # Read whole (no stream=True): the time is that of the full answer, `done` event included.
        with self.client.post("/api/v1/ask/stream", json={"question": question, "conversation_id": cid},
                              catch_response=True) as response:
            final = None
            if response.status_code == 200:
                blocks = [b for b in response.text.split("\r\n\r\n") if "event: answer" in b]
                if blocks:
                    final = json.loads(blocks[0].split("data: ", 1)[1])["answer"]
            ok = final is not None and '"ok": true' in response.text
            _record("stream", response.status_code, started, ok)
            return self._settle(response, ok, lambda: final)

    def _chat(self, question: str, history: list[dict]) -> str | None:
        started = time.perf_counter()
        body = {"model": "khabar", "messages": [*history, {"role": "user", "content": question}]}
        with self.client.post("/v1/chat/completions", json=body, catch_response=True) as response:
            ok = response.status_code == 200 and bool(response.json()["choices"][0]["message"]["content"])
            _record("chat", response.status_code, started, ok)
            return self._settle(response, ok, lambda: response.json()["choices"][0]["message"]["content"])

    @staticmethod
    def _settle(response, ok: bool, answer) -> str | None:
        if response.status_code == 503:
            response.failure("503 (shed by design)")
            return None
        if not ok:
            response.failure(f"{response.status_code}")
            return None
        response.success()
        return answer()


class PageVisitor(HttpUser):
    """A person on the page, through the page's own Gradio endpoint and queue."""

    weight = 1
    wait_time = between(2, 5)

    def on_start(self) -> None:
        self.language = next(_languages)

    @task
    def conversation(self) -> None:
        history: list[dict] = []
        for question in random.choice(CONVERSATIONS[self.language]):
            started = time.perf_counter()
            joined = self.client.post("/gradio_api/call/ask", json={"data": [question, history]},
                                      name="page: join")
            if joined.status_code != 200:
                _record("page", joined.status_code, started, False, "join")
                return
            event_id = joined.json()["event_id"]
            with self.client.get(f"/gradio_api/call/ask/{event_id}", name="page: result",
                                 catch_response=True) as result:
                text = result.text
                ok = result.status_code == 200 and "event: complete" in text
                # The page's excess is shed like the API's, but Gradio's event stream can only say so in
                # an error event: counted as shed, not as an error.
                busy = not ok and "the server is busy" in text
                _record("page", 503 if busy else result.status_code, started, ok, "" if ok else text[:60])
                if busy:
                    result.success()
                    return
                if not ok:
                    result.failure(text[:100])
                    return
                result.success()
            answer = json.loads(text.split("event: complete", 1)[1].split("data: ", 1)[1].splitlines()[0])
            history += [{"role": "user", "content": question},
                        {"role": "assistant", "content": answer[0]["answer"]}]
            self.wait()
