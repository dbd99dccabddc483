"""Where the time before the first answer goes, per embedding backend, each in a fresh process.

    .venv/bin/python bench/startup.py [--backends torch,onnx-int8] [--runs 3]

Phases, timed in the order ``Assistant()`` runs them: importing ``assistant`` (chromadb, LangChain, bm25s,
...), loading the embedding model (for exported backends: opening the ONNX/OpenVINO graph), opening the
Chroma index, the ingest check of the configured corpus (digest compare, nothing embedded when unchanged),
building BM25, and the first answer. The index is the one in ``KHABAR_INDEX_DIR`` made warm by a first run,
as on a real restart. Medians of ``--runs`` fresh processes.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path


def child() -> None:
    """The measured start-up, in this (fresh) process; prints its timings as JSON."""
    import time

    t0 = time.perf_counter()
    marks = {}
    from assistant.facade import Assistant
    from assistant.ingest.loading import load_article
    from assistant.retrieve.embeddings import Embedder
    from assistant.retrieve.store import PassageStore
    from assistant.settings import get_settings

    marks["import assistant"] = time.perf_counter() - t0
    settings = get_settings()
    t = time.perf_counter()
    embedder = Embedder(settings, progress=False)
    marks["load embedding model"] = time.perf_counter() - t
    t = time.perf_counter()
    store = PassageStore(settings, embedder)
    marks["open Chroma index"] = time.perf_counter() - t
    t = time.perf_counter()
    report = store.ingest([load_article(p) for p in settings.corpus])
    marks["ingest check"] = time.perf_counter() - t
    t = time.perf_counter()
    assistant = Assistant(settings, embedder=embedder, store=store, ingest_corpus=False)
    marks["BM25 build"] = time.perf_counter() - t
    t = time.perf_counter()
    assistant.ask("من هي الدول الضامنة لمحادثات أستانا؟")
    marks["first answer"] = time.perf_counter() - t
    marks["total"] = time.perf_counter() - t0
    heavy = [m for m in ("torch", "transformers", "sentence_transformers", "onnxruntime", "openvino")
             if m in sys.modules]
    print(json.dumps({"marks": marks, "modules": heavy, "embedded": report.passages}))


def run_once(backend: str, index_dir: Path) -> dict:
    """One fresh process; its phase timings."""
    env = {**os.environ, "KHABAR_EMBEDDING_BACKEND": backend, "KHABAR_INDEX_DIR": str(index_dir)}
    out = subprocess.run([sys.executable, __file__, "--child"], env=env, capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="torch,onnx-int8")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child()
        return
    root = Path(tempfile.mkdtemp(prefix="khabar-startup-"))
    results = {}
    for backend in args.backends.split(","):
        index_dir = root / backend
        first = run_once(backend, index_dir)  # builds the index: a restart is what is measured
        print(f"{backend}: first start {first['marks']['total']:.1f} s ({first['embedded']} passages)")
        runs = [run_once(backend, index_dir) for _ in range(args.runs)]
        medians = {k: statistics.median(r["marks"][k] for r in runs) for k in runs[0]["marks"]}
        results[backend] = (medians, runs[0]["modules"])
    phases = list(next(iter(results.values()))[0])
    print("\n| phase (s, median of fresh processes) | " + " | ".join(results) + " |")
    print("| --- |" + " ---: |" * len(results))
    for phase in phases:
        print(f"| {phase} | " + " | ".join(f"{marks[phase]:.2f}" for marks, _ in results.values()) + " |")
    for backend, (_, modules) in results.items():
        print(f"\n{backend} loads: {', '.join(modules) or 'none of torch, transformers, onnxruntime'}")


if __name__ == "__main__":
    main()
