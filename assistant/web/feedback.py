"""Thumbs up/down with an optional comment, stored for evaluators in SQLite under ``settings.runtime_dir``.

One row per rated answer (conversation id + turn): rating again replaces the rating, a comment is added to the
same row, so the table holds each reader's last word on each answer together with the question, the answer and
its citations as they were shown. The row is always rewritten with the answer being rated, so a rating can
never be paired with another answer's question; a comment survives only while the answer is the same.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from assistant.datafolder import reading, saving
from assistant.schemas import Answer, Citation
from assistant.shared_sqlite import connect

Rating = Literal["up", "down"]
#: The chat's thumbs, as Gradio names them (``gr.Chatbot(feedback_options=…)``): up, down.
FEEDBACK_OPTIONS = ("Like", "Dislike")

#: Longest comment kept; longer ones are cut (a comment is a remark, not an essay).
MAX_COMMENT_CHARS = 2000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id TEXT NOT NULL,
    turn INTEGER NOT NULL,
    rating TEXT,
    comment TEXT,
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    mode TEXT NOT NULL,
    language TEXT NOT NULL,
    citations TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (conversation_id, turn)
)
"""


class FeedbackRecord(BaseModel):
    """One reader's rating of one answer."""

    id: int
    conversation_id: str
    turn: int = Field(description="Position of the answer in its conversation, from 0.")
    rating: Rating | None = Field(description="None when the reader withdrew the rating.")
    comment: str | None
    question: str
    answer: str
    mode: str
    language: str
    citations: list[Citation]
    created_at: str
    updated_at: str


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class FeedbackStore:
    """Ratings and comments in one SQLite file (created on first use)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._ready = False

    def _connect(self) -> sqlite3.Connection:
        # A connection per call: the page's handlers run on several worker threads.
        if not self._ready:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = connect(self.path)
        conn.row_factory = sqlite3.Row
        if not self._ready:
            conn.execute(_SCHEMA)
            self._ready = True
        return conn

    def rate(self, conversation_id: str, turn: int, rating: Rating | None, answer: Answer) -> int:
        """Record (or replace) the rating of ``answer``; returns the row id that a comment attaches to."""
        now = _now()
        citations = json.dumps([c.model_dump(mode="json") for c in answer.citations], ensure_ascii=False)
        with saving("rating"), self._lock, closing(self._connect()) as conn, conn:
            conn.execute(
                """INSERT INTO feedback (conversation_id, turn, rating, comment, question, answer, mode,
                                         language, citations, created_at, updated_at)
                   VALUES (?, ?, ?, NULL, ?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT (conversation_id, turn) DO UPDATE SET rating = excluded.rating,
                       question = excluded.question, answer = excluded.answer, mode = excluded.mode,
                       language = excluded.language, citations = excluded.citations,
                       comment = CASE WHEN feedback.answer = excluded.answer THEN feedback.comment END,
                       updated_at = excluded.updated_at""",
                (conversation_id, turn, rating, answer.question, answer.answer, answer.mode, answer.language,
                 citations, now, now),
            )
            row = conn.execute("SELECT id FROM feedback WHERE conversation_id = ? AND turn = ?",
                               (conversation_id, turn)).fetchone()
        return int(row["id"])

    def comment(self, record_id: int, text: str) -> bool:
        """Attach a comment to a rating; False if there is no such rating or the comment is blank."""
        text = text.strip()[:MAX_COMMENT_CHARS]
        if not text:
            return False
        with saving("comment"), self._lock, closing(self._connect()) as conn, conn:
            cur = conn.execute("UPDATE feedback SET comment = ?, updated_at = ? WHERE id = ?",
                               (text, _now(), record_id))
        return cur.rowcount == 1

    def comment_of(self, record_id: int) -> str | None:
        """The comment stored with a rating, or None."""
        with self._lock, closing(self._connect()) as conn:
            row = conn.execute("SELECT comment FROM feedback WHERE id = ?", (record_id,)).fetchone()
        return row["comment"] if row is not None else None

    def ratings(self, conversation_id: str) -> dict[int, Rating]:
        """The standing rating of each rated turn of one conversation (to show the thumbs as left)."""
        if not self.path.exists():
            return {}
        with self._lock, closing(self._connect()) as conn:
            rows = conn.execute("SELECT turn, rating FROM feedback WHERE conversation_id = ? "
                                "AND rating IS NOT NULL", (conversation_id,)).fetchall()
        return {int(row["turn"]): row["rating"] for row in rows}

    def copy_ratings(self, source: str, target: str, turns: int) -> int:
        """Copy the ratings (and comments) of the first ``turns`` turns of conversation ``source`` to
        ``target``, where no rating is yet: a tab that forked a conversation keeps what it rated. Returns how
        many were copied."""
        if turns <= 0 or not self.path.exists():
            return 0
        with saving("rating"), self._lock, closing(self._connect()) as conn, conn:
            cur = conn.execute(
                """INSERT OR IGNORE INTO feedback (conversation_id, turn, rating, comment, question, answer,
                                                   mode, language, citations, created_at, updated_at)
                   SELECT ?, turn, rating, comment, question, answer, mode, language, citations, created_at,
                          updated_at FROM feedback WHERE conversation_id = ? AND turn < ?""",
                (target, source, turns))
        return cur.rowcount

    def records(self) -> list[FeedbackRecord]:
        """Every stored rating, oldest first."""
        if not self.path.exists():
            return []
        with reading("feedback"), self._lock, closing(self._connect()) as conn:
            rows = conn.execute("SELECT * FROM feedback ORDER BY id").fetchall()
        return [FeedbackRecord(**{**dict(row), "citations": json.loads(row["citations"])}) for row in rows]


def feedback_store(runtime_dir: Path) -> FeedbackStore:
    """The store at its usual place, ``<runtime_dir>/feedback.sqlite3``."""
    return FeedbackStore(Path(runtime_dir) / "feedback.sqlite3")
