"""Retrieval at corpus scale: 1k, 10k and 100k passages in Chroma (embedded and a `chroma run` server) + BM25.

    .venv/bin/python bench/scale.py            # 1k, 10k, 100k (about 10 minutes on 2 cores)
    .venv/bin/python bench/scale.py --quick    # 1k and 10k only (about 2 minutes)

The corpus is built from shipped material, stated plainly:

* **Texts**: the sentences of the ARCD contexts (``../shared/data/arcd-train.json``, when present) and of
  the default article, recombined: passage *i* is 2-5 sentences drawn at random (seeded) from that pool.
  Every passage is distinct; many share sentences, as news feeds repeat wording.
* **Vectors**: every *sentence* of the pool is embedded by the real model (the configured backend, document
  prompt). A passage's vector is the mean of its sentences' real vectors plus Gaussian noise, normalised:
  a random convex combination of real vectors. A sample of passages is also embedded for real, and the
  cosine between synthesised and real vectors is printed so the approximation can be judged.
* **Queries**: real query embeddings of the shipped suite's questions (and ARCD questions when present).

At each size the collection grows by the difference (ingest rate is for that increment), then:
ingest rate, index size on disk, resident memory, and retrieval latency p50/p95 *excluding the query
embedding*: Chroma dense query (depth 15, as ``HybridRetriever`` does for k=5) + BM25 (``LexicalIndex``,
bm25s) over the same passages + ``fuse``, i.e. what ``assistant/retrieve/hybrid.py`` does per question.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from assistant.evaluation.suites import load_suite
from assistant.ingest.splitting import paragraphs, sentence_spans
from assistant.retrieve.embeddings import Embedder
from assistant.retrieve.hybrid import MAX_LEXICAL_WEIGHT, LexicalIndex, fuse
from assistant.schemas import Passage, Span
from assistant.settings import PROJECT_ROOT, Settings
from assistant.textnorm import tokenize

ARTICLE = PROJECT_ROOT / "data" / "articles" / "assad-putin-sochi.ar.txt"
SUITE = PROJECT_ROOT / "data" / "suites" / "article.jsonl"
ARCD = PROJECT_ROOT.parent / "shared" / "data" / "arcd-train.json"
SIZES = (1_000, 10_000, 100_000)
DEPTH = 15  # HybridRetriever takes max(3k, 15) from each list for k = 5
NOISE = 0.01  # per-dimension standard deviation of the noise added to a mean of unit vectors
REAL_SAMPLE = 200  # passages also embedded for real, to compare with their synthesised vectors


def sentence_pool() -> tuple[list[str], list[str]]:
    """Sentences of the shipped material (article, ARCD contexts) and the questions to ask of them."""
    texts = [ARTICLE.read_text(encoding="utf-8")]
    questions = [c.question for c in load_suite(SUITE).cases if not c.history]
    if ARCD.is_file():
        data = json.loads(ARCD.read_text(encoding="utf-8"))
        for item in data["data"]:
            for paragraph in item["paragraphs"]:
                texts.append(paragraph["context"])
                questions += [qa["question"] for qa in paragraph["qas"][:1]]
    else:
        print(f"ARCD absent ({ARCD}): the corpus is built from the article's sentences alone")
    sentences = []
    for text in texts:
        for para in paragraphs(text):
            paragraph = text[para.start:para.end]
            for span in sentence_spans(paragraph, Span(start=0, end=len(paragraph))):
                sentence = paragraph[span.start:span.end].strip()
                if len(sentence.split()) >= 4:
                    sentences.append(sentence)
    return sorted(set(sentences)), questions


def build_corpus(pool: list[str], pool_vectors: np.ndarray, n: int, seed: int = 7):
    """``n`` distinct passages of 2-5 pool sentences, with synthesised vectors (see the module docstring)."""
    rng = random.Random(seed)
    noise = np.random.default_rng(seed)
    seen: set[tuple[int, ...]] = set()
    texts, members = [], []
    while len(texts) < n:
        pick = tuple(rng.sample(range(len(pool)), rng.randint(2, 5)))
        if pick in seen:
            continue
        seen.add(pick)
        members.append(pick)
        texts.append(" ".join(pool[i] for i in pick))
    vectors = np.empty((n, pool_vectors.shape[1]), dtype=np.float32)
    for start in range(0, n, 10_000):  # chunks keep the temporary arrays small
        chunk = members[start:start + 10_000]
        means = np.vstack([pool_vectors[list(m)].mean(axis=0) for m in chunk])
        means += noise.normal(0.0, NOISE, size=means.shape).astype(np.float32)
        vectors[start:start + len(chunk)] = means / np.linalg.norm(means, axis=1, keepdims=True)
    return texts, vectors


def passages_of(texts: list[str]) -> list[Passage]:
    """Passage objects as the store returns them (one synthetic article per 20 passages)."""
    return [Passage(id=f"p{i}", article_id=f"a{i // 20}", index=i % 20, role="body", text=t,
                    span=Span(start=0, end=len(t))) for i, t in enumerate(texts)]


def rss_mb(pid: int | None = None) -> float:
    """Resident memory of a process (this one by default), in MB."""
    status = Path(f"/proc/{pid or os.getpid()}/status").read_text()
    line = next(x for x in status.splitlines() if x.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


def folder_mb(folder: Path) -> float:
    """Bytes on disk under ``folder``, in MB."""
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(path: Path, port: int) -> subprocess.Popen:
    """``chroma run`` on ``path`` and ``port``, once its heartbeat answers."""
    import httpx

    chroma = Path(sys.executable).parent / "chroma"
    proc = subprocess.Popen([str(chroma), "run", "--path", str(path), "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError("the chroma server did not start")


def collection_of(client):
    """A collection configured as the store's passages collection (cosine HNSW, no embedding function)."""
    return client.get_or_create_collection("scale", configuration={"hnsw": {"space": "cosine"}},
                                           embedding_function=None)


def add(collection, texts: list[str], vectors: np.ndarray, start: int, end: int, batch: int) -> float:
    """Add passages ``start:end``; return the seconds it took."""
    began = time.perf_counter()
    for lo in range(start, end, batch):
        hi = min(end, lo + batch)
        collection.add(ids=[f"p{i}" for i in range(lo, hi)], embeddings=vectors[lo:hi],
                       documents=texts[lo:hi],
                       metadatas=[{"article_id": f"a{i // 20}", "index": i % 20, "role": "body",
                                   "start": 0, "end": len(texts[i])} for i in range(lo, hi)])
    return time.perf_counter() - began


def retrieve(collection, lexical: LexicalIndex, vector: np.ndarray, question: str) -> tuple[float, ...]:
    """One hybrid retrieval as hybrid.py does it; the milliseconds of dense, lexical, fusion and all."""
    t0 = time.perf_counter()
    count = collection.count()  # the store asks for the count before every query
    got = collection.query(query_embeddings=[vector], n_results=min(DEPTH, count),
                           include=["documents", "metadatas", "distances"])
    dense = [(Passage(id=i, article_id=m["article_id"], index=m["index"], role=m["role"], text=d,
                      span=Span(start=m["start"], end=m["end"])), 1.0 - float(dist))
             for i, d, m, dist in zip(got["ids"][0], got["documents"][0], got["metadatas"][0],
                                      got["distances"][0], strict=True)]
    t1 = time.perf_counter()
    tokens = tokenize(question)
    weight = MAX_LEXICAL_WEIGHT * lexical.coverage(tokens)
    lexical_hits = lexical.search(tokens, DEPTH) if weight > 0 else []
    t2 = time.perf_counter()
    fuse(dense, lexical_hits, weight, 5)
    t3 = time.perf_counter()
    return ((t1 - t0) * 1000, (t2 - t1) * 1000, (t3 - t2) * 1000, (t3 - t0) * 1000)


def latency(collection, lexical: LexicalIndex, queries: np.ndarray, questions: list[str],
            reps: int) -> dict[str, float]:
    """p50/p95 over every question, median over ``reps`` repetitions."""
    for v, q in zip(queries[:5], questions[:5], strict=True):  # warm-up
        retrieve(collection, lexical, v, q)
    runs = []
    for _ in range(reps):
        rows = np.array([retrieve(collection, lexical, v, q)
                         for v, q in zip(queries, questions, strict=True)])
        runs.append({"dense p50": np.percentile(rows[:, 0], 50), "bm25 p50": np.percentile(rows[:, 1], 50),
                     "fuse p50": np.percentile(rows[:, 2], 50), "p50": np.percentile(rows[:, 3], 50),
                     "p95": np.percentile(rows[:, 3], 95)})
    return {key: statistics.median(r[key] for r in runs) for key in runs[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1k and 10k passages only")
    parser.add_argument("--reps", type=int, default=3, help="repetitions of the query set per figure")
    parser.add_argument("--questions", type=int, default=100, help="questions per repetition")
    parser.add_argument("--no-server", action="store_true", help="embedded Chroma only")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # progress lines show up when piped to a file
    sizes = SIZES[:2] if args.quick else SIZES

    import chromadb
    from chromadb.config import Settings as ChromaSettings

    settings = Settings(_env_file=None)
    started = time.perf_counter()
    embedder = Embedder(settings, progress=False)
    pool, questions = sentence_pool()
    questions = questions[:args.questions]
    pool_vectors = embedder.encode_documents(pool, batch_size=32)
    queries = np.vstack([embedder.encode_query(q) for q in questions])
    texts, vectors = build_corpus(pool, pool_vectors, sizes[-1])
    sample = list(range(0, sizes[-1], max(1, sizes[-1] // REAL_SAMPLE)))[:REAL_SAMPLE]
    real = embedder.encode_documents([texts[i] for i in sample], batch_size=16)
    agreement = np.sum(real * vectors[sample], axis=1)
    print(f"embedding backend {settings.embedding_backend}; {len(pool)} real sentence vectors, "
          f"{len(questions)} real query vectors, corpus of {len(texts)} passages "
          f"(built in {time.perf_counter() - started:.0f} s)")
    print(f"synthesised vs real passage vectors ({len(sample)} passages): cosine median "
          f"{np.median(agreement):.3f}, min {agreement.min():.3f}\n")
    del embedder

    root = Path(tempfile.mkdtemp(prefix="khabar-scale-"))
    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    modes = ["embedded"] + ([] if args.no_server else ["server"])
    results: dict[tuple[str, int], dict] = {}
    lexical_build: dict[int, tuple[float, float]] = {}
    for mode in modes:
        path = root / mode
        server = None
        if mode == "embedded":
            client = chromadb.PersistentClient(path=str(path), settings=chroma_settings)
        else:
            port = free_port()
            server = start_server(path, port)
            client = chromadb.HttpClient(host="127.0.0.1", port=port, settings=chroma_settings)
        try:
            collection = collection_of(client)
            batch = min(5_000, client.get_max_batch_size())
            done = 0
            for n in sizes:
                seconds = add(collection, texts, vectors, done, n, batch)
                rate = (n - done) / seconds
                done = n
                before = rss_mb()
                began = time.perf_counter()
                lexical = LexicalIndex(passages_of(texts[:n]))
                build_s = time.perf_counter() - began
                lexical_build.setdefault(n, (build_s, rss_mb() - before))
                figures = latency(collection, lexical, queries, questions, args.reps)
                memory = rss_mb() if server is None else rss_mb(server.pid)
                results[(mode, n)] = {"ingest/s": rate, "disk MB": folder_mb(path), "rss MB": memory,
                                      "client rss MB": rss_mb(), **figures}
                print(f"{mode:8} {n:>7,}: ingest {rate:,.0f}/s, disk {folder_mb(path):,.0f} MB, "
                      f"rss {memory:,.0f} MB, retrieval p50 {figures['p50']:.1f} ms "
                      f"p95 {figures['p95']:.1f} ms", flush=True)
                del lexical
        finally:
            if server is not None:
                server.terminate()
                server.wait(timeout=30)
    shutil.rmtree(root, ignore_errors=True)

    print("\n| Chroma | passages | ingest passages/s | index on disk MB | resident MB | dense p50 ms | "
          "BM25 p50 ms | fuse p50 ms | retrieval p50 ms | retrieval p95 ms |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for (mode, n), r in results.items():
        resident = f"{r['rss MB']:,.0f}" if mode == "embedded" else f"{r['rss MB']:,.0f} (server)"
        print(f"| {mode} | {n:,} | {r['ingest/s']:,.0f} | {r['disk MB']:,.0f} | {resident} | "
              f"{r['dense p50']:.1f} | {r['bm25 p50']:.1f} | {r['fuse p50']:.2f} | {r['p50']:.1f} | "
              f"{r['p95']:.1f} |")
    print("\n| passages | BM25 index build s | BM25 memory MB (approx.) |")
    print("| ---: | ---: | ---: |")
    for n, (seconds, memory) in lexical_build.items():
        print(f"| {n:,} | {seconds:.1f} | {memory:,.0f} |")


if __name__ == "__main__":
    main()
