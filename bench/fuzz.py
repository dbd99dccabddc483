"""Hostile input at volume against a real server: schemathesis over the served OpenAPI document (valid and
invalid requests for every operation) plus hand-made oddities (invalid UTF-8, huge headers, deep JSON, NUL
bytes, bidi controls, lone surrogates, 1 MB bodies, slow and stalled clients, malformed HTTP).

Every answer is checked: no 5xx, no stack trace or internal path, every JSON error with a `code`, and
schemathesis' conformance checks (status, media type, headers, body as documented). The bounded run is
`tests/test_api_fuzz.py`; the full run is this command:

    .venv/bin/python bench/fuzz.py                        # over 10,000 requests; starts its own server
    .venv/bin/python bench/fuzz.py --examples 20 --rounds 2 --json artifacts/fuzz.json

It starts the page and the API (``assistant.server.create_app``) over the real assistant on a temporary
index, with no rate limit and the generative model server 'down' (so that `mode: generative` falls back at
once instead of running the local model for every generated case).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import socket
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx

#: What no answer may contain: a stack trace, a server path, a source file name.
LEAKS = ("Traceback", "/work/", "/srv/", "/home/", 'File "', ".py\"", ".py'", ".py:", "site-packages")


@dataclass
class Report:
    """What was sent and what came back."""

    requests: int = 0
    statuses: Counter = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    kinds: Counter = field(default_factory=Counter)

    def problem(self, text: str) -> None:
        """Record a failure (kept to the first 200 in full)."""
        if len(self.problems) < 200:
            self.problems.append(text[:500])
        self.kinds[text.split(":", 1)[0]] += 1

    def check(self, label: str, status: int, content_type: str, body: bytes, path: str = "") -> None:
        """Count one answer and record what is wrong with it."""
        self.requests += 1
        self.statuses[status] += 1
        if status >= 500 and not (status == 503 and path.endswith("/ready")):
            self.problem(f"5xx: {label} -> {status} {body[:200]!r}")
        text = body.decode("utf-8", "replace")
        for leak in LEAKS:
            if leak in text:
                self.problem(f"leak: {label} -> {status} contains {leak!r}")
        if status >= 400 and content_type.startswith("application/json") and not path.endswith("/ready"):
            try:
                code = json.loads(body)["error"]["code"]
            except (ValueError, KeyError, TypeError):
                code = None
            if not code:
                self.problem(f"no code: {label} -> {status} {body[:200]!r}")

    def summary(self) -> dict:
        """A JSON-able summary."""
        return {"requests": self.requests, "statuses": dict(sorted(self.statuses.items())),
                "problems": sum(self.kinds.values()),
                "problem_kinds": dict(self.kinds), "first_problems": self.problems[:20]}


# --- raw HTTP: what httpx refuses to send -------------------------------------------------------------------
def raw(base_url: str, payload: bytes | list[tuple[bytes, float]], timeout: float = 60.0
        ) -> tuple[int, str, bytes]:
    """Send ``payload`` (or pieces with a pause after each) on a new connection; (status, type, body).
    A connection closed without an answer is status 0."""
    parts = urlsplit(base_url)
    with socket.create_connection((parts.hostname, parts.port), timeout=timeout) as sock:
        try:
            for piece, pause in (payload if isinstance(payload, list) else [(payload, 0.0)]):
                sock.sendall(piece)
                if pause:
                    time.sleep(pause)
        except OSError:  # the server may close early (e.g. on a 413); its answer is still to be read
            pass
        response = http.client.HTTPResponse(sock)
        try:
            response.begin()
            body = response.read()
        except (http.client.HTTPException, OSError):
            return 0, "", b""
        return response.status, response.getheader("content-type", ""), body


def request_bytes(method: str, path: str, body: bytes = b"", headers: dict[str, bytes] | None = None,
                  content_length: int | None = None) -> bytes:
    """An HTTP/1.1 request as bytes, exactly as given (nothing validated or encoded)."""
    lines = [f"{method} ".encode() + path.encode("latin-1", "surrogateescape") + b" HTTP/1.1",
             b"Host: fuzz", b"Connection: close"]
    for name, value in (headers or {}).items():
        lines.append(name.encode() + b": " + value)
    if body or content_length is not None:
        length = len(body) if content_length is None else content_length
        lines.append(b"Content-Length: " + str(length).encode())
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


JSON = {"Content-Type": b"application/json"}
ASK = "/api/v1/ask"
STREAM = "/api/v1/ask/stream"
CHAT = "/v1/chat/completions"
QUESTION = "لماذا لم يعلن عن الزيارة مسبقا؟"


def _chat(content: object) -> bytes:
    return json.dumps({"model": "khabar", "messages": [{"role": "user", "content": content}]}).encode()


def oddities(body_timeout: float) -> list[tuple[str, str, Callable[[str], tuple[int, str, bytes]]]]:
    """(label, path, send) for each hand-made request; ``send(base_url)`` returns (status, type, body)."""
    out: list[tuple[str, str, Callable[[str], tuple[int, str, bytes]]]] = []

    def add(label: str, path: str, payload: bytes | list[tuple[bytes, float]]) -> None:
        out.append((label, path, lambda url, p=payload: raw(url, p)))

    def post(label: str, path: str, body: bytes, headers: dict[str, bytes] | None = None) -> None:
        add(label, path, request_bytes("POST", path, body, {**JSON, **(headers or {})}))

    for path in (ASK, STREAM):
        post("invalid utf-8", path, b'{"question": "\xff\xfe\xc3\x28 \xed\xa0\x80"}')
        post("nul in question", path, json.dumps({"question": f"abc\x00{QUESTION}\x00"}).encode())
        post("only nul", path, b'{"question": "\\u0000\\u0000"}')
        post("bidi controls", path, json.dumps({"question": f"\u202e\u2066{QUESTION}\u2069\u202c"}).encode())
        post("only bidi", path, json.dumps({"question": "\u202e\u2066\u200f\u2069"}).encode())
        post("lone surrogate", path, b'{"question": "\\ud800 Who met Putin?"}')
        post("lone surrogate id", path, b'{"question": "Who met Putin?", "conversation_id": "a\\udc00b"}')
        post("surrogate history", path,
             b'{"question": "Who met Putin?", "history": [{"role": "user", "content": "\\udfff"}]}')
        post("bidi conversation id", path,
             json.dumps({"question": QUESTION, "conversation_id": "x\u202ey"}).encode())
        post("nul conversation id", path,
             json.dumps({"question": QUESTION, "conversation_id": "x\x00y"}).encode())
        post("deep array", path, b'{"question": ' + b"[" * 30000 + b"]" * 30000 + b"}")
        post("deep object", path,
             b'{"question": "q", "history": ' + b'{"a":' * 9000 + b"1" + b"}" * 9000 + b"}")
        post("huge number", path, b'{"question": "q", "history": 1e999999}')
        post("nan", path, b'{"question": NaN}')
        post("duplicate keys", path, b'{"question": "a", "question": "' + QUESTION.encode() + b'"}')
        post("wrong type", path, b'{"question": ["a", {"b": null}]}')
        for body in (b"", b"null", b"[]", b'""', b"0", b"{", b"\x00\x00\x00\x00", b"\xef\xbb\xbf{}"):
            post(f"body {body[:8]!r}", path, body)
        post("utf-16 body", path, json.dumps({"question": QUESTION}).encode("utf-16"),
             {"Content-Type": b"application/json; charset=utf-16"})
        post("1 MB declared", path, b'{"question": "' + b"q" * 1_000_000 + b'"}')
        chunked = (b"POST " + path.encode() + b" HTTP/1.1\r\nHost: fuzz\r\nConnection: close\r\n"
                   b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                   + b"".join(b"%x\r\n" % 65536 + b"q" * 65536 + b"\r\n" for _ in range(16)) + b"0\r\n\r\n")
        add("1 MB chunked", path, chunked)
        post("1 MB text/plain", path, b"q" * 1_000_000, {"Content-Type": b"text/plain"})
        post("xml", path, b"<question>q</question>", {"Content-Type": b"application/xml"})
        post("content-type with nul", path, b'{"question": "q"}', {"Content-Type": b"application/json\x00"})
    post("chat image part", CHAT, _chat([{"type": "image_url", "image_url": {"url": "data:,"}}]))
    post("chat nul", CHAT, _chat("\x00"))
    post("chat bidi", CHAT, _chat("\u202e" + QUESTION))
    post("chat surrogate", CHAT, b'{"model": "khabar", "messages": [{"role": "user", "content": "\\ud83d"}]}')
    post("chat long model", CHAT, json.dumps({"model": "m" * 20000, "messages": []}).encode())
    post("chat stream string", CHAT, json.dumps({"model": "khabar", "stream": "yes",
                                                 "messages": [{"role": "user", "content": "q"}]}).encode())
    post("chat 1 MB", CHAT, _chat("q" * 1_000_000))
    post("chat invalid utf-8", CHAT,
         b'{"model": "khabar", "messages": [{"role": "user", "content": "\xff"}]}')

    # Headers and the request line.
    get = "/api/v1/articles"
    conv = "/api/v1/conversations/"
    add("invalid utf-8 path", conv, request_bytes("GET", conv + "\udcff\udcfe"))
    add("nul in path", conv, request_bytes("GET", conv + "a%00b"))
    add("bidi in path", conv, request_bytes("GET", conv + "a%E2%80%AEb"))
    add("surrogate in path", conv, request_bytes("GET", conv + "%ED%A0%80"))
    add("long path", conv, request_bytes("GET", conv + "a" * 60000))
    add("dot segments", get, request_bytes("GET", "/api/v1/../../../etc/passwd"))
    add("encoded dots", get, request_bytes("GET", "/api/v1/articles/%2e%2e%2f%2e%2e%2fsettings.py"))
    add("many query params", get, request_bytes("GET", get + "?" + "&".join(f"p{i}=1" for i in range(3000))))
    add("huge header", get, request_bytes("GET", get, headers={"X-Big": b"a" * 100_000}))
    add("many headers", get, request_bytes("GET", get, headers={f"X-H{i}": b"v" * 50 for i in range(600)}))
    add("nul header", get, request_bytes("GET", get, headers={"X-Request-ID": b"abc\x00def"}))
    add("invalid utf-8 header", get, request_bytes("GET", get, headers={"Authorization": b"Bearer \xff\xfe"}))
    add("long request id", get, request_bytes("GET", get, headers={"X-Request-ID": b"r" * 20000}))
    add("bidi request id", get,
        request_bytes("GET", get, headers={"X-Request-ID": "abc\u202edefgh".encode()}))
    add("long bearer", get, request_bytes("GET", get, headers={"Authorization": b"Bearer " + b"k" * 30000}))
    add("empty bearer", get, request_bytes("GET", get, headers={"Authorization": b"Bearer "}))
    add("garbage request line", get, b"\x00\xff GARBAGE\r\n\r\n")
    add("http/0.9", get, b"GET /api/v1/health\r\n\r\n")
    add("unknown method", get, request_bytes("FOO", get))
    add("trace", get, request_bytes("TRACE", get))
    add("get with body", "/api/v1/health", request_bytes("GET", "/api/v1/health", b"x" * 2_000_000))
    add("negative length", ASK, request_bytes("POST", ASK, b"{}", JSON, content_length=-5))
    add("length mismatch", ASK, request_bytes("POST", ASK, b'{"question": "q"}', JSON, content_length=10))
    add("both length and chunked", ASK,
        b"POST /api/v1/ask HTTP/1.1\r\nHost: fuzz\r\nConnection: close\r\nContent-Type: application/json\r\n"
        b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"q\":\r\n0\r\n\r\n")

    # Slow clients: a body trickling in but finishing in time is answered; a stalled one gets 408.
    body = json.dumps({"question": QUESTION}).encode()
    head = request_bytes("POST", ASK, b"", JSON, content_length=len(body))
    steps = 6
    chunk = max(1, len(body) // steps)
    pieces = [(head, 0.05)] + [(body[i:i + chunk], body_timeout / (steps * 4))
                               for i in range(0, len(body), chunk)]
    add("slow body", ASK, pieces)
    add("stalled body", ASK, [(head + body[:10], body_timeout + 1.5)])
    return out


def run_oddities(report: Report, base_url: str, body_timeout: float, rounds: int = 1) -> None:
    """Send every oddity ``rounds`` times; the slow ones run side by side with a normal question, which
    must still be answered."""
    for _ in range(rounds):
        for label, path, send in oddities(body_timeout):
            try:
                status, content_type, body = send(base_url)
            except OSError as exc:
                report.problem(f"transport: {label}: {exc}")
                continue
            if status == 0:
                report.problem(f"no answer: {label}: the connection closed without a response")
                continue
            report.check(label, status, content_type, body, path)
            if label == "slow body" and status != 200:
                report.problem(f"slow body: a slow but timely body got {status}")
            if label == "stalled body" and status != 408:
                report.problem(f"stalled body: a stalled body got {status}, not 408")


def run_slowloris(report: Report, base_url: str, connections: int = 30) -> None:
    """Many connections sending headers a byte at a time must not stop the server answering others."""
    stop = threading.Event()
    parts = urlsplit(base_url)

    def trickle() -> None:
        try:
            with socket.create_connection((parts.hostname, parts.port), timeout=5) as sock:
                for byte in b"GET /api/v1/health HTTP/1.1\r\nHost: fuzz\r\nX-Slow: ":
                    if stop.is_set():
                        return
                    sock.sendall(bytes([byte]))
                    time.sleep(0.05)
                while not stop.wait(0.2):
                    sock.sendall(b"a")
        except OSError:
            pass

    threads = [threading.Thread(target=trickle, daemon=True) for _ in range(connections)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(1.0)
        start = time.monotonic()
        response = httpx.post(f"{base_url}{ASK}", json={"question": QUESTION}, timeout=60)
        report.check("question among slow clients", response.status_code,
                     response.headers.get("content-type", ""), response.content, ASK)
        if response.status_code != 200 or time.monotonic() - start > 30:
            report.problem("slowloris: a normal question was not answered promptly among slow clients")
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=10)


# --- schemathesis -------------------------------------------------------------------------------------------
def run_schema(report: Report, base_url: str, examples: int, seed: int | None = None) -> None:
    """Generated valid and invalid requests for every operation of the served OpenAPI document."""
    import schemathesis
    from hypothesis.errors import Unsatisfiable
    from schemathesis import GenerationMode
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_headers_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    checks = [not_a_server_error, status_code_conformance, content_type_conformance,
              response_headers_conformance, response_schema_conformance]
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            with contextlib.suppress(Unsatisfiable):  # an operation without parameters has no invalid input
                _fuzz_operation(report, base_url, operation, mode, examples, seed, checks)


def _fuzz_operation(report: Report, base_url: str, operation, mode, examples: int, seed: int | None,
                    checks: list) -> None:
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as with_seed

    label = f"{operation.label} [{mode.value}]"

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=examples, deadline=None, database=None, derandomize=seed is None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    def send(case) -> None:
        try:
            response = case.call(base_url=base_url, timeout=120)
        except Exception as exc:  # a timeout or a dropped connection is a finding, not a crash
            report.problem(f"transport: {label}: {type(exc).__name__}")
            return
        content_type = response.headers.get("content-type") or [""]
        report.check(label, response.status_code,
                     content_type[0] if isinstance(content_type, list) else content_type,
                     response.content, case.path)
        try:
            case.validate_response(response, checks=checks)
        except Exception as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
            report.problem(f"nonconforming: {label}: {first}")

    if seed is not None:
        send = with_seed(seed)(send)
    send()


def run(base_url: str, *, examples: int, rounds: int, body_timeout: float, slowloris: bool = True,
        min_requests: int = 0) -> Report:
    """The whole fuzz run against ``base_url``: one deterministic schemathesis pass, then passes with other
    seeds until ``min_requests`` generated requests were sent (small operations run out of distinct cases
    long before large ones), then the oddities."""
    report = Report()
    run_schema(report, base_url, examples)
    seed = 1
    while report.requests < min_requests:
        run_schema(report, base_url, examples, seed=seed)
        seed += 1
    run_oddities(report, base_url, body_timeout, rounds)
    if slowloris:
        run_slowloris(report, base_url)
    # The server must still answer normally afterwards.
    after = httpx.post(f"{base_url}{ASK}", json={"question": QUESTION}, timeout=120)
    report.check("after the run", after.status_code, after.headers.get("content-type", ""), after.content,
                 ASK)
    if after.status_code != 200:
        report.problem(f"after: the server no longer answers ({after.status_code})")
    return report


def _serve(body_timeout: float):
    """Start the page and the API over the real assistant on a temporary index; a context manager."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from assistant import Assistant, Settings
    from assistant.server import create_app, serve_in_thread
    from assistant.settings import PROJECT_ROOT

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}/v1"
    root = Path(tempfile.mkdtemp(prefix="khabar-fuzz-"))
    settings = Settings(_env_file=None, index_dir=root / "index", data_dir=root / "data",
                        models_dir=PROJECT_ROOT / "models", rate_limit_per_minute=0, llm_base_url=closed,
                        llm_timeout=5.0, body_timeout_seconds=body_timeout, queue_timeout_seconds=120)
    return serve_in_thread(create_app(Assistant(settings)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--url", help="fuzz this server instead of starting one")
    parser.add_argument("--examples", type=int, default=200,
                        help="schemathesis cases per operation and mode, per pass")
    parser.add_argument("--requests", type=int, default=10_000,
                        help="schemathesis passes (new seeds) continue until this many requests were sent")
    parser.add_argument("--rounds", type=int, default=3, help="times each hand-made oddity is sent")
    parser.add_argument("--body-timeout", type=float, default=3.0,
                        help="KHABAR_BODY_TIMEOUT_SECONDS of the started server (and what --url has)")
    parser.add_argument("--json", type=Path, help="write the summary here too")
    args = parser.parse_args()
    start = time.monotonic()
    if args.url:
        report = run(args.url.rstrip("/"), examples=args.examples, rounds=args.rounds,
                     body_timeout=args.body_timeout, min_requests=args.requests)
    else:
        with _serve(args.body_timeout) as url:
            report = run(url, examples=args.examples, rounds=args.rounds, body_timeout=args.body_timeout,
                         min_requests=args.requests)
    summary = {**report.summary(), "seconds": round(time.monotonic() - start, 1),
               "examples_per_operation_mode_and_pass": args.examples, "oddity_rounds": args.rounds}
    text = json.dumps(summary, indent=2, ensure_ascii=False)
    print(text)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(text, encoding="utf-8")
    return 0 if not report.kinds else 1


if __name__ == "__main__":
    sys.exit(main())
