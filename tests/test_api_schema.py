"""The OpenAPI contract: the served document is complete, and a bounded schemathesis run against the live
server (real assistant, real HTTP) finds no server error and no response that breaks the document."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from assistant import Assistant
from assistant.api import create_api
from assistant.server import serve_in_thread


def _closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}/v1"


@pytest.fixture(scope="module")
def served_url(assistant) -> Iterator[str]:
    """The API-only app over the real assistant; the model server is 'down' so generative mode falls back
    at once instead of starting a local model."""
    settings_ = assistant.settings.model_copy(update=dict(
        rate_limit_per_minute=0, llm_base_url=_closed_port_url(), llm_timeout=5.0))
    served = Assistant(settings_, embedder=assistant.embedder, store=assistant.store, ingest_corpus=False)
    with serve_in_thread(create_api(served)) as url:
        yield url


@pytest.fixture(scope="module")
def api_schema(served_url):
    """The OpenAPI document as the server serves it."""
    return schemathesis.openapi.from_url(f"{served_url}/openapi.json")


def test_every_operation_documents_its_errors(served_url):
    document = httpx.get(f"{served_url}/openapi.json", timeout=60).json()
    schemas = document["components"]["schemas"]
    assert {"AskRequest", "AskResponse", "ErrorResponse", "Citation",
            "ConversationResponse"} <= schemas.keys()
    assert schemas["AskRequest"]["properties"]["question"]["maxLength"] == 2000  # the configured limit
    operations = [(path, method, operation) for path, item in document["paths"].items()
                  for method, operation in item.items()]
    assert len(operations) >= 10
    for path, method, operation in operations:
        responses = operation["responses"]
        assert "500" in responses, (method, path)
        for status, response in responses.items():
            if status == "204":
                continue
            assert response.get("content"), (method, path, status)  # every answer has a documented body
            if status.startswith(("4", "5")) and not path.endswith("/ready"):
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorResponse"}, (method, path, status)
        if "security" in operation:  # guarded routes document the key errors and the rate limit
            assert {"401", "403", "429"} <= responses.keys(), (method, path)
            assert "Retry-After" in responses["429"]["headers"]
    ask = document["paths"]["/api/v1/ask"]["post"]["responses"]
    assert {"200", "400", "413", "422", "429"} <= ask.keys()
    stream = document["paths"]["/api/v1/ask/stream"]["post"]["responses"]["200"]["content"]
    assert list(stream) == ["text/event-stream"]


#: No server error, and every answer's status, media type, headers and body as documented.
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_api_conforms_to_its_openapi_document(api_schema, mode):
    # One hypothesis run per operation, driven by hand: schemathesis' lazy pytest loader (needed because
    # the server only exists once the session fixtures do) does not work with this pytest version.
    failures: list[str] = []
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 10
    for operation in operations:
        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=8, deadline=None, derandomize=True, database=None,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        def conforms(case) -> None:
            case.call_and_validate(checks=CHECKS, timeout=300)

        try:
            conforms()
        except Unsatisfiable:  # negative mode: an operation without parameters has no invalid input
            assert mode == GenerationMode.NEGATIVE, operation.label
        except Exception as exc:  # collect every operation's failure, not only the first
            failures.append(f"{operation.label}: {exc}")
    assert not failures, "\n\n".join(failures)
