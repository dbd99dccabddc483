"""The page's Gradio API, called with gradio_client over real HTTP (uvicorn on a free loopback port), and the
page's event wiring as mounted by ``create_app``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError

from assistant.server import create_app, serve_in_thread
from assistant.web.page import ANSWER_CONCURRENCY, ANSWER_POOL

GUARANTORS_EN = "Who are the guarantor states of the Astana talks?"
WHY_AR = "لماذا لم يعلن عن الزيارة مسبقا؟"


@pytest.fixture(scope="module")
def app(assistant):
    return create_app(assistant)


@pytest.fixture(scope="module")
def client(app) -> Iterator[Client]:
    with serve_in_thread(app) as url:
        yield Client(url + "/", verbose=False)


def test_ask_endpoint_returns_the_structured_answer_with_citations(client):
    assert "/ask" in client.view_api(return_format="dict", print_info=False)["named_endpoints"]
    answer = client.predict(question=GUARANTORS_EN, api_name="/ask")
    assert answer["language"] == "en" and answer["mode"] == "extractive"
    assert answer["citations"], "no citations"
    first = answer["citations"][0]
    assert f"[{first['n']}]" in answer["answer"]
    assert "تركيا وروسيا وإيران" in first["text"]  # Turkey, Russia and Iran
    assert first["quote"] in first["text"]
    assert answer["timings"]["total"] > 0


def test_ask_endpoint_in_arabic_and_with_history(client):
    answer = client.predict(question=WHY_AR, api_name="/ask")
    assert answer["language"] == "ar"
    assert any("لدواع أمنية" in c["quote"] for c in answer["citations"])
    history = [{"role": "user", "content": GUARANTORS_EN}, {"role": "assistant", "content": "…"}]
    follow_up = client.predict(question="ومن كان الوسيط الأممي فيها؟", history=history, api_name="/ask")
    assert GUARANTORS_EN in follow_up["search_query"]  # the previous question helps the search


def test_ask_endpoint_refuses_bad_input_with_a_short_message(client, assistant):
    limit = assistant.settings.max_question_chars
    with pytest.raises(AppError, match=f"limit is {limit}"):
        client.predict(question="x" * (limit + 1), api_name="/ask")
    with pytest.raises(AppError, match="history must be a list"):
        client.predict(question="hi", history=[{"role": "bot", "content": "x"}], api_name="/ask")


def test_answering_runs_several_at_once_after_mounting(app):
    """Page and API share a pool of ANSWER_CONCURRENCY (> Gradio's default of 1) on the mounted app."""
    mounted = next(route.app for route in app.routes if hasattr(getattr(route, "app", None), "get_blocks"))
    blocks = mounted.get_blocks()
    answering = [fn for fn in blocks.fns.values() if fn.name in ("respond", "ask")]
    assert len(answering) >= 3  # send/enter, the example chain, the API
    assert ANSWER_CONCURRENCY > 1
    for fn in answering:
        assert fn.concurrency_limit == ANSWER_CONCURRENCY
        assert fn.concurrency_id == ANSWER_POOL
