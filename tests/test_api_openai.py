"""The OpenAI-compatible routes as bot frameworks use them: the real `openai` client against a real server
(uvicorn on loopback, the real assistant): token usage, the usage chunk of a stream, unknown models, and
bodies that are not JSON."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import openai
import pytest
from api_support import closed_port_url, error_of, sibling

from assistant.api import create_api
from assistant.server import PAGE_FOOTER_LINKS, create_app, serve_in_thread

WHY_SECRET = "لماذا لم يعلن عن الزيارة مسبقا؟"
GUARANTORS_AR = "ما هي الدول الضامنة لمحادثات استانا؟"
WHO_WAS_ABSENT = "ومن غاب عنها؟"
GUARANTORS_EN = "Which countries are the guarantor states of the Astana talks?"


@pytest.fixture(scope="module")
def base_url(assistant) -> Iterator[str]:
    served = sibling(assistant, rate_limit_per_minute=0, llm_base_url=closed_port_url(), llm_timeout=10.0)
    with serve_in_thread(create_api(served)) as url:
        yield url


@pytest.fixture(scope="module")
def client(base_url) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{base_url}/v1", api_key="unused", max_retries=0, timeout=300)


def test_usage_counts_the_conversation_and_the_answer_with_the_embedders_tokenizer(client, assistant):
    completion = client.chat.completions.create(
        model="khabar", messages=[{"role": "user", "content": WHY_SECRET}])
    answer = completion.choices[0].message.content
    assert "لدواع أمنية" in answer
    usage = completion.usage
    assert usage is not None
    count = assistant.embedder.count_tokens
    assert usage.prompt_tokens == count(WHY_SECRET) > 0
    assert usage.completion_tokens == count(answer) > usage.prompt_tokens  # a quote outgrows the question
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens


def test_usage_counts_the_history_turns_too(client, assistant):
    first = client.chat.completions.create(model="khabar",
                                           messages=[{"role": "user", "content": GUARANTORS_AR}])
    earlier = first.choices[0].message.content
    follow = client.chat.completions.create(model="khabar-extractive", messages=[
        {"role": "system", "content": "Answer briefly."},  # not used by Khabar, so not counted
        {"role": "user", "content": GUARANTORS_AR},
        {"role": "assistant", "content": earlier},
        {"role": "user", "content": WHO_WAS_ABSENT}])
    assert "الولايات المتحدة" in follow.choices[0].message.content
    count = assistant.embedder.count_tokens
    assert follow.usage.prompt_tokens == count(GUARANTORS_AR) + count(earlier) + count(WHO_WAS_ABSENT)
    assert follow.usage.completion_tokens == count(follow.choices[0].message.content)


def test_streamed_usage_chunk_comes_last_with_empty_choices(client):
    plain = client.chat.completions.create(model="khabar",
                                           messages=[{"role": "user", "content": GUARANTORS_EN}])
    chunks = list(client.chat.completions.create(
        model="khabar", stream=True, stream_options={"include_usage": True},
        messages=[{"role": "user", "content": GUARANTORS_EN}]))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == plain.choices[0].message.content
    last = chunks[-1]
    assert last.choices == [] and last.usage is not None
    assert last.usage.model_dump() == plain.usage.model_dump()
    assert all(c.usage is None for c in chunks[:-1])
    assert [c.choices[0].finish_reason for c in chunks[:-1]][-1] == "stop"

    # Without the option there is no usage chunk, as with OpenAI.
    bare = list(client.chat.completions.create(model="khabar", stream=True,
                                               messages=[{"role": "user", "content": GUARANTORS_EN}]))
    assert all(c.choices and c.usage is None for c in bare)


def test_unknown_model_is_openais_404_model_not_found(client, base_url):
    with pytest.raises(openai.NotFoundError) as raised:
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": WHY_SECRET}])
    assert raised.value.code == "model_not_found"
    assert raised.value.param == "model" and raised.value.type == "invalid_request_error"
    assert "gpt-4o" in raised.value.message
    with pytest.raises(openai.NotFoundError) as streamed:  # refused before any stream starts
        client.chat.completions.create(model="gpt-4o", stream=True,
                                       messages=[{"role": "user", "content": WHY_SECRET}])
    assert streamed.value.code == "model_not_found"
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("gpt-4o")

    listed = [m.id for m in client.models.list()]
    assert listed == ["khabar", "khabar-extractive", "khabar-generative"]
    assert client.models.retrieve("khabar-extractive").id == "khabar-extractive"
    # Every listed model answers.
    for name in listed:
        if name != "khabar-generative":  # the model server is down here: covered by the fallback tests
            reply = client.chat.completions.create(model=name,
                                                   messages=[{"role": "user", "content": WHY_SECRET}])
            assert "لدواع أمنية" in reply.choices[0].message.content
    raw = httpx.post(f"{base_url}/v1/chat/completions", timeout=60,
                     json={"model": "gpt-4o", "messages": [{"role": "user", "content": WHY_SECRET}]})
    assert raw.status_code == 404 and error_of(raw)["code"] == "model_not_found"


@pytest.mark.parametrize("path", ["/api/v1/ask", "/api/v1/ask/stream", "/v1/chat/completions"])
@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x", "application/xml"])
def test_a_body_that_is_not_declared_json_is_415(base_url, path, content_type):
    body = json.dumps({"question": WHY_SECRET, "model": "khabar",
                       "messages": [{"role": "user", "content": WHY_SECRET}]}).encode()
    response = httpx.post(f"{base_url}{path}", content=body, headers={"Content-Type": content_type},
                          timeout=60)
    assert response.status_code == 415
    error = error_of(response)
    assert error["code"] == "unsupported_media_type" and "application/json" in error["message"]


def test_json_media_types_are_accepted(base_url):
    for content_type in ("application/json", "application/json; charset=utf-8", "application/vnd.api+json"):
        response = httpx.post(f"{base_url}/api/v1/ask", json=None, content=f'{{"question": "{WHY_SECRET}"}}',
                              headers={"Content-Type": content_type}, timeout=60)
        assert response.status_code == 200, (content_type, response.text)


def test_the_page_footer_does_not_offer_gradios_api_page(assistant):
    served = sibling(assistant, rate_limit_per_minute=0)
    with serve_in_thread(create_app(served)) as url, httpx.Client(base_url=url, timeout=300) as c:
        config = c.get("/config")
        assert config.status_code == 200
        links = config.json()["footer_links"]
        assert links == PAGE_FOOTER_LINKS and "api" not in links
        # The API's own documentation is where the README says.
        assert c.get("/docs").status_code == 200
        assert "/api/v1/ask" in c.get("/openapi.json").json()["paths"]
