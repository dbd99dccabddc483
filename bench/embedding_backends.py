"""The embedding backends side by side, in one run: latency, throughput, answers and quality.

    .venv/bin/python bench/embedding_backends.py [--backends torch,onnx,...] [--reps 5] [--arcd-contexts N]

For every backend (KHABAR_EMBEDDING_BACKEND values; all by default), on this machine:

* query-embedding latency p50/p95 over the shipped suite's questions, the median of ``--reps`` repetitions,
  backends interleaved question by question so that a noisy neighbour hurts them alike;
* documents/s for ingest-style batches (the article's passages and sentences, batch size 16);
* extractive answer p50 end to end through ``Assistant.ask`` (temporary index per backend);
* hit@1 on the shipped suite (``data/suites/article.jsonl``) and retrieval hit@1 on ARCD
  (``../shared/data/arcd-train.json``; skipped with a message when absent; ``--arcd-contexts N`` keeps the
  first N contexts and their questions, for a quick look);
* intra-op threads 1 vs 2 of the default backend: one question alone, and 4 questions at once.

Prints Markdown tables to paste into bench/README.md.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from assistant import Assistant
from assistant.evaluation.runner import evaluate
from assistant.evaluation.suites import Suite, load_suite
from assistant.ingest.loading import load_article
from assistant.ingest.splitting import split_article, split_sentences
from assistant.models.encoders import BACKENDS, GraphEncoder, ModelText
from assistant.models.export import ensure_export
from assistant.models.files import resolve_embedding_model
from assistant.retrieve.embeddings import Embedder
from assistant.settings import EMBEDDING_BACKENDS, PROJECT_ROOT, Settings

SUITE = PROJECT_ROOT / "data" / "suites" / "article.jsonl"
ARTICLE = PROJECT_ROOT / "data" / "articles" / "assad-putin-sochi.ar.txt"
ARCD = PROJECT_ROOT.parent / "shared" / "data" / "arcd-train.json"


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) by linear interpolation."""
    return float(np.percentile(np.asarray(values), q))


def settings_for(root: Path, backend: str) -> Settings:
    """Settings with a private index folder for ``backend``."""
    return Settings(index_dir=root / backend / "index", data_dir=root / backend / "data",
                    corpus=[ARTICLE], embedding_backend=backend, query_cache_size=0, _env_file=None)


def query_latency(embedders: dict[str, Embedder], questions: list[str], reps: int) -> dict[str, tuple]:
    """Median over repetitions of each backend's p50 and p95 per question (ms)."""
    per_rep: dict[str, list[tuple[float, float]]] = {name: [] for name in embedders}
    for _ in range(reps):
        times: dict[str, list[float]] = {name: [] for name in embedders}
        for question in questions:
            for name, embedder in embedders.items():
                start = time.perf_counter()
                embedder.encode_query(question)
                times[name].append((time.perf_counter() - start) * 1000)
        for name, values in times.items():
            per_rep[name].append((percentile(values, 50), percentile(values, 95)))
    return {name: (statistics.median(p for p, _ in reps_), statistics.median(q for _, q in reps_))
            for name, reps_ in per_rep.items()}


def documents_per_second(embedders: dict[str, Embedder], texts: list[str], reps: int) -> dict[str, float]:
    """Median over repetitions of texts embedded per second (document prompt, batches of 16)."""
    rates: dict[str, list[float]] = {name: [] for name in embedders}
    for _ in range(reps):
        for name, embedder in embedders.items():
            start = time.perf_counter()
            embedder.encode_documents(texts)
            rates[name].append(len(texts) / (time.perf_counter() - start))
    return {name: statistics.median(values) for name, values in rates.items()}


def answer_latency(assistants: dict[str, Assistant], questions: list[str], reps: int) -> dict[str, float]:
    """Median over repetitions of each backend's p50 extractive answer time, wall clock around ``ask``."""
    per_rep: dict[str, list[float]] = {name: [] for name in assistants}
    for _ in range(reps):
        times: dict[str, list[float]] = {name: [] for name in assistants}
        for question in questions:
            for name, assistant in assistants.items():
                start = time.perf_counter()
                assistant.ask(question, mode="extractive")
                times[name].append((time.perf_counter() - start) * 1000)
        for name, values in times.items():
            per_rep[name].append(percentile(values, 50))
    return {name: statistics.median(values) for name, values in per_rep.items()}


def hit_at_1(suite: Suite, settings: Settings, embedder: Embedder) -> tuple[float, float]:
    """Retrieval hit@1 of ``suite`` (extractive) and the wall time of the run in seconds."""
    start = time.perf_counter()
    report = evaluate(suite, settings, modes=["extractive"], embedder=embedder, show_progress=False)
    return report.summary["extractive"].hit_at_1, time.perf_counter() - start


def arcd_suite(contexts: int | None) -> Suite | None:
    """ARCD as a suite, or its first ``contexts`` contexts with their questions; None when absent."""
    if not ARCD.is_file():
        print(f"ARCD skipped: {ARCD} is absent (it is not shipped with the repository).")
        return None
    suite = load_suite(ARCD)
    if contexts:
        kept = suite.contexts[:contexts]
        ids = {a.id for a in kept}
        cases = [c for c in suite.cases if set(c.evidence_articles) <= ids]
        suite = suite.model_copy(update={"contexts": kept, "cases": cases})
    return suite


def threads_study(backend: str, questions: list[str], reps: int) -> list[tuple[str, float, float]]:
    """Intra-op threads 1 and 2 (spinning or not): p50 of one question alone (ms), questions/s with 4
    callers at once."""
    settings = Settings(embedding_backend=backend, _env_file=None)
    source = resolve_embedding_model(settings, progress=False)
    spec = BACKENDS[backend]
    assert spec.export is not None, "the threads study is for exported backends"
    exported = ensure_export(source, settings.models_dir, spec.export)
    rows = []
    variants = ((1, True), (2, True), (2, False)) if spec.runtime == "onnxruntime" else ((1, True), (2, True))
    for threads, spin in variants:
        encoder = GraphEncoder(exported.model_file, ModelText.read(source), exported.dimension,
                               runtime=spec.runtime, precision=spec.precision, threads=threads, spin=spin)
        for q in questions[:4]:
            encoder.encode([q], "query", 1)
        alone = []
        for _ in range(reps):
            for q in questions:
                start = time.perf_counter()
                encoder.encode([q], "query", 1)
                alone.append((time.perf_counter() - start) * 1000)

        def worker(batch: list[str], enc: GraphEncoder = encoder) -> None:
            for q in batch:
                enc.encode([q], "query", 1)

        rates = []
        for _ in range(reps):
            callers = [threading.Thread(target=worker, args=(questions[i::4],)) for i in range(4)]
            start = time.perf_counter()
            for c in callers:
                c.start()
            for c in callers:
                c.join()
            rates.append(len(questions) / (time.perf_counter() - start))
        label = f"{threads}" + ("" if spin else ", no spinning")
        rows.append((label, percentile(alone, 50), statistics.median(rates)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default=",".join(EMBEDDING_BACKENDS),
                        help="comma-separated backends (default: all)")
    parser.add_argument("--reps", type=int, default=5, help="repetitions per latency figure")
    parser.add_argument("--arcd-contexts", type=int, default=None,
                        help="only the first N ARCD contexts and their questions (default: all)")
    parser.add_argument("--no-arcd", action="store_true", help="skip ARCD")
    parser.add_argument("--no-threads", action="store_true", help="skip the threads study")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # progress lines show up when piped to a file
    names = [n.strip() for n in args.backends.split(",") if n.strip()]
    unknown = [n for n in names if n not in EMBEDDING_BACKENDS]
    if unknown:
        parser.error(f"unknown backends {unknown}; choose from {list(EMBEDDING_BACKENDS)}")

    suite = load_suite(SUITE)
    questions = [c.question for c in suite.cases if not c.history]
    root = Path(tempfile.mkdtemp(prefix="khabar-bench-"))
    embedders, loads = {}, {}
    for name in names:
        start = time.perf_counter()
        embedders[name] = Embedder(settings_for(root, name), progress=False)
        loads[name] = time.perf_counter() - start
    article = load_article(ARTICLE)
    passages = split_article(article, max_tokens=200, count_tokens=embedders[names[0]].count_tokens)
    documents = [p.text for p in passages] + [s.text for p in passages for s in split_sentences(article, p)]
    for embedder in embedders.values():  # warm-up: first calls pay for lazy initialisation
        for q in questions[:4]:
            embedder.encode_query(q)
    assistants = {name: Assistant(settings_for(root, name), embedder=e) for name, e in embedders.items()}
    for assistant in assistants.values():
        for q in questions[:4]:
            assistant.ask(q, mode="extractive")

    print(f"{len(questions)} questions, {len(documents)} documents, {args.reps} repetitions\n")
    latency = query_latency(embedders, questions, args.reps)
    rates = documents_per_second(embedders, documents, max(1, args.reps // 2))
    answers = answer_latency(assistants, questions, args.reps)
    suite_hits = {name: hit_at_1(suite, settings_for(root, name), e)[0] for name, e in embedders.items()}
    arcd = None if args.no_arcd else arcd_suite(args.arcd_contexts)
    arcd_hits = {}
    if arcd is not None:
        print(f"ARCD: {len(arcd.contexts)} contexts, {len(arcd.cases)} questions")
        for name, embedder in embedders.items():
            arcd_hits[name] = hit_at_1(arcd, settings_for(root, name), embedder)
            print(f"  {name}: hit@1 {arcd_hits[name][0]:.3f} in {arcd_hits[name][1]:.0f} s", flush=True)

    fastest = min(latency, key=lambda n: latency[n][0])
    reference = "torch" if "torch" in latency else fastest
    print("\n| backend | load s | query p50 ms | query p95 ms | documents/s | answer p50 ms | "
          "answer / fastest query | vs torch answer | hit@1 suite | hit@1 ARCD |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name in names:
        p50, p95 = latency[name]
        arcd_text = f"{arcd_hits[name][0]:.3f}" if name in arcd_hits else "–"
        print(f"| {name} | {loads[name]:.1f} | {p50:.0f} | {p95:.0f} | {rates[name]:.1f} "
              f"| {answers[name]:.0f} | {answers[name] / latency[fastest][0]:.2f} "
              f"| {answers[reference] / answers[name]:.2f}x "
              f"| {suite_hits[name]:.3f} | {arcd_text} |")
    print(f"\nfastest query embedding: {fastest} ({latency[fastest][0]:.0f} ms p50)")

    if not args.no_threads:
        default = Settings(_env_file=None).embedding_backend
        study = default if BACKENDS[default].export else "onnx"
        if study in names:
            print(f"\nthreads ({study}): one question alone, and 4 callers at once")
            print("\n| intra-op threads | p50 alone ms | questions/s, 4 callers |")
            print("| ---: | ---: | ---: |")
            for threads, alone, rate in threads_study(study, questions, args.reps):
                print(f"| {threads} | {alone:.0f} | {rate:.1f} |")


if __name__ == "__main__":
    main()
