"""The data folder the running app writes to (conversations, feedback, rate limits): checked before use, and
its write failures turned into :class:`StorageError`, so that a read-only or full disk is a clear message at
start-up or on the request that could not be saved, never a silent loss or an internal error."""

from __future__ import annotations

import errno
import logging
import os
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from assistant.errors import StorageError

log = logging.getLogger(__name__)

# SQLite reports a full disk, a read-only file or folder and a failed write with these phrases (its error
# codes are not exposed by the sqlite3 module before Python 3.11's sqlite_errorname, and not for every error).
_STORAGE_PHRASES = ("full", "readonly", "read-only", "unable to open", "disk i/o", "no such file")
_STORAGE_ERRNOS = {errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EPERM, errno.EDQUOT, errno.EFBIG}


def ensure_writable(folder: Path, what: str = "data folder (KHABAR_DATA_DIR)") -> Path:
    """Create ``folder`` if needed and prove a file can be written in it; :class:`StorageError` otherwise.

    Called at start-up, so that a read-only or full folder stops the app with a message instead of losing
    the first conversation or rating that cannot be saved.
    """
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        # A real write of a few KB, not just os.access: root passes access checks on a read-only mount.
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".khabar-write-check-") as probe:
            probe.write(os.urandom(4096))
            probe.flush()
            os.fsync(probe.fileno())
    except OSError as exc:
        log.error("cannot write to %s: %s", folder, exc)
        raise StorageError(f"the {what} is not writable ({os.strerror(exc.errno or 0) or exc}); "
                           "free some space or point the setting at a writable folder") from exc
    return folder


def is_storage_failure(exc: BaseException) -> bool:
    """Whether ``exc`` says the disk refused a write (full, read-only, gone), rather than a bug."""
    if isinstance(exc, sqlite3.OperationalError):
        message = str(exc).lower()
        return any(phrase in message for phrase in _STORAGE_PHRASES)
    return isinstance(exc, OSError) and exc.errno in _STORAGE_ERRNOS


@contextmanager
def _refused(what: str, verb: str, outcome: str) -> Iterator[None]:
    """Turn a storage failure inside the block into :class:`StorageError`: ``the {what} could not be
    {verb}``, then ``outcome``."""
    try:
        yield
    except (sqlite3.OperationalError, OSError) as exc:
        if not is_storage_failure(exc):
            raise
        log.error("the %s could not be %s: %s", what, verb, exc)
        raise StorageError(f"the {what} could not be {verb}: the server's data folder is full or read-only; "
                           f"{outcome}, try again later") from exc


def saving(what: str):
    """Turn a refused write inside the block into :class:`StorageError` naming ``what`` was not saved."""
    return _refused(what, "saved", "nothing was saved")


def reading(what: str):
    """Turn a refused read inside the block into :class:`StorageError`: SQLite in WAL mode needs to write
    its shared-memory index even to read, so a full disk can stop reads too (the data stays on disk)."""
    return _refused(what, "read", "it is kept")
