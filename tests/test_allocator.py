"""The server limits glibc's malloc arenas (issue 12: flat memory under load), and leaves an operator's
``MALLOC_ARENA_MAX`` alone. Counted with glibc's own ``malloc_stats`` in fresh processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: Eight threads, alive together, allocate large blocks (past Python's small-object allocator, so from
#: malloc), then glibc lists its arenas on stderr.
PROBE = """
import ctypes, sys, threading
from assistant.allocator import limit_malloc_arenas
print(limit_malloc_arenas() if sys.argv[1] == "limit" else None, flush=True)
together = threading.Barrier(8)
def work():
    blocks = [bytearray(100_000) for _ in range(50)]
    together.wait()  # all alive at once: no thread inherits the arena of one that ended
threads = [threading.Thread(target=work) for _ in range(8)]
for t in threads: t.start()
for t in threads: t.join()
ctypes.CDLL("libc.so.6").malloc_stats()
"""

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's arenas")


def _arenas(mode: str, **env: str) -> tuple[str, int]:
    environment = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    environment.update(PYTHONPATH=str(ROOT), **env)
    done = subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True, timeout=60,
                          env=environment, check=True)
    return done.stdout.strip(), sum(line.startswith("Arena ") for line in done.stderr.splitlines())


def test_the_server_keeps_two_malloc_arenas():
    limited, arenas = _arenas("limit")
    assert limited == "True" and arenas == 2
    _, unlimited = _arenas("none")
    assert unlimited > 2  # the probe does make more arenas without the limit (9 here: one per thread)


def test_an_operators_malloc_arena_max_is_left_alone():
    limited, arenas = _arenas("limit", MALLOC_ARENA_MAX="3")
    assert limited == "False" and arenas == 3
