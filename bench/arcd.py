"""Retrieval and answers on ARCD (Arabic reading comprehension, SQuAD v1.1), once per passage ranking.

    .venv/bin/python bench/arcd.py [--rankings dense,hybrid] [--paragraphs N] [--json artifacts/arcd.json]

ARCD's training split (231 paragraphs, 693 questions, MIT licence) is data nobody on this project wrote;
it is read from ``../shared/data/arcd-train.json`` next to the repository (``PROJECT_ROOT.parent / "shared" /
"data"``), or from the file named by ``ARCD_PATH``, and never copied into the repository. When it is absent
the benchmark says so and exits 0 (a skip, not a failure).

Each ranking in ``assistant.settings.RANKINGS`` (``KHABAR_RANKING``) runs the same questions through
``khabar eval``'s runner in extractive mode, on one collection (``squad_<digest>``, in the configured
index folder) embedded once: the first run embeds every paragraph (about 10 minutes on a 2-core CPU), later
runs reuse it. Reported per ranking: hit@1/3/5 and MRR (a hit is any passage of the question's own
paragraph), top_passage_contains_reference (the first passage, of any paragraph, contains a reference answer:
DPR's top-1 accuracy), answer_contains_reference (the quoted answer contains one of ARCD's reference answers
as whole words), answering_words_contain_reference (so do the highlighted answering words), the share of
these answerable questions that were refused, and latency.
``--paragraphs N`` keeps the first N paragraphs (and their questions) for a quick run, in a collection of
its own.

``--translations FILE`` asks the questions of FILE instead (JSON lines ``{"id", "question"}``, e.g. the
hand translations of ``bench/data/arcd-train-en.jsonl``) against the same paragraphs and references: the
cross-language case of an English reader and an Arabic article, which no dataset here covers. Only the
translated questions are asked; ``--original`` asks those same questions in ARCD's Arabic, so that the two
runs differ by the language of the question alone.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

from assistant.evaluation.report import fmt
from assistant.evaluation.runner import evaluate
from assistant.evaluation.suites import Suite, load_suite
from assistant.retrieve.embeddings import Embedder
from assistant.settings import PROJECT_ROOT, RANKINGS, Settings, get_settings

#: Where ARCD is looked for: the shared data folder next to the repository.
DEFAULT_PATH = PROJECT_ROOT.parent / "shared" / "data" / "arcd-train.json"
#: Environment variable naming another copy of the file.
PATH_ENV = "ARCD_PATH"
#: Metrics of the table, in order (keys of the eval summary).
METRICS = ("cases", "hit@1", "hit@3", "hit@5", "mrr", "top_passage_contains_reference",
           "answer_contains_reference", "answering_words_contain_reference", "f1", "refused",
           "latency_p50_ms", "latency_p95_ms", "throughput_qps")


def arcd_path() -> Path:
    """The ARCD file to read: ``$ARCD_PATH`` if set, else ``../shared/data/arcd-train.json``."""
    override = os.environ.get(PATH_ENV)
    return Path(override) if override else DEFAULT_PATH


def first_paragraphs(suite: Suite, count: int) -> Suite:
    """The suite cut to its first ``count`` paragraphs and their questions (a collection of its own)."""
    contexts = suite.contexts[:count]
    kept = {c.id for c in contexts}
    cases = [c for c in suite.cases if set(c.evidence_articles) <= kept]
    digest = hashlib.sha256(f"{suite.sha256}:{count}".encode()).hexdigest()
    return suite.model_copy(update={"contexts": contexts, "cases": cases, "sha256": digest})


def read_translations(path: Path) -> dict[str, str]:
    """``{question id: question}`` from a JSON-lines file of ``{"id", "question"}`` records."""
    translations: dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        record = json.loads(line)
        if not isinstance(record, dict) or not str(record.get("id", "")).strip():
            raise ValueError(f"{path}:{number}: no id")
        if not isinstance(record.get("question"), str) or not record["question"].strip():
            raise ValueError(f"{path}:{number}: no question")
        if str(record["id"]) in translations:
            raise ValueError(f"{path}:{number}: id {record['id']} is translated twice")
        translations[str(record["id"])] = record["question"].strip()
    return translations


def translated(suite: Suite, translations: dict[str, str], *, original: bool = False) -> Suite:
    """The cases of ``suite`` that ``translations`` has, asked in translation (or, ``original``, as
    written). The paragraphs, and so the embedded collection, are unchanged; an id the suite does not have
    is an error (a translation file for another dataset)."""
    known = {c.id for c in suite.cases}
    stray = sorted(set(translations) - known)
    if stray:
        raise ValueError(f"{len(stray)} translated ids are not questions of {suite.name}: {stray[:3]}")
    cases = [c if original else c.model_copy(update={"question": translations[c.id], "language": None})
             for c in suite.cases if c.id in translations]
    return suite.model_copy(update={"cases": cases})


def run(path: Path, settings: Settings, *, rankings: list[str], embedder: Embedder,
        paragraphs: int | None = None, translations: dict[str, str] | None = None, original: bool = False,
        progress: bool = True, console: Console | None = None) -> dict:
    """Evaluate ``path`` once per ranking; ``{ranking: summary dict}`` plus the run's description."""
    suite = load_suite(path)
    if translations is not None:
        suite = translated(suite, translations, original=original)
    if paragraphs:
        suite = first_paragraphs(suite, paragraphs)
    results: dict[str, dict] = {}
    for ranking in rankings:
        report = evaluate(suite, settings.model_copy(update={"ranking": ranking}), modes=["extractive"],
                          embedder=embedder, show_progress=progress, console=console)
        summary = report.summary["extractive"].model_dump(by_alias=True)
        refused = summary["answer_modes"].get("not_found", 0)
        summary["refused"] = round(refused / summary["cases"], 4) if summary["cases"] else None
        summary["setup_seconds"] = report.setup_seconds
        results[ranking] = summary
    # Which questions were asked: ARCD's own, or a translation file's (translated, or the same in Arabic).
    asked = "all" if translations is None else ("original" if original else "translated")
    return {"suite": str(path), "sha256": suite.sha256, "questions_asked": asked,
            "paragraphs": len(suite.contexts), "questions": len(suite.cases), "problems": len(suite.problems),
            "rankings": results}


def markdown(result: dict) -> str:
    """The README table: one row per metric, one column per ranking."""
    rankings = list(result["rankings"])
    lines = ["| metric | " + " | ".join(rankings) + " |", "| --- |" + " ---: |" * len(rankings)]
    for key in METRICS:
        lines.append(f"| {key} | " + " | ".join(fmt(result["rankings"][r].get(key)) for r in rankings) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None, *, settings: Settings | None = None,
         embedder: Embedder | None = None) -> int:
    """Run the benchmark; 0 also when ARCD is absent (a skip, with the reason printed)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rankings", default=",".join(RANKINGS),
                        help=f"comma-separated rankings (default: all of {', '.join(RANKINGS)})")
    parser.add_argument("--paragraphs", type=int, default=None, help="keep the first N paragraphs only")
    parser.add_argument("--translations", type=Path, default=None,
                        help="ask these questions instead (JSON lines of {id, question}), only these")
    parser.add_argument("--original", action="store_true",
                        help="with --translations: ask the same questions as ARCD wrote them")
    parser.add_argument("--json", type=Path, default=None, help="write the results as JSON")
    parser.add_argument("--quiet", action="store_true", help="no progress")
    args = parser.parse_args(argv)
    if args.original and not args.translations:
        parser.error("--original asks the translated questions as ARCD wrote them: give --translations too")
    console = Console(stderr=True)
    out = Console()

    path = arcd_path()
    if not path.is_file():
        out.print(f"ARCD skipped: {path} not found. Put arcd-train.json in ../shared/data/ next to the "
                  f"repository or set {PATH_ENV} to the file.", highlight=False, soft_wrap=True)
        return 0
    rankings = [r.strip() for r in args.rankings.split(",") if r.strip()]
    unknown = [r for r in rankings if r not in RANKINGS]
    if unknown:
        out.print(f"unknown ranking {unknown[0]!r}: use {', '.join(RANKINGS)}", highlight=False,
                  soft_wrap=True)
        return 2

    translations = read_translations(args.translations) if args.translations else None
    # Every ranking asks the same questions: without KHABAR_QUERY_CACHE_SIZE=0 the second and third rankings
    # would reuse the first one's question vectors and their latencies would not compare.
    settings = (settings or get_settings()).model_copy(update={"query_cache_size": 0})
    embedder = embedder or Embedder(settings, progress=not args.quiet)
    result = run(path, settings, rankings=rankings, embedder=embedder, paragraphs=args.paragraphs,
                 translations=translations, original=args.original, progress=not args.quiet, console=console)

    table = Table(title=f"ARCD {path.name}: {result['questions']} questions over {result['paragraphs']} "
                        "paragraphs, extractive, k=5")
    table.add_column("metric", no_wrap=True)
    for ranking in rankings:
        table.add_column(ranking, justify="right")
    for key in METRICS:
        table.add_row(key, *(fmt(result["rankings"][r].get(key)) for r in rankings))
    out.print(table)
    out.print(markdown(result), highlight=False, soft_wrap=True)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        out.print(f"json: {args.json}", highlight=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
