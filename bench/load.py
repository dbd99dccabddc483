"""Load: `make run`'s server (page and API, `python app.py`) under the Locust scenario of
`bench/locustfile.py`, for 10, 25 and 50 concurrent users, 60 s each, headless.

    .venv/bin/python bench/load.py                       # 10, 25, 50 users x 60 s; prints a Markdown table
    .venv/bin/python bench/load.py --users 10 --seconds 20
    .venv/bin/python bench/load.py --readme              # and writes the table into bench/README.md
    .venv/bin/python bench/load.py --soak 600            # then a 10-minute soak at --soak-users users

The soak samples the server's resident memory every 10 s and reports its drift: the median of the first and
of the last minute and the least-squares slope after the first minute (flat memory: a slope near 0 MB/min).

The server runs with its default answer bounds (`KHABAR_MAX_ANSWERS_IN_FLIGHT`, `KHABAR_MAX_ANSWERS_QUEUED`),
the per-client rate limit lifted (as for many bots, each with its own key) and a temporary data and index
folder. Its peak resident memory (with any child process) is sampled every 0.2 s. Needs the `bench` extra
(`pip install -e .[bench]`: Locust).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
LOCUSTFILE = Path(__file__).resolve().parent / "locustfile.py"
BEGIN, END = "<!-- load:begin -->", "<!-- load:end -->"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RssSampler:
    """The peak resident memory of a process and its children since the last :meth:`reset`."""

    def __init__(self, pid: int, every: float = 0.2) -> None:
        # Imported here (the bench extra): the summaries and tables below are tested without it.
        import psutil

        self._error = psutil.Error
        self.process = psutil.Process(pid)
        self.every = every
        self.peak = 0
        #: (seconds since the last reset, resident bytes), one sample every ``every`` seconds.
        self.samples: list[tuple[float, int]] = []
        self._since = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            try:
                processes = [self.process, *self.process.children(recursive=True)]
                rss = sum(p.memory_info().rss for p in processes)
            except self._error:
                continue
            self.peak = max(self.peak, rss)
            self.samples.append((time.monotonic() - self._since, rss))

    def reset(self) -> None:
        self.peak = 0
        self.samples = []
        self._since = time.monotonic()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def start_server(workdir: Path, port: int) -> subprocess.Popen:
    # The scenario asks a few conversations over and over: without KHABAR_QUERY_CACHE_SIZE=0 it would measure
    # the question-vector cache rather than the model (and not compare with the results measured before it).
    env = {**os.environ, "KHABAR_HOST": "127.0.0.1", "KHABAR_PORT": str(port), "KHABAR_QUERY_CACHE_SIZE": "0",
           "KHABAR_RATE_LIMIT_PER_MINUTE": "0", "KHABAR_DATA_DIR": str(workdir / "data"),
           "KHABAR_INDEX_DIR": str(workdir / "index"), "PYTHONPATH": str(ROOT)}
    log = open(workdir / "server.log", "wb")  # noqa: SIM115 (kept open for the server's lifetime)
    return subprocess.Popen([sys.executable, str(ROOT / "app.py")], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT)


def wait_ready(url: str, server: subprocess.Popen, timeout: float = 600.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("the server exited while starting; see its log")
        try:
            if httpx.get(f"{url}/api/v1/ready", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(1)
    raise SystemExit("the server did not become ready")


def run_locust(url: str, users: int, seconds: int, out: Path) -> dict:
    env = {**os.environ, "KHABAR_LOAD_OUT": str(out)}
    command = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless",
               "-u", str(users), "-r", str(max(1, users // 5)), "-t", f"{seconds}s", "-H", url,
               "--only-summary", "--stop-timeout", "30", "--loglevel", "WARNING"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=seconds + 300)
    if not out.exists():
        raise SystemExit(f"locust wrote no summary:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return json.loads(out.read_text(encoding="utf-8"))


def errors_cell(row: dict) -> str:
    """The error count with its kinds ("3 (ask: 500 × 2, stream: 0 ReadTimeout × 1)"), so that a bad run
    says what failed."""
    kinds = row.get("error_kinds") or {}
    if not row["errors"] or not kinds:
        return str(row["errors"])
    listed = ", ".join(f"{kind} × {n}" for kind, n in sorted(kinds.items(), key=lambda item: -item[1]))
    return f"{row['errors']} ({listed})"


def table(rows: list[dict]) -> str:
    lines = ["| users | answered/s | requests/s | p50 / p95 / p99 (answered) | shed (503) | errors | "
             "peak server RSS |", "| ---: | ---: | ---: | --- | ---: | ---: | ---: |"]
    for row in rows:
        p50, p95, p99 = (row[f"{q}_ms"] / 1000 for q in ("p50", "p95", "p99"))
        lines.append(f"| {row['users']} | {row['answered_per_s']} | {row['requests_per_s']} | "
                     f"{p50:.2f} / {p95:.2f} / {p99:.2f} s | "
                     f"{row['shed_503']} | {errors_cell(row)} | {row['peak_rss_mb']} MB |")
    return "\n".join(lines)


def soak_summary(samples: list[tuple[float, int]], summary: dict, users: int, seconds: int) -> dict:
    """Memory drift over a soak: first and last minute medians and the slope after the first minute."""
    import numpy as np

    mb = [(t, rss / 2**20) for t, rss in samples]
    first = [m for t, m in mb if t <= 60]
    last = [m for t, m in mb if t >= seconds - 60]
    settled = [(t, m) for t, m in mb if t > 60]
    slope = (float(np.polyfit([t / 60 for t, _ in settled], [m for _, m in settled], 1)[0])
             if len(settled) >= 3 else float("nan"))
    return {"users": users, "seconds": seconds, "answered_per_s": summary["answered_per_s"],
            "errors": summary["errors"], "error_kinds": summary.get("error_kinds", {}),
            "shed_503": summary["shed_503"], "p95_ms": summary["p95_ms"],
            "first_minute_mb": round(float(np.median(first))),
            "last_minute_mb": round(float(np.median(last))),
            "slope_mb_per_min": round(slope, 2), "peak_mb": round(max(m for _, m in mb)),
            "samples_mb": [(round(t), round(m)) for t, m in mb]}


def soak_table(row: dict) -> str:
    return ("| soak | answered/s | p95 (answered) | shed (503) | errors | RSS first min → last min | "
            "slope after 1st min | peak RSS |\n| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: |\n"
            f"| {row['users']} users × {row['seconds'] // 60} min | {row['answered_per_s']} | "
            f"{row['p95_ms'] / 1000:.2f} s | {row['shed_503']} | {errors_cell(row)} | "
            f"{row['first_minute_mb']} → {row['last_minute_mb']} MB | {row['slope_mb_per_min']} MB/min | "
            f"{row['peak_mb']} MB |")


def write_readme(text: str) -> None:
    readme = ROOT / "bench" / "README.md"
    current = readme.read_text(encoding="utf-8")
    block = f"{BEGIN}\n{text}\n{END}"
    if BEGIN in current:
        current = re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), lambda _: block, current, flags=re.S)
    else:
        current = current.rstrip("\n") + "\n\n" + block + "\n"
    readme.write_text(current, encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--users", type=int, nargs="+", default=[10, 25, 50])
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--readme", action="store_true", help="write the table into bench/README.md")
    parser.add_argument("--json", type=Path, help="write every run's summary here")
    parser.add_argument("--soak", type=int, default=0, metavar="SECONDS",
                        help="after the runs, a soak of this many seconds (600 for the README's figures)")
    parser.add_argument("--soak-users", type=int, default=25)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="khabar-load-"))
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    server = start_server(workdir, port)
    rows: list[dict] = []
    try:
        wait_ready(url, server)
        sampler = RssSampler(server.pid)
        time.sleep(1.0)
        idle_mb = round(sampler.peak / 2**20)
        for users in args.users:
            sampler.reset()
            summary = run_locust(url, users, args.seconds, workdir / f"locust-{users}.json")
            summary.update(users=users, peak_rss_mb=round(sampler.peak / 2**20))
            rows.append(summary)
            print(json.dumps(summary, ensure_ascii=False), flush=True)
            time.sleep(5)  # let the queue drain between runs
        soak = None
        if args.soak:
            sampler.reset()
            sampler.every = 10.0
            summary = run_locust(url, args.soak_users, args.soak, workdir / "locust-soak.json")
            soak = soak_summary(sampler.samples, summary, args.soak_users, args.soak)
            print(json.dumps(soak, ensure_ascii=False), flush=True)
        sampler.stop()
    finally:
        server.terminate()
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
    text = table(rows)
    if soak is not None:
        text += "\n\n" + soak_table(soak)
    soak_args = f" --soak {args.soak} --soak-users {args.soak_users}" if args.soak else ""
    note = (f"\n\nServer idle after start-up: {idle_mb} MB. Command: `.venv/bin/python bench/load.py "
            f"--users {' '.join(map(str, args.users))} --seconds {args.seconds}{soak_args}` "
            f"({time.strftime('%Y-%m-%d')}).")
    print(text + note)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"runs": rows, "soak": soak}, indent=2, ensure_ascii=False),
                             encoding="utf-8")
    if args.readme:
        write_readme(text + note)
    return 0


if __name__ == "__main__":
    sys.exit(main())
