"""Fewer C allocator arenas, so that a long-running server's resident memory stays flat.

glibc gives threads their own malloc arenas, up to 8 per core, and each grows towards its own high-water
mark: under load the server's worker threads spread native allocations (ONNX Runtime, SQLite, Chroma,
Python's large objects) over many arenas, and resident memory crept up about 1 MB a minute in a soak; with
two arenas it grew a quarter of that at the same answer rate (bench/README.md, "The soak found memory
growth"). ``MALLOC_ARENA_MAX`` does the same but must be in the environment before the process starts,
which ``make run`` and ``uvicorn`` users would have to remember; ``mallopt`` applies it from inside, to the
arenas made after the call, so it is called before the server starts its threads.
"""

from __future__ import annotations

import ctypes
import logging
import os
import sys

log = logging.getLogger(__name__)

#: glibc's ``M_ARENA_MAX`` parameter of ``mallopt`` (malloc.h).
M_ARENA_MAX = -8
#: Arenas kept: the main one and one for all other threads.
ARENAS = 2


def limit_malloc_arenas(arenas: int = ARENAS) -> bool:
    """Limit glibc's malloc arenas to ``arenas`` unless ``MALLOC_ARENA_MAX`` is set (then glibc has already
    applied the operator's choice); True if the limit was set. Elsewhere than Linux with glibc, nothing."""
    if os.environ.get("MALLOC_ARENA_MAX") or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        return bool(libc.mallopt(M_ARENA_MAX, arenas))
    except (OSError, AttributeError):  # musl and other C libraries have no arenas to limit
        log.debug("malloc arenas not limited: no glibc mallopt")
        return False
