"""Sweep the lexical fusion weight and the not-found threshold on a suite (default: the shipped one).

    .venv/bin/python bench/calibrate.py [SUITE] [--weights 0,0.3,0.5,0.7,1.0] [--thresholds 0.20:0.50:0.02]

Prints hit@1/hit@3/MRR and extractive must-include accuracy per lexical weight (0 = dense only), the cases
whose top passage changes between dense-only and the current default, and refusal precision/recall per
threshold. One Assistant is reused and each question is embedded once; nothing in settings.py changes.
Runs against the configured index (KHABAR_* settings), like `khabar eval`.
"""

from __future__ import annotations

import argparse
import sys

from rich.console import Console
from rich.table import Table

from assistant.evaluation.calibration import probe, sweep_thresholds, sweep_weights
from assistant.evaluation.report import fmt
from assistant.evaluation.suites import load_suite
from assistant.facade import Assistant
from assistant.retrieve.hybrid import MAX_LEXICAL_WEIGHT
from assistant.settings import PROJECT_ROOT, get_settings

console = Console()


def _floats(spec: str) -> list[float]:
    if ":" in spec:
        start, stop, step = (float(x) for x in spec.split(":"))
        count = round((stop - start) / step) + 1
        return [round(start + i * step, 4) for i in range(count)]
    return [float(x) for x in spec.split(",")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("suite", nargs="?", default=str(PROJECT_ROOT / "data" / "suites" / "article.jsonl"))
    parser.add_argument("--weights", default="0,0.3,0.5,0.7,1.0,1.5")
    parser.add_argument("--thresholds", default="0.20:0.50:0.02")
    parser.add_argument("--k", type=int, default=5)
    args = parser.parse_args(argv)

    suite = load_suite(args.suite)
    for problem in suite.problems:
        console.print(f"[yellow]skipped {problem.where}: {problem.message}")
    settings = get_settings()
    assistant = Assistant(settings, progress=True)
    console.print(f"{len(suite.cases)} cases; current defaults: not_found_threshold="
                  f"{settings.not_found_threshold}, MAX_LEXICAL_WEIGHT={MAX_LEXICAL_WEIGHT}")
    probes = probe(assistant, suite.cases)
    weights = sorted(set(_floats(args.weights)) | {0.0, MAX_LEXICAL_WEIGHT})
    by_weight = {w.weight: w for w in sweep_weights(assistant, probes, weights, k=args.k)}

    table = Table(title="retrieval per lexical weight (0 = dense only)")
    for column in ("weight", "hit@1", "hit@1 ar", "hit@1 en", "hit@3", "mrr", "must_include (extractive)"):
        table.add_column(column, justify="right")
    for w in by_weight.values():
        table.add_row(f"{w.weight:g}" + (" *" if w.weight == MAX_LEXICAL_WEIGHT else ""), fmt(w.hit_at_1),
                      fmt(w.hit_at_1_by_language.get("ar")), fmt(w.hit_at_1_by_language.get("en")),
                      fmt(w.hit_at_3), fmt(w.mrr), fmt(w.must_include_accuracy))
    console.print(table)

    thresholds = _floats(args.thresholds)
    if settings.not_found_threshold not in thresholds:
        thresholds = sorted([*thresholds, settings.not_found_threshold])
    table = Table(title=f"refusals per not-found threshold (lexical weight {MAX_LEXICAL_WEIGHT})")
    for column in ("threshold", "precision", "recall", "F1", "answerable refused"):
        table.add_column(column, justify="right")
    rows = sweep_thresholds(probes, by_weight[MAX_LEXICAL_WEIGHT].best_dense, thresholds)
    for t in rows:
        mark = " *" if t.threshold == settings.not_found_threshold else ""
        table.add_row(f"{t.threshold:.2f}{mark}", fmt(t.refusal_precision), fmt(t.refusal_recall),
                      fmt(t.refusal_f1), str(t.false_refusals))
    console.print(table)

    best_dense = by_weight[MAX_LEXICAL_WEIGHT].best_dense
    answerable = sorted(best_dense[p.case.id] for p in probes if p.case.answerable)
    unanswerable = sorted((best_dense[p.case.id], p.case.id) for p in probes if not p.case.answerable)
    console.print(f"lowest best-dense of an answerable case: {answerable[0]:.3f}" if answerable else "")
    console.print("unanswerable cases' best dense: " + ", ".join(f"{i} {s:.3f}" for s, i in unanswerable))
    safe = [t for t in rows if t.false_refusals == 0]
    if safe:
        top = max(safe, key=lambda t: (t.refusal_recall or 0, t.threshold))
        console.print(f"highest recall without refusing an answerable case: threshold {top.threshold:.2f} "
                      f"(recall {fmt(top.refusal_recall)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
