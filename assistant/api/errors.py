"""Every failure becomes a JSON :class:`ErrorResponse` with a request id; nothing internal leaks out."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from assistant.api.schemas import ErrorBody, ErrorResponse, FieldError
from assistant.errors import (
    ArticleError,
    InvalidQuestion,
    KhabarError,
    LLMUnavailable,
    ModelUnavailable,
    Starting,
    StorageError,
    StoreUnavailable,
)

log = logging.getLogger("assistant.api")

#: HTTP status of each KhabarError subclass; other KhabarErrors are server-side problems (500).
KHABAR_STATUS: dict[type[KhabarError], int] = {
    InvalidQuestion: 422, ArticleError: 404, ModelUnavailable: 503, LLMUnavailable: 503, Starting: 503,
    StoreUnavailable: 503, StorageError: 503,
}

#: Seconds a client should wait before retrying after a passing outage (a restarting Chroma server).
STORE_RETRY_AFTER = 5

_HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 406: "not_acceptable", 408: "request_timeout",
               413: "body_too_large", 415: "unsupported_media_type", 429: "rate_limited"}

_DESCRIPTIONS = {
    400: "Malformed JSON body.",
    401: "Missing API key (send `Authorization: Bearer <key>`).",
    403: "Unknown API key.",
    404: "No such resource.",
    413: "Request body larger than the limit (named in `error.limit`).",
    415: "The body is not JSON: send `Content-Type: application/json`.",
    422: "Invalid request: `error.fields` names each invalid field; a question that is too long is "
         "`question_too_long` with `error.limit`.",
    429: "Too many requests for this key (or client); retry after `Retry-After` seconds.",
    500: "Unexpected server error; quote `error.request_id`.",
    503: "Busy (`overloaded`, `generative_busy`: retry after `Retry-After` seconds), still loading "
         "(`starting`, with `Retry-After`), the passage index unreachable (`store_unavailable`, with "
         "`Retry-After`), the data folder unable to save (`storage_unavailable`: nothing was saved), or not "
         "ready (a model or the index is missing).",
}


class ApiError(Exception):
    """An error answer decided by the API itself."""

    def __init__(self, status: int, code: str, message: str, *, limit: int | None = None,
                 fields: list[FieldError] | None = None, headers: dict[str, str] | None = None,
                 type: str | None = None, param: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.limit, self.fields, self.headers = limit, fields, headers
        self.type, self.param = type, param


def request_id(request: Request) -> str | None:
    """The id the request-context middleware gave this request."""
    return request.scope.get("state", {}).get("request_id")


def error_response(request: Request, status: int, code: str, message: str, *, limit: int | None = None,
                   fields: list[FieldError] | None = None, headers: dict[str, str] | None = None,
                   type: str | None = None, param: str | None = None) -> JSONResponse:
    """The JSON error answer, carrying the request id in the body and in `X-Request-ID`."""
    rid = request_id(request)
    body = ErrorResponse(error=ErrorBody(code=code, message=message, request_id=rid, limit=limit,
                                         fields=fields, type=type, param=param))
    all_headers = dict(headers or {})
    if rid:
        all_headers["X-Request-ID"] = rid
    return JSONResponse(body.model_dump(mode="json", exclude_none=True), status_code=status,
                        headers=all_headers)


def error_body(request: Request, code: str, message: str) -> dict[str, Any]:
    """An error as a plain dict, for an `error` event inside a stream that has already started."""
    body = ErrorResponse(error=ErrorBody(code=code, message=message, request_id=request_id(request)))
    return body.model_dump(mode="json", exclude_none=True)


def khabar_status(exc: KhabarError) -> int:
    """The HTTP status for a KhabarError, by the nearest mapped class."""
    for cls in type(exc).__mro__:
        if cls in KHABAR_STATUS:
            return KHABAR_STATUS[cls]
    return 500


#: Why a text with a lone surrogate (JSON's `\ud800` escapes) is refused: no tokenizer, database or JSON
#: encoder downstream accepts it.
UNPAIRED_SURROGATE = "the text contains an unpaired surrogate escape (\\ud800-\\udfff): not valid Unicode"


def _field_name(loc: tuple | list) -> str:
    return ".".join(str(part) for part in loc) or "body"


def install_error_handlers(app: FastAPI, *, max_body_bytes: int) -> None:
    """Register JSON handlers for API errors, Khabar errors, HTTP errors, validation errors and the rest."""

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return error_response(request, exc.status, exc.code, exc.message, limit=exc.limit, fields=exc.fields,
                              headers=exc.headers, type=exc.type, param=exc.param)

    @app.exception_handler(KhabarError)
    async def _khabar_error(request: Request, exc: KhabarError) -> JSONResponse:
        # str(exc) is user-safe by contract (see assistant.errors).
        status = khabar_status(exc)
        fields = None
        if isinstance(exc, InvalidQuestion):
            fields = [FieldError(field="body.question", message=str(exc), type=exc.code)]
        headers = None
        if isinstance(exc, Starting):
            headers = {"Retry-After": str(exc.retry_after)}
        elif isinstance(exc, StoreUnavailable):
            headers = {"Retry-After": str(STORE_RETRY_AFTER)}
        return error_response(request, status, exc.code, str(exc), fields=fields, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            invalid = FieldError(field="body", message="not valid JSON", type="json_invalid")
            return error_response(request, 400, "malformed_json", "the request body is not valid JSON",
                                  fields=[invalid])
        if errors and all(e.get("type") == "string_unicode" for e in errors):
            # A `\ud800` escape: the same answer wherever it is (check_text gives it for history turns).
            fields = [FieldError(field=_field_name(e.get("loc", ())), message=UNPAIRED_SURROGATE,
                                 type="invalid_text") for e in errors]
            return error_response(request, 422, "invalid_text", UNPAIRED_SURROGATE, fields=fields)
        # Pydantic's messages name the constraint but never echo more than the offending value's type.
        fields = [FieldError(field=_field_name(e.get("loc", ())),
                             message=str(e.get("msg", "invalid")).removeprefix("Value error, "),
                             type=str(e.get("type", "invalid"))) for e in errors]
        summary = "; ".join(f"{f.field}: {f.message}" for f in fields[:3])
        more = f" (and {len(fields) - 3} more)" if len(fields) > 3 else ""
        return error_response(request, 422, "validation_error", f"invalid request: {summary}{more}",
                              fields=fields)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        status = exc.status_code
        if status == 413:
            return error_response(request, 413, "body_too_large",
                                  f"the request body is larger than the limit of {max_body_bytes} bytes",
                                  limit=max_body_bytes)
        if status == 400 and exc.detail == "There was an error parsing the body":
            # FastAPI's answer to a JSON body that is not UTF-8 or is nested beyond the parser's depth.
            invalid = FieldError(field="body", message="not parseable JSON", type="json_invalid")
            return error_response(request, 400, "malformed_json",
                                  "the request body could not be read as JSON (not UTF-8, or too deep)",
                                  fields=[invalid])
        message = exc.detail if isinstance(exc.detail, str) else "request refused"
        return error_response(request, status, _HTTP_CODES.get(status, f"http_{status}"), message.lower(),
                              headers=exc.headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # The traceback goes to the server log only, tied to the request id the client receives.
        log.error("unhandled error in %s %s [request_id=%s]", request.method, request.url.path,
                  request_id(request), exc_info=exc)
        return error_response(request, 500, "internal_error",
                              "internal server error; quote the request id when reporting it")


def error_responses(*statuses: int, retry_after: bool = False,
                    by_reference: bool = False) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries documenting the error answers of a route.

    ``by_reference``: name the JSON schema explicitly, for routes whose own response class is not JSON
    (FastAPI would otherwise document their errors under the route's media type).
    """
    out: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        entry: dict[str, Any] = {"description": _DESCRIPTIONS.get(status, "Error.")}
        if by_reference:
            reference = {"$ref": "#/components/schemas/ErrorResponse"}
            entry["content"] = {"application/json": {"schema": reference}}
        else:
            entry["model"] = ErrorResponse
        if status in (429, 503) and retry_after:
            entry["headers"] = {"Retry-After": {"description": "Seconds to wait before retrying.",
                                                "schema": {"type": "integer", "minimum": 1}}}
        out[status] = entry
    return out
