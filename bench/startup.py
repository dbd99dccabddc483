"""Where the time before the first answer goes, and how soon the server answers HTTP.

    .venv/bin/python bench/startup.py [--backends onnx] [--runs 3]            # phases, in fresh processes
    .venv/bin/python bench/startup.py --server [--runs 3] [--before DIR]    # `app.py`: HTTP, ready, answer

Phases, timed in the order the server's loading thread runs them (``assistant.starting``): importing the
server (FastAPI, the API routes), importing the pipeline (``assistant.facade``: LangChain, bm25s), importing
Gradio (the page), loading the embedding model, opening the Chroma index (importing chromadb), the ingest
check of the configured corpus (digest compare, nothing embedded when unchanged), and the first answer
(which builds BM25). The index is the one in a temporary ``KHABAR_INDEX_DIR`` made warm by a first run, as
on a real restart. Medians of ``--runs`` fresh processes.

``--server`` starts ``app.py`` (page and API) and times, from the spawn: the first HTTP answer
(``/api/v1/health``), ``/api/v1/ready`` 200, the first answer to a question and the page at ``/``, with
``KHABAR_LOAD_IN_BACKGROUND`` true and false, and ``--before DIR``: another source tree's ``app.py`` (e.g.
an older commit exported with ``git archive``) with this tree's models, runs interleaved.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
QUESTION = "من هي الدول الضامنة لمحادثات أستانا؟"
HEAVY = ("torch", "transformers", "sentence_transformers", "onnxruntime", "openvino", "gradio", "chromadb",
         "langchain_core", "bm25s")


def child() -> None:
    """The measured start-up, in this (fresh) process; prints its timings as JSON."""
    t0 = time.perf_counter()
    marks = {}

    def mark(name: str, since: float) -> float:
        now = time.perf_counter()
        marks[name] = now - since
        return now

    importlib.import_module("assistant.server")  # what the server imports before it listens

    t = mark("import the server (FastAPI, API)", t0)
    from assistant.facade import Assistant

    t = mark("import the pipeline (LangChain, bm25s)", t)
    importlib.import_module("assistant.web.page")  # Gradio

    t = mark("import Gradio (the page)", t)
    from assistant.retrieve.embeddings import Embedder
    from assistant.settings import get_settings

    settings = get_settings()
    embedder = Embedder(settings, progress=False)
    t = mark("load the embedding model", t)
    from assistant.retrieve.store import ChromaIndex

    store = ChromaIndex(settings, embedder)
    t = mark("open the Chroma index (imports chromadb)", t)
    assistant = Assistant(settings, embedder=embedder, store=store)
    t = mark("ingest check (digest compare)", t)
    assistant.ask(QUESTION)
    mark("first answer (builds BM25)", t)
    marks["total"] = time.perf_counter() - t0
    print(json.dumps({"marks": marks, "modules": [m for m in HEAVY if m in sys.modules]}))


def run_once(backend: str, index_dir: Path) -> dict:
    """One fresh process; its phase timings."""
    env = {**os.environ, "KHABAR_EMBEDDING_BACKEND": backend, "KHABAR_INDEX_DIR": str(index_dir),
           "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, __file__, "--child"], env=env, capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def phases(args: argparse.Namespace) -> None:
    root = Path(tempfile.mkdtemp(prefix="khabar-startup-"))
    results = {}
    for backend in args.backends.split(","):
        index_dir = root / backend
        first = run_once(backend, index_dir)  # builds the index: a restart is what is measured
        print(f"{backend}: first start {first['marks']['total']:.1f} s")
        runs = [run_once(backend, index_dir) for _ in range(args.runs)]
        medians = {k: statistics.median(r["marks"][k] for r in runs) for k in runs[0]["marks"]}
        results[backend] = (medians, runs[0]["modules"])
    names = list(next(iter(results.values()))[0])
    print(f"\n| phase (s, median of {args.runs} fresh processes) | " + " | ".join(results) + " |")
    print("| --- |" + " ---: |" * len(results))
    for name in names:
        print(f"| {name} | " + " | ".join(f"{marks[name]:.2f}" for marks, _ in results.values()) + " |")
    for backend, (_, modules) in results.items():
        print(f"\n{backend} loaded: {', '.join(modules)}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_once(source: Path, index_dir: Path, background: bool) -> dict[str, float]:
    """Start ``app.py`` once; seconds from the spawn to each milestone."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "KHABAR_PORT": str(port), "KHABAR_INDEX_DIR": str(index_dir),
           "KHABAR_DATA_DIR": str(index_dir.parent / "data"), "KHABAR_MODELS_DIR": str(ROOT / "models"),
           "KHABAR_CORPUS": str(ROOT / "data" / "articles" / "assad-putin-sochi.ar.txt"),
           "KHABAR_LOAD_IN_BACKGROUND": str(background).lower(), "PYTHONPATH": str(source)}
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, str(source / "app.py")], env=env, cwd=source,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    got: dict[str, float] = {}
    try:
        while "page" not in got:
            if proc.poll() is not None or time.perf_counter() - start > 600:
                raise RuntimeError("the server exited or did not become ready")
            with contextlib.suppress(httpx.TransportError):  # not listening yet
                if "http" not in got:
                    if httpx.get(url + "/api/v1/health", timeout=2).status_code == 200:
                        got["http"] = time.perf_counter() - start
                elif "ready" not in got:
                    if httpx.get(url + "/api/v1/ready", timeout=2).status_code == 200:
                        got["ready"] = time.perf_counter() - start
                elif "answer" not in got:
                    if httpx.post(url + "/api/v1/ask", json={"question": QUESTION}, timeout=60).is_success:
                        got["answer"] = time.perf_counter() - start
                elif httpx.get(url + "/", timeout=5).status_code == 200:
                    got["page"] = time.perf_counter() - start
            time.sleep(0.05)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return got


def server(args: argparse.Namespace) -> None:
    root = Path(tempfile.mkdtemp(prefix="khabar-serve-"))
    configs = [("in the background", ROOT, True), ("loaded first", ROOT, False)]
    if args.before:
        configs.append((f"before (`{Path(args.before).name}`)", Path(args.before).resolve(), False))
    index = {name: root / str(i) / "index" for i, (name, _, _) in enumerate(configs)}
    for name, source, background in configs:
        serve_once(source, index[name], background)  # builds the index: a restart is what is measured
    # Interleaved, so that the machine's changing load falls on every configuration alike.
    runs: dict[str, list[dict[str, float]]] = {name: [] for name, _, _ in configs}
    for _ in range(args.runs):
        for name, source, background in configs:
            runs[name].append(serve_once(source, index[name], background))
    print(json.dumps(runs))
    print(f"\n| seconds from spawn (median of {args.runs}) | " + " | ".join(runs) + " |")
    print("| --- |" + " ---: |" * len(runs))
    labels = {"http": "first HTTP answer (`/api/v1/health`)", "ready": "`/api/v1/ready` 200",
              "answer": "first answer to a question", "page": "the page at `/`"}
    for key, label in labels.items():
        print(f"| {label} | " + " | ".join(f"{statistics.median(r[key] for r in rs):.1f}"
                                          for rs in runs.values()) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="onnx")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--server", action="store_true", help="time app.py: HTTP, ready, answer, page")
    parser.add_argument("--before", help="with --server: another source tree (e.g. an older commit from "
                                         "`git archive`) whose app.py is timed too, with this tree's models")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child()
    elif args.server:
        server(args)
    else:
        phases(args)


if __name__ == "__main__":
    main()
