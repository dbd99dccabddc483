"""A client leaves a stream while the answer is still being generated: the generation must be told to stop.

Run in a process of its own by tests/test_api.py: servers started earlier in a long test process leave
global state behind (sse-starlette's shutdown watchers) that makes the timing of disconnect detection
depend on test order. Prints "cancelled" and exits 0 when the generation was stopped.
"""

import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from assistant import Settings
from assistant.api import create_api
from assistant.server import serve_in_thread

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from test_api import StandIn


class Slow(StandIn):
    """Yields once, then works in one long step, like a model generating inside a single `next`."""

    cancelled = threading.Event()

    def stream(self, question, history=None, cancel=None, **_):
        try:
            yield "start "
        except GeneratorExit:
            # The server saw the client leave before it resumed the pipeline (a busy machine can order it
            # so): closing the generator is how the generation stops then, and it never runs again.
            self.cancelled.set()
            raise
        for _ in range(1200):  # one minute at most
            if cancel is not None and cancel.is_set():
                self.cancelled.set()
                return
            time.sleep(0.05)
        yield "too late"


def main() -> int:
    root = Path(tempfile.mkdtemp())
    settings = Settings(_env_file=None, rate_limit_per_minute=0, index_dir=root / "i", data_dir=root / "d")
    slow = Slow(settings)
    with serve_in_thread(create_api(slow)) as url, httpx.Client(base_url=url, timeout=60) as client:
        with client.stream("POST", "/api/v1/ask/stream", json={"question": "q"}) as response:
            for line in response.iter_lines():
                if line.startswith("data:"):
                    break  # the first delta arrived; leave while the answer is still being made
        stopped = slow.cancelled.wait(timeout=30)
    print("cancelled" if stopped else "not cancelled")
    return 0 if stopped else 1


if __name__ == "__main__":
    sys.exit(main())
