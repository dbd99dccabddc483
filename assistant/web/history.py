"""The page's conversations kept server-side, per browser: one SQLite file in the data folder.

A browser is known by a random id the page keeps in the browser's local storage (``gr.BrowserState``); the
conversations stored under it are listed, reopened and deleted only with that id, so two browsers never see
each other's list. Turns are stored whole (the answer with its citations), so that a reopened conversation
shows its sources exactly as before.

The API's conversation store (:mod:`assistant.api.conversations`) keeps only ``{role, content}`` turns that
expire when idle, which a page that re-renders citations cannot reopen from: hence a store of its own.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import sqlite3
import threading
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from assistant.schemas import Answer
from assistant.web.session import ChatSession, Turn

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS page_conversations (
    browser TEXT NOT NULL,
    id      TEXT NOT NULL,
    title   TEXT NOT NULL,
    turns   TEXT NOT NULL,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    PRIMARY KEY (browser, id)
);
CREATE INDEX IF NOT EXISTS page_conversations_recent ON page_conversations (browser, updated);
"""

#: Conversations kept per browser; the least recently used beyond it are dropped.
MAX_CONVERSATIONS = 100
#: Characters of the first question shown as a conversation's title.
TITLE_CHARS = 80
_ID = re.compile(r"^[0-9a-f]{32}$")


def valid_id(value: object) -> bool:
    """True for an id this page made (32 hex digits): anything else from a browser is ignored."""
    return isinstance(value, str) and bool(_ID.match(value))


def new_id() -> str:
    """A fresh random browser or conversation id."""
    return secrets.token_hex(16)


@dataclass(frozen=True)
class Summary:
    """A stored conversation as the side list shows it."""

    id: str
    title: str
    updated: float


def _turn_json(turn: Turn) -> dict:
    return {"question": turn.question, "error": turn.error,
            "answer": turn.answer.model_dump(mode="json") if turn.answer is not None else None}


def _turn(data: dict) -> Turn:
    answer = data.get("answer")
    return Turn(question=data["question"], error=data.get("error"),
                answer=Answer.model_validate(answer) if answer is not None else None)


def _said(turn: dict) -> tuple:
    answer = turn.get("answer") or {}
    return turn.get("question"), turn.get("error"), answer.get("answer")


def _shared(stored: list[dict], turns: list[dict]) -> int:
    """How many turns ``stored`` and ``turns`` have in common at their start."""
    return next((i for i, (a, b) in enumerate(zip(stored, turns, strict=False)) if _said(a) != _said(b)),
                min(len(stored), len(turns)))


def _continues(stored: list[dict], turns: list[dict]) -> bool:
    """Whether ``turns`` go on from the ``stored`` ones (the same questions and answers first)."""
    return _shared(stored, turns) == len(stored)


@dataclass(frozen=True)
class Fork:
    """A tab's copy of a conversation stored under a new id: the id it came from, and how many turns at
    its start the two share (their ratings are the tab's too)."""

    source: str
    shared: int


class PageHistory:
    """Each browser's conversations in one SQLite file (created on first use)."""

    def __init__(self, path: Path, max_conversations: int = MAX_CONVERSATIONS) -> None:
        self.path = Path(path)
        self.max_conversations = max_conversations
        self._lock = threading.Lock()
        self._ready = False

    def _connect(self) -> sqlite3.Connection:
        # A connection per call: the page's handlers run on several worker threads.
        if not self._ready:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=10)
        if not self._ready:
            conn.executescript(_SCHEMA)
            self._ready = True
        return conn

    def save(self, browser: str, conv: ChatSession) -> Fork | None:
        """Store the finished turns of ``conv`` under ``browser`` (a conversation without any is not kept).

        Two tabs of one browser open the same conversation and each keeps its own copy of the turns. When
        the stored turns are no longer the start of this copy's (the other tab asked meanwhile), this copy
        is stored as a new conversation and ``conv`` takes its id, so that neither tab's turns, nor the
        ratings kept by conversation and turn, overwrite the other's. Returns the :class:`Fork` then."""
        turns = [t for t in conv.turns if t.answer is not None or t.error is not None]
        if not turns:
            return None
        title_turn = next((t for t in turns if t.answer is not None), turns[0])
        title = " ".join(title_turn.question.split())[:TITLE_CHARS]
        now = time.time()
        written = [_turn_json(t) for t in turns]
        data = json.dumps(written, ensure_ascii=False)
        fork = None
        with self._lock, closing(self._connect()) as conn:
            conn.isolation_level = None  # BEGIN IMMEDIATE: read and write as one step across processes
            conn.execute("BEGIN IMMEDIATE")
            try:
                row = conn.execute("SELECT turns FROM page_conversations WHERE browser = ? AND id = ?",
                                   (browser, conv.id)).fetchone()
                stored = json.loads(row[0]) if row is not None else []
                if not _continues(stored, written):
                    fork = Fork(source=conv.id, shared=_shared(stored, written))
                    conv.id = new_id()
                conn.execute(
                    "INSERT INTO page_conversations (browser, id, title, turns, created, updated) "
                    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (browser, id) DO UPDATE SET "
                    "title = excluded.title, turns = excluded.turns, updated = excluded.updated",
                    (browser, conv.id, title, data, now, now))
                conn.execute(
                    "DELETE FROM page_conversations WHERE browser = ? AND id NOT IN ("
                    " SELECT id FROM page_conversations WHERE browser = ? ORDER BY updated DESC LIMIT ?)",
                    (browser, browser, self.max_conversations))
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:  # SQLite may have rolled back already (a full disk)
                    conn.execute("ROLLBACK")
                if fork is not None:
                    conv.id = fork.source
                raise
        if fork is not None:
            log.info("conversation changed in another tab: this tab's turns kept as %s", conv.id)
        return fork

    def load(self, browser: str, conversation_id: str) -> ChatSession | None:
        """The stored conversation, or ``None`` (unknown, deleted, or another browser's)."""
        with self._lock, closing(self._connect()) as conn:
            row = conn.execute("SELECT turns FROM page_conversations WHERE browser = ? AND id = ?",
                               (browser, conversation_id)).fetchone()
        if row is None:
            return None
        turns = [_turn(t) for t in json.loads(row[0])]
        shown = max((i for i, t in enumerate(turns) if t.answer is not None), default=None)
        return ChatSession(id=conversation_id, turns=turns, shown=shown)

    def list(self, browser: str) -> list[Summary]:
        """The browser's conversations, most recent first."""
        with self._lock, closing(self._connect()) as conn:
            rows = conn.execute("SELECT id, title, updated FROM page_conversations WHERE browser = ? "
                                "ORDER BY updated DESC", (browser,)).fetchall()
        return [Summary(*row) for row in rows]

    def delete(self, browser: str, conversation_id: str) -> bool:
        """Forget one of the browser's conversations; ``False`` if it had none with that id."""
        with self._lock, closing(self._connect()) as conn, conn:
            cur = conn.execute("DELETE FROM page_conversations WHERE browser = ? AND id = ?",
                               (browser, conversation_id))
        return cur.rowcount == 1


def page_history(runtime_dir: Path) -> PageHistory:
    """The store at its usual place, ``<runtime_dir>/page_conversations.sqlite3``."""
    return PageHistory(Path(runtime_dir) / "page_conversations.sqlite3")


def browser_secret(runtime_dir: Path) -> str | None:
    """The key that encrypts what the page keeps in browsers' local storage, made once and kept in the data
    folder: Gradio's default (a new key per process) would forget every browser at each restart. ``None``
    (Gradio's per-process key) when the data folder cannot be written."""
    path = Path(runtime_dir) / "page_secret"
    try:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                # O_EXCL: of two workers starting together, one writes and both read the same key.
                with open(path, "x", encoding="utf-8") as out:
                    out.write(secrets.token_hex(32))
                path.chmod(0o600)
            except FileExistsError:
                pass
        return path.read_text(encoding="utf-8").strip() or None
    except OSError as exc:
        log.warning("no lasting key for the page's browser storage (%s): conversations are remembered "
                    "until the server restarts", exc)
        return None
