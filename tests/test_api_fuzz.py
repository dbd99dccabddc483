"""Hostile input, bounded for CI: the fuzz run of `bench/fuzz.py` (schemathesis over the served OpenAPI
plus hand-made oddities) against the page and the API over the real assistant, with a small budget; and the
answers a few oddities must get, exactly. The full run (over 10,000 requests) is `bench/fuzz.py`."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from api_support import closed_port_url, sibling

from assistant.server import create_app, serve_in_thread
from tests.conftest import load_script

BODY_TIMEOUT = 2.0


fuzz = load_script("bench/fuzz.py", "khabar_bench_fuzz")


@pytest.fixture(scope="module")
def base_url(assistant) -> Iterator[str]:
    served = sibling(assistant, rate_limit_per_minute=0, llm_base_url=closed_port_url(), llm_timeout=5.0,
                     body_timeout_seconds=BODY_TIMEOUT, queue_timeout_seconds=120)
    with serve_in_thread(create_app(served)) as url:
        yield url


def test_bounded_fuzz_run_finds_no_server_error_leak_or_codeless_error(base_url):
    report = fuzz.run(base_url, examples=10, rounds=1, body_timeout=BODY_TIMEOUT)
    summary = report.summary()
    assert report.requests > 250, summary
    assert not report.kinds, json.dumps(summary, indent=2, ensure_ascii=False)
    assert 500 not in report.statuses and 200 in report.statuses and 422 in report.statuses


def _error(status_type_body: tuple[int, str, bytes]) -> tuple[int, str]:
    status, content_type, body = status_type_body
    assert content_type.startswith("application/json"), (status, body[:200])
    return status, json.loads(body)["error"]["code"]


POST = {"Content-Type": b"application/json"}


ODDITIES = [
    ("invalid utf-8", b'{"question": "\xff\xfe"}', (400, "malformed_json")),
    ("deep json", b'{"question": ' + b"[" * 30000 + b"]" * 30000 + b"}", (400, "malformed_json")),
    ("lone surrogate in the question", b'{"question": "\\ud800 why?"}', (422, "invalid_text")),
    ("lone surrogate in history",
     b'{"question": "why?", "history": [{"role": "user", "content": "\\udfff"}]}', (422, "invalid_text")),
    ("only bidi controls", json.dumps({"question": "\u202e\u2066\u200f"}).encode(),
     (422, "invalid_question")),
    ("nul in the conversation id", json.dumps({"question": "q", "conversation_id": "a\x00b"}).encode(),
     (422, "validation_error")),
    ("1 MB", b'{"question": "' + b"q" * 1_000_000 + b'"}', (413, "body_too_large")),
]


@pytest.mark.parametrize(("label", "body", "expected"), ODDITIES, ids=[o[0] for o in ODDITIES])
def test_oddities_get_the_documented_error(base_url, label, body, expected):
    for path in ("/api/v1/ask", "/api/v1/ask/stream"):
        assert _error(fuzz.raw(base_url, fuzz.request_bytes("POST", path, body, POST))) == expected, label


def test_chat_completions_refuse_lone_surrogates_and_unknown_methods_are_json(base_url):
    chat = b'{"model": "khabar", "messages": [{"role": "user", "content": "\\ud83d"}]}'
    assert _error(fuzz.raw(base_url, fuzz.request_bytes("POST", "/v1/chat/completions", chat, POST))) == (
        422, "invalid_text")
    for method in ("TRACE", "PATCH", "PUT"):
        answer = fuzz.raw(base_url, fuzz.request_bytes(method, "/api/v1/articles"))
        assert _error(answer) == (405, "method_not_allowed"), method
        missing = fuzz.raw(base_url, fuzz.request_bytes(method, "/api/v1/nothing-here"))
        assert _error(missing) == (404, "not_found"), method


def test_a_stalled_body_gets_408_and_a_slow_one_is_answered(base_url):
    body = json.dumps({"question": "لماذا لم يعلن عن الزيارة مسبقا؟"}).encode()
    head = fuzz.request_bytes("POST", "/api/v1/ask", b"", POST, content_length=len(body))
    stalled = fuzz.raw(base_url, [(head + body[:10], BODY_TIMEOUT + 1.5)])
    assert _error(stalled) == (408, "request_timeout")
    pieces = [(head, 0.05)] + [(body[i:i + 10], 0.1) for i in range(0, len(body), 10)]
    status, _, answer = fuzz.raw(base_url, pieces)
    assert status == 200 and "لدواع أمنية" in json.loads(answer)["answer"]
