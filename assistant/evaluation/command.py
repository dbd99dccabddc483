"""The ``khabar eval`` command.

Exit codes: 0 all gates passed, 1 a ``--min`` gate failed (or the models could not load), 2 a usage error
(missing suite or corpus file, unknown mode, malformed gate, a suite without a single valid case).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from assistant.errors import KhabarError

SuiteArgument = Annotated[Path, typer.Argument(
    help="A JSONL suite (.jsonl, one case a line) or a SQuAD v1.1/v2.0 file (.json).", show_default=False)]
CorpusOption = Annotated[list[Path] | None, typer.Option(
    "--corpus", "-c", help="Article files a JSONL suite runs against (default: the configured corpus).")]
ModesOption = Annotated[list[str] | None, typer.Option(
    "--mode", "-m", help="extractive or generative; repeat for side-by-side columns (default: settings).")]
KOption = Annotated[int, typer.Option("--k", "-k", help="Passages retrieved per question.")]
ReportOption = Annotated[Path | None, typer.Option(
    "--report", help="Write a readable report: HTML, or Markdown if the name ends in .md.")]
JsonOption = Annotated[Path | None, typer.Option(
    "--json", help="Write every metric and every case as JSON ('-' for standard output).")]
MinOption = Annotated[list[str] | None, typer.Option(
    "--min", help="Gate as [MODE:]METRIC=VALUE, e.g. hit@1=0.8; exit 1 when a metric is below (or null).")]
QuietOption = Annotated[bool, typer.Option(
    "--quiet", "-q", help="No progress (a bar on a terminal, a few count lines otherwise).")]
SplitOption = Annotated[str | None, typer.Option(
    "--split", help="Run only one half of the suite: tune or held (cases' `split` field).",
    show_default=False)]


class Gate:
    """A parsed ``--min`` option."""

    def __init__(self, spec: str, metrics: set[str]) -> None:
        target, sep, value = spec.partition("=")
        mode, colon, metric = target.strip().rpartition(":")
        if not sep or not metric:
            raise ValueError(f"bad --min {spec!r}: write METRIC=VALUE or MODE:METRIC=VALUE")
        if metric not in metrics:
            known = ", ".join(sorted(metrics))
            raise ValueError(f"bad --min {spec!r}: unknown metric {metric!r} (known: {known})")
        try:
            self.minimum = float(value)
        except ValueError:
            raise ValueError(f"bad --min {spec!r}: {value!r} is not a number") from None
        self.mode = mode if colon else None
        self.metric = metric


def gate_metrics() -> set[str]:
    """Names a gate may use: the numeric keys of a summary."""
    from assistant.evaluation.results import Summary

    fields = Summary.model_fields
    return {field.alias or name for name, field in fields.items()
            if name not in ("latency_by_stage_ms", "answer_modes") and not field.exclude}


def check_gates(report, gates: list[Gate]) -> list:
    """Evaluate the gates against the report's per-mode summaries (and record them in the report)."""
    from assistant.evaluation.results import GateResult

    results = []
    for gate in gates:
        for mode, summary in report.summary.items():
            if gate.mode and gate.mode != mode:
                continue
            value = summary.model_dump(by_alias=True).get(gate.metric)
            passed = value is not None and value >= gate.minimum
            results.append(GateResult(mode=mode, metric=gate.metric, minimum=gate.minimum, value=value,
                                      passed=passed))
    report.gates = results
    return results


def unwritable(path: Path) -> str | None:
    """Why ``path`` cannot be written as a report file (a folder, or under something that is not a writable
    folder), else None. Its missing parent folders are made when the report is written."""
    if path.is_dir():
        return f"{path} is a folder: give a file name"
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        return f"cannot write {path}: {parent} is not a folder"
    if not os.access(parent if not path.exists() else path, os.W_OK):
        return f"cannot write {path}: permission denied"
    return None


def load_settings():
    """The settings the command runs with (a seam for tests)."""
    from assistant.settings import get_settings

    return get_settings()


def load_embedder(settings):
    """The embedding model, loaded once per run and shared by the Assistant (a seam for tests)."""
    from assistant.retrieve.embeddings import Embedder

    return Embedder(settings, progress=True)


def eval_command(
    suite: SuiteArgument,
    corpus: CorpusOption = None,
    mode: ModesOption = None,
    k: KOption = 5,
    report: ReportOption = None,
    json_out: JsonOption = None,
    minimum: MinOption = None,
    quiet: QuietOption = False,
    split: SplitOption = None,
) -> None:
    """Score the assistant on a question-answer suite (JSONL or SQuAD) and gate on the metrics.

    Every metric is reported for the whole suite and, side by side, for its tune and held halves.
    Generative mode runs the local LLM (minutes for the shipped suite on a 2-core CPU).
    """
    to_stdout = json_out is not None and str(json_out) == "-"
    out = Console(stderr=to_stdout)
    err = Console(stderr=True)

    def fail(message: str, code: int) -> None:
        err.print(f"[red]error:[/red] {message}", highlight=False)
        raise typer.Exit(code)

    from assistant.evaluation.runner import EvalUsageError, check_modes, evaluate, select_split
    from assistant.evaluation.suites import load_suite

    try:
        modes = check_modes(mode or [])
        gates = [Gate(spec, gate_metrics()) for spec in (minimum or [])]
    except (EvalUsageError, ValueError) as exc:
        fail(str(exc), 2)
    if k < 1:
        fail(f"--k must be at least 1, not {k}", 2)
    for gate in gates:
        if gate.mode and modes and gate.mode not in modes:
            fail(f"--min names mode {gate.mode!r}, which is not run", 2)
    for out_path in (report, None if to_stdout else json_out):
        if out_path is not None and (problem := unwritable(out_path)):
            fail(problem, 2)  # before a run of minutes whose results could not be kept
    missing = [str(p) for p in (corpus or []) if not p.is_file()]
    if missing:
        fail(f"no such corpus file: {', '.join(missing)}", 2)

    try:
        loaded = load_suite(suite)
    except KhabarError as exc:
        fail(str(exc), 2)
    for problem in loaded.problems:
        err.print(f"[yellow]warning:[/yellow] {loaded.name} {problem.where}: {problem.message}",
                  highlight=False)
    if not loaded.cases:
        fail(f"{loaded.name}: no valid case to run", 2)
    try:
        select_split(loaded, split)  # checked before the model loads
    except EvalUsageError as exc:
        fail(str(exc), 2)
    if corpus and loaded.format == "squad":
        err.print("[yellow]warning:[/yellow] --corpus is ignored for a SQuAD file: its contexts are the "
                  "corpus")

    try:
        settings = load_settings()
        embedder = load_embedder(settings)
        result = evaluate(loaded, settings, modes=modes or None, k=k, corpus=corpus or [], embedder=embedder,
                          show_progress=not quiet, console=err, split=split)
    except EvalUsageError as exc:
        fail(str(exc), 2)
    except KhabarError as exc:
        fail(str(exc), 1)

    from assistant.evaluation.report import (
        kind_table,
        language_table,
        summary_table,
        write_json,
        write_report,
    )

    gate_results = check_gates(result, gates)
    out.print(summary_table(result))
    if len(result.by_language) > 1 or result.by_split:
        out.print(language_table(result))
    if len(result.by_kind) > 1:
        out.print(kind_table(result))
    try:
        if report is not None:
            write_report(result, report)
            out.print(f"report: {report}")
        if json_out is not None:
            if to_stdout:
                sys.stdout.write(json.dumps(result.to_json(), ensure_ascii=False, indent=2) + "\n")
            else:
                write_json(result, json_out)
                out.print(f"json: {json_out}")
    except OSError as exc:  # checked before the run; the disk may still fill up or a folder vanish
        fail(f"could not write {exc.filename or 'the report'}: {exc.strerror or exc}", 1)
    failed = [g for g in gate_results if not g.passed]
    for g in gate_results:
        mark = "[green]ok[/green]" if g.passed else "[red]FAILED[/red]"
        value = "null" if g.value is None else f"{g.value:.4g}"
        out.print(f"gate {g.mode}:{g.metric} >= {g.minimum}: {value} {mark}", highlight=False)
    if failed:
        raise typer.Exit(1)
