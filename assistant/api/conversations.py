"""Server-side conversations for the HTTP API: a small SQLite store, bounded in length, expiring when idle.

A conversation belongs to an *owner* (the API key that created it, or ``""`` when the API is open), so that
one bot cannot read or delete another bot's conversations even if it guesses the id.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, Field

from assistant.datafolder import is_storage_failure, reading, saving
from assistant.schemas import Message
from assistant.settings import Settings
from assistant.shared_sqlite import connect

_SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    owner   TEXT NOT NULL,
    id      TEXT NOT NULL,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    PRIMARY KEY (owner, id)
);
CREATE INDEX IF NOT EXISTS conversations_updated ON conversations (updated);
CREATE TABLE IF NOT EXISTS messages (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    owner           TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    role            TEXT NOT NULL,
    content         TEXT NOT NULL,
    at              REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_conversation ON messages (owner, conversation_id, seq);
"""


class StoredMessage(Message):
    """A turn as stored, with the time it was added."""

    at: datetime = Field(description="When the turn was stored (UTC).")


class Conversation(BaseModel):
    """A stored conversation: its turns, oldest first, and when it expires if left idle."""

    id: str
    created_at: datetime
    updated_at: datetime
    expires_at: datetime = Field(description="The conversation is forgotten after this time unless used.")
    messages: list[StoredMessage]

    def history(self) -> list[Message]:
        """The turns as plain messages, ready for :meth:`Assistant.ask`."""
        return [Message(role=m.role, content=m.content) for m in self.messages]


def _utc(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, tz=UTC)


class ConversationStore:
    """Conversations in one SQLite file.

    ``max_turns`` bounds what is kept (a turn is a question and its answer); ``ttl_seconds`` is the idle time
    after which a conversation is deleted. ``clock`` returns epoch seconds; tests pass their own.
    """

    def __init__(self, path: Path, *, max_turns: int, ttl_seconds: int,
                 clock: Callable[[], float] = time.time) -> None:
        self.path = Path(path)
        self.max_messages = max(2, 2 * max_turns)
        self.ttl_seconds = ttl_seconds
        self.clock = clock
        # SQLite serialises writers itself; the lock only keeps this process's read-modify-write sequences
        # (append then trim) from interleaving between threads of the server's pool.
        self._lock = threading.Lock()
        with saving("conversation store"):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._connect() as db:
                db.executescript(_SCHEMA)

    @classmethod
    def from_settings(cls, settings: Settings) -> ConversationStore:
        """The store at ``<runtime_dir>/conversations.sqlite3`` with the configured bounds."""
        return cls(settings.runtime_dir / "conversations.sqlite3", max_turns=settings.max_history_turns,
                   ttl_seconds=settings.conversation_ttl_seconds)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        # One short-lived connection per operation: sqlite3 connections must not be shared across threads.
        db = connect(self.path)
        try:
            with db:  # commits on success, rolls back on error
                yield db
        finally:
            db.close()

    def _purge(self, db: sqlite3.Connection) -> int:
        cutoff = self.clock() - self.ttl_seconds
        gone = db.execute("SELECT owner, id FROM conversations WHERE updated < ?", (cutoff,)).fetchall()
        try:
            for owner, cid in gone:
                db.execute("DELETE FROM messages WHERE owner = ? AND conversation_id = ?", (owner, cid))
            db.execute("DELETE FROM conversations WHERE updated < ?", (cutoff,))
        except sqlite3.OperationalError as exc:
            # On a full or read-only disk, expiry waits: reading a conversation must not fail for it.
            if not is_storage_failure(exc):
                raise
            db.rollback()
            return 0
        return len(gone)

    def get(self, conversation_id: str, owner: str = "") -> Conversation | None:
        """The conversation, or ``None`` if it never existed, was deleted or has expired."""
        with reading("conversation"), self._lock, self._connect() as db:
            self._purge(db)
            row = db.execute("SELECT created, updated FROM conversations WHERE owner = ? AND id = ?",
                             (owner, conversation_id)).fetchone()
            if row is None:
                return None
            rows = db.execute(
                "SELECT role, content, at FROM messages WHERE owner = ? AND conversation_id = ? ORDER BY seq",
                (owner, conversation_id)).fetchall()
        created, updated = row
        return Conversation(
            id=conversation_id, created_at=_utc(created), updated_at=_utc(updated),
            expires_at=_utc(updated + self.ttl_seconds),
            messages=[StoredMessage(role=r, content=c, at=_utc(a)) for r, c, a in rows],
        )

    def history(self, conversation_id: str, owner: str = "") -> list[Message]:
        """The turns of the conversation, or an empty list for a new (or expired) one."""
        conversation = self.get(conversation_id, owner)
        return conversation.history() if conversation else []

    def append(self, conversation_id: str, messages: list[Message], owner: str = "") -> None:
        """Add turns, creating the conversation if needed, and keep only the most recent ``max_turns``."""
        now = self.clock()
        with saving("conversation"), self._lock, self._connect() as db:
            self._purge(db)
            db.execute(
                "INSERT INTO conversations (owner, id, created, updated) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (owner, id) DO UPDATE SET updated = excluded.updated",
                (owner, conversation_id, now, now))
            db.executemany(
                "INSERT INTO messages (owner, conversation_id, role, content, at) VALUES (?, ?, ?, ?, ?)",
                [(owner, conversation_id, m.role, m.content, now) for m in messages])
            db.execute(
                "DELETE FROM messages WHERE owner = ? AND conversation_id = ? AND seq NOT IN ("
                " SELECT seq FROM messages WHERE owner = ? AND conversation_id = ?"
                " ORDER BY seq DESC LIMIT ?)",
                (owner, conversation_id, owner, conversation_id, self.max_messages))

    def delete(self, conversation_id: str, owner: str = "") -> bool:
        """Forget the conversation; ``False`` if there was none."""
        with saving("deletion of the conversation"), self._lock, self._connect() as db:
            self._purge(db)
            deleted = db.execute("DELETE FROM conversations WHERE owner = ? AND id = ?",
                                 (owner, conversation_id)).rowcount
            db.execute("DELETE FROM messages WHERE owner = ? AND conversation_id = ?",
                       (owner, conversation_id))
        return deleted > 0
