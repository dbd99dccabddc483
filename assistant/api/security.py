"""Who is asking and how often: request ids, bearer API keys and a per-client rate limit.

Over 300 lines on purpose: identity, key fingerprints and the shared SQLite rate limit are one security
boundary, read and reviewed together.
"""

from __future__ import annotations

import contextvars
import hashlib
import hmac
import logging
import math
import re
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import anyio
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import SecretStr
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assistant.api.errors import ApiError, error_response
from assistant.datafolder import is_storage_failure

log = logging.getLogger("assistant.api")

#: The current request's id, for log records made anywhere while serving it (threads copy the context).
REQUEST_ID: contextvars.ContextVar[str] = contextvars.ContextVar("khabar_request_id", default="-")

_CLIENT_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestIdFilter(logging.Filter):
    """Adds ``record.request_id`` so that a log format can show ``%(request_id)s``."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get()
        return True


class RequestContextMiddleware:
    """Gives each HTTP request an id (the client's `X-Request-ID` if well-formed, else a new one), returns it
    in `X-Request-ID`, and logs one line per API request: method, path, status, duration and id. Headers are
    never logged, so API keys never reach the log."""

    def __init__(self, app: ASGIApp, *, log_prefixes: tuple[str, ...] = ("/api/", "/v1/")) -> None:
        self.app = app
        self.log_prefixes = log_prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = scope.get("headers", [])
        incoming = next((v.decode("latin-1") for k, v in headers if k == b"x-request-id"), "")
        rid = incoming if _CLIENT_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = rid
        token = REQUEST_ID.set(rid)
        status = 0
        logged = False
        start = time.perf_counter()
        should_log = scope["path"].startswith(self.log_prefixes)

        def log_request() -> None:
            nonlocal logged
            if should_log and not logged:
                logged = True
                log.info("%s %s -> %s in %.0f ms [request_id=%s]", scope["method"], scope["path"],
                         status or 500, (time.perf_counter() - start) * 1000, rid)

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)["X-Request-ID"] = rid
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                log_request()  # before the last byte leaves, so the line exists once the client has it all
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            log_request()
            REQUEST_ID.reset(token)


class BodyLimitMiddleware:
    """Refuses API request bodies over ``max_bytes`` with a JSON 413 naming the limit, whether the size is
    declared (Content-Length) or only found while reading (chunked), and bodies that take longer than
    ``timeout`` seconds to arrive with a JSON 408 (uvicorn has no such deadline: a client sending a byte now
    and then would hold its connection for ever). The body is read here, at most ``max_bytes`` of it, and
    replayed to the app. (FastAPI's own ``max_body_size`` answers a declared oversize body in plain text,
    which would break the API's error contract.)"""

    def __init__(self, app: ASGIApp, *, max_bytes: int, timeout: float = 30.0,
                 prefixes: tuple[str, ...] = ("/api/", "/v1/")) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.timeout = timeout
        self.prefixes = prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefixes):
            await self.app(scope, receive, send)
            return
        declared = next((v for k, v in scope.get("headers", []) if k == b"content-length"), None)
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        outcome = "complete"
        with anyio.move_on_after(self.timeout) as deadline:
            while True:
                message = await receive()
                if message["type"] != "http.request":  # the client left before sending its body
                    outcome = "left"
                    break
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > self.max_bytes:
                    outcome = "too_large"
                    break
                chunks.append(chunk)
                if not message.get("more_body", False):
                    break
        if deadline.cancelled_caught:
            response = error_response(Request(scope), 408, "request_timeout",
                                      f"the request body did not arrive within {self.timeout:g} s",
                                      limit=math.ceil(self.timeout), headers={"Connection": "close"})
            await response(scope, receive, send)
        elif outcome == "too_large":
            await self._refuse(scope, receive, send)
        elif outcome == "left":
            await self.app(scope, _replay([message], receive), send)
        else:
            body = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            await self.app(scope, _replay([body], receive), send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_response(Request(scope), 413, "body_too_large",
                                  f"the request body is larger than the limit of {self.max_bytes} bytes",
                                  limit=self.max_bytes, headers={"Connection": "close"})
        await response(scope, receive, send)


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """A receive callable giving ``messages`` first, then whatever the client sends (e.g. disconnect)."""
    pending = list(messages)

    async def replayed() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed


# --- API keys ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Client:
    """The caller: ``owner`` scopes conversations, ``bucket`` is the rate-limit key, ``label`` is log-safe;
    ``may_generate`` says whether it may have generative answers."""

    owner: str
    bucket: str
    label: str
    may_generate: bool = True


def key_fingerprint(key: str) -> str:
    """A short, non-reversible name for a key, safe to log and to store."""
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def _secrets(keys: list[SecretStr]) -> list[bytes]:
    return [k.get_secret_value().encode() for k in keys if k.get_secret_value()]


def _matches(candidate: bytes, keys: list[bytes]) -> bool:
    # Compare with every key, without stopping at a match, so timing reveals neither key nor position.
    matched = False
    for key in keys:
        matched |= hmac.compare_digest(candidate, key)
    return matched


class KeyChecker:
    """Bearer-key authentication against the configured keys (none configured: the API is open), and the
    generative permission: ``allow_generative`` for everyone, or only ``generative_keys`` when some are given
    (those keys are valid API keys too; with an open API they single out the clients that may generate)."""

    def __init__(self, keys: list[SecretStr], generative_keys: list[SecretStr] | None = None, *,
                 allow_generative: bool = True) -> None:
        self._keys = _secrets(keys)
        self._generative = _secrets(generative_keys or [])
        self.allow_generative = allow_generative

    @property
    def enabled(self) -> bool:
        """True when keys are configured and therefore required."""
        return bool(self._keys)

    def check(self, presented: str | None, client_host: str) -> Client:
        """The client for ``presented`` (the bearer token), or :class:`ApiError` 401/403."""
        everyone_generates = self.allow_generative and not self._generative
        candidate = presented.encode() if presented else b""
        generative = bool(candidate) and _matches(candidate, self._generative)
        known = bool(candidate) and _matches(candidate, self._keys)
        if generative or (self.enabled and known):
            fingerprint = key_fingerprint(presented)
            return Client(owner=f"key:{fingerprint}", bucket=f"key:{fingerprint}",
                          label=f"key:{fingerprint[:8]}",
                          may_generate=self.allow_generative and (generative or everyone_generates))
        if not self.enabled:  # an open API: a bearer that is no generative key is simply not looked at
            return Client(owner="", bucket=f"ip:{client_host}", label=f"ip:{client_host}",
                          may_generate=everyone_generates)
        if not presented:
            raise ApiError(401, "unauthorized", "an API key is required: send 'Authorization: Bearer <key>'",
                           headers={"WWW-Authenticate": "Bearer"})
        raise ApiError(403, "forbidden", "the API key is not valid")


_bearer = HTTPBearer(auto_error=False, description="One of the keys in KHABAR_API_KEYS (if any are set).")


def authenticate(request: Request,
                 credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> Client:
    """FastAPI dependency: the calling :class:`Client`, or a 401/403 error."""
    checker: KeyChecker = request.app.state.khabar.keys
    host = request.client.host if request.client else "unknown"
    return checker.check(credentials.credentials if credentials else None, host)


# --- rate limit --------------------------------------------------------------------------------------------
_BUCKETS_SCHEMA = """
CREATE TABLE IF NOT EXISTS buckets (
    key     TEXT PRIMARY KEY,
    tokens  REAL NOT NULL,
    updated REAL NOT NULL
)
"""


class TokenBucketLimiter:
    """``per_minute`` requests a minute per bucket key, with bursts of up to ``per_minute``.

    The buckets live in a SQLite file (``path``) so that every worker process of one server (``uvicorn
    --workers N``) draws on the same allowance; ``path=None`` keeps them in this process only. Hand-written
    (a token bucket is a dozen lines) because the rate-limit libraries at hand (``limits``, ``slowapi``)
    share state only through Redis, Memcached or MongoDB, which a one-machine deployment does not run.
    ``per_minute <= 0`` disables the limit. ``clock`` returns epoch seconds (shared across processes).
    """

    #: Above this many in-memory buckets, full (idle) ones are dropped so that memory stays bounded.
    MAX_BUCKETS = 10_000
    #: Every this many hits, buckets idle long enough to be full again are deleted from the file.
    PRUNE_EVERY = 1_000

    def __init__(self, per_minute: int, path: Path | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.per_minute = per_minute
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0  # tokens per second
        self.clock = clock
        self.path = Path(path) if path is not None else None
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, last refill time)
        self._lock = threading.Lock()
        self._local = threading.local()
        self._hits = 0
        if self.path is not None and per_minute > 0:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._connection() as db:
                db.execute("PRAGMA journal_mode=WAL")
                db.execute(_BUCKETS_SCHEMA)

    def _connection(self) -> sqlite3.Connection:
        # One connection per thread of the server's pool (sqlite3 connections must not cross threads).
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=5, isolation_level=None)
            self._local.db = db
        return db

    def _take(self, tokens: float, last: float, now: float) -> tuple[float, float]:
        """(tokens left, seconds to wait): one token taken if there is one."""
        tokens = min(self.capacity, tokens + max(0.0, now - last) * self.rate)
        if tokens >= 1.0:
            return tokens - 1.0, 0.0
        return tokens, (1.0 - tokens) / self.rate

    def hit(self, key: str) -> float:
        """Take one token for ``key``: 0 if allowed, else the seconds until a token is available."""
        if self.per_minute <= 0:
            return 0.0
        if self.path is None:
            return self._hit_in_memory(key)
        try:
            return self._hit_shared(key)
        except sqlite3.OperationalError as exc:
            # A full or read-only data folder must not stop every request: this process's own buckets
            # carry on (per process, so N workers allow up to N times the limit until the disk recovers).
            if not is_storage_failure(exc):
                raise
            log.warning("rate limit store unwritable (%s); limiting in memory", exc)
            return self._hit_in_memory(key)

    def _hit_shared(self, key: str) -> float:
        now = self.clock()
        db = self._connection()
        # BEGIN IMMEDIATE takes the write lock first, so no other process reads the bucket in between.
        db.execute("BEGIN IMMEDIATE")
        try:
            row = db.execute("SELECT tokens, updated FROM buckets WHERE key = ?", (key,)).fetchone()
            tokens, wait = self._take(*(row or (self.capacity, now)), now)
            db.execute("INSERT INTO buckets (key, tokens, updated) VALUES (?, ?, ?) ON CONFLICT (key) "
                       "DO UPDATE SET tokens = excluded.tokens, updated = excluded.updated",
                       (key, tokens, now))
            self._hits += 1
            if self._hits % self.PRUNE_EVERY == 0:
                db.execute("DELETE FROM buckets WHERE updated < ?", (now - 2 * 60.0,))
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:  # SQLite may already have rolled back (a full disk does)
                db.execute("ROLLBACK")
            raise
        return wait

    def _hit_in_memory(self, key: str) -> float:
        with self._lock:
            now = self.clock()
            tokens, wait = self._take(*self._buckets.get(key, (self.capacity, now)), now)
            self._buckets[key] = (tokens, now)
            if len(self._buckets) > self.MAX_BUCKETS:
                self._prune(now)
            return wait

    def _prune(self, now: float) -> None:
        for key, (tokens, last) in list(self._buckets.items()):
            if tokens + (now - last) * self.rate >= self.capacity:
                del self._buckets[key]


def rate_limited(request: Request, client: Annotated[Client, Depends(authenticate)]) -> Client:
    """FastAPI dependency: the authenticated client, or 429 with `Retry-After` if it is over its rate."""
    limiter: TokenBucketLimiter = request.app.state.khabar.limiter
    wait = limiter.hit(client.bucket)
    if wait > 0:
        retry_after = max(1, math.ceil(wait))
        log.info("rate limit hit by %s; retry after %s s", client.label, retry_after)
        raise ApiError(429, "rate_limited",
                       f"too many requests: the limit is {limiter.per_minute} per minute; "
                       f"retry after {retry_after} s",
                       limit=limiter.per_minute, headers={"Retry-After": str(retry_after)})
    return client
