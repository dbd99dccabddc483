"""SQLite files shared by every process of one deployment (``uvicorn --workers N``): conversations, feedback.

Each connection waits for a lock instead of failing at once (``timeout``: SQLite's busy timeout), and the
file is put in write-ahead-log mode so that readers in one worker never wait for a writer in another. WAL
needs the processes on one machine (shared memory), which is what a ``--workers`` deployment is; a data
folder on a network file system is not supported.
"""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

#: Seconds a connection waits for another process's lock before raising ``database is locked``.
BUSY_TIMEOUT = 10.0


def connect(path: Path, *, timeout: float = BUSY_TIMEOUT) -> sqlite3.Connection:
    """A connection to ``path`` with a busy timeout, the file in WAL mode."""
    db = sqlite3.connect(path, timeout=timeout)
    # Switching to WAL needs a moment alone with the file; if another process holds it, that process has
    # (or will) set WAL itself, and the rollback journal is safe across processes meanwhile.
    with contextlib.suppress(sqlite3.OperationalError):
        db.execute("PRAGMA journal_mode=WAL")
    return db
