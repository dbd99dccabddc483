"""What the server keeps per answer: the real page and API in this process, under the Locust scenario of
`bench/locustfile.py` (one user kind at a time), with ``tracemalloc`` snapshots and object counts between
rounds of equal length.

    .venv/bin/python bench/memory.py --kind ApiBot --users 10 --seconds 60 --rounds 3
    .venv/bin/python bench/memory.py --kind PageVisitor --users 10 --seconds 60 --rounds 3 --no-trace

After a warm-up round, each round reports: answers, resident memory growth (RSS, everything: Python and
native), traced Python memory growth (``tracemalloc``, when on), both per answer, the allocation sites
(tracebacks) that grew most, and the object types whose counts grew (``gc.get_objects``). RSS growth far
above the traced growth is native memory (ONNX Runtime, SQLite, Chroma's Rust core, the allocator).

``tracemalloc`` starts after the warm-up round: it sees only what is allocated after it starts, which is
what the rounds keep; it slows the server several times over, so answer counts are lower with it than
without (``--no-trace``). The rate limit is lifted and the data and index folders are temporary, as in
load.py.
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCUSTFILE = Path(__file__).resolve().parent / "locustfile.py"


def _object_counts() -> Counter:
    return Counter(type(o).__qualname__ for o in gc.get_objects())


def _rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def _run_locust(url: str, kind: str, users: int, seconds: int, out: Path) -> dict:
    env = {**os.environ, "KHABAR_LOAD_OUT": str(out)}
    command = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "-u", str(users),
               "-r", str(max(1, users // 2)), "-t", f"{seconds}s", "-H", url, "--only-summary",
               "--stop-timeout", "30", "--loglevel", "WARNING", kind]
    subprocess.run(command, env=env, capture_output=True, text=True, timeout=seconds + 300)
    return json.loads(out.read_text(encoding="utf-8"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--kind", default="ApiBot", help="the locustfile's user class (ApiBot, PageVisitor)")
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--seconds", type=int, default=60, help="length of each round")
    parser.add_argument("--rounds", type=int, default=3, help="measured rounds after the warm-up round")
    parser.add_argument("--frames", type=int, default=12, help="traceback depth of tracemalloc")
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--no-trace", action="store_true", help="RSS and object counts only (faster)")
    parser.add_argument("--json", type=Path, help="write the rounds' figures here")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="khabar-memory-"))
    os.environ.update(KHABAR_RATE_LIMIT_PER_MINUTE="0", KHABAR_DATA_DIR=str(workdir / "data"),
                      KHABAR_LOAD_IN_BACKGROUND="false")
    os.environ.setdefault("KHABAR_INDEX_DIR", str(workdir / "index"))  # set it to reuse an index
    sys.path.insert(0, str(ROOT))
    from assistant.server import configure_logging, create_app, serve_in_thread
    from assistant.settings import get_settings
    from assistant.starting import load_assistant

    configure_logging(logging.WARNING)
    settings = get_settings()
    assistant = load_assistant(settings)
    app = create_app(assistant)
    rows = []
    with serve_in_thread(app) as url:
        _run_locust(url, args.kind, args.users, args.seconds, workdir / "warm.json")
        gc.collect()
        # Traced from here on: what a snapshot holds is then only what the rounds allocated and kept (the
        # models and the index, loaded before, are not in it), which keeps snapshots small and quick.
        if not args.no_trace:
            tracemalloc.start(args.frames)
        before = tracemalloc.take_snapshot() if not args.no_trace else None
        counts, rss = _object_counts(), _rss_mb()
        for n in range(1, args.rounds + 1):
            summary = _run_locust(url, args.kind, args.users, args.seconds, workdir / f"round{n}.json")
            time.sleep(2)  # answers still finishing
            gc.collect()
            now_counts, now_rss = _object_counts(), _rss_mb()
            answered = max(1, summary["answered"])
            row = {"round": n, "answered": summary["answered"], "shed": summary["shed_503"],
                   "errors": summary["errors"], "rss_mb": round(now_rss, 1),
                   "rss_growth_kb_per_answer": round((now_rss - rss) * 1024 / answered, 2)}
            print(f"\n== round {n}: {summary['answered']} answered, {summary['shed_503']} shed, "
                  f"{summary['errors']} errors; RSS {rss:.1f} -> {now_rss:.1f} MB "
                  f"({row['rss_growth_kb_per_answer']} KB/answer)")
            if before is not None:
                after = tracemalloc.take_snapshot()
                diff = after.compare_to(before, "traceback")
                growth = sum(d.size_diff for d in diff)
                row["traced_growth_kb_per_answer"] = round(growth / 1024 / answered, 2)
                row["traced_mb"] = round(sum(s.size for s in after.statistics("filename")) / 2**20, 1)
                print(f"traced Python memory {row['traced_mb']} MB, growth {growth / 1024:.0f} KB "
                      f"({row['traced_growth_kb_per_answer']} KB/answer); top growing sites:")
                for stat in diff[: args.top]:
                    if stat.size_diff <= 0:
                        break
                    frames = [f"{f.filename.replace(str(ROOT), '.')}:{f.lineno}"
                              for f in stat.traceback[-8:]]
                    print(f"  +{stat.size_diff / 1024:8.1f} KB  +{stat.count_diff:6d} blocks  "
                          f"{' < '.join(reversed(frames))}")
                before = after
            grown = (now_counts - counts).most_common(args.top)
            print("object types grown: " + ", ".join(f"{name} +{k}" for name, k in grown))
            rows.append(row)
            counts, rss = now_counts, now_rss
    assistant.close()
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
