"""Running a suite: building the :class:`Assistant` it needs, asking every case in every mode, summarising.

Modes: ``extractive`` (quotes the article; offline, fast) and ``generative`` (the local LLM writes the
answer from the retrieved passages; it starts llama.cpp on first use and takes seconds per question on a
2-core CPU, so a generative run of the shipped suite takes minutes). Several modes run the same cases on
one Assistant, and the report puts them side by side.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from assistant.errors import KhabarError, LLMUnavailable
from assistant.evaluation.results import (
    CaseResult,
    EvalReport,
    RunConfig,
    SuiteInfo,
    error_result,
    score_case,
    summarise,
)
from assistant.evaluation.suites import Case, Suite
from assistant.facade import Assistant
from assistant.retrieve.embeddings import Embedder
from assistant.settings import ANSWER_MODES, Settings, get_settings

log = logging.getLogger(__name__)

MODES = ANSWER_MODES
#: After this many consecutive "LLM unavailable" errors the remaining cases of the mode are skipped
#: rather than each waiting for the model server's timeout.
MAX_LLM_FAILURES = 3


class EvalUsageError(KhabarError):
    """A run cannot start as asked: unknown mode, bad k, missing corpus file."""

    code = "eval_usage"


def check_modes(modes: Sequence[str]) -> list[str]:
    """The modes in order without repeats; :class:`EvalUsageError` for an unknown one."""
    unknown = [mode for mode in modes if mode not in MODES]
    if unknown:
        raise EvalUsageError(f"unknown mode {unknown[0]!r}: use {' or '.join(MODES)}")
    return list(dict.fromkeys(modes))


def _digest(parts: Sequence[bytes]) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(hashlib.sha256(part).digest())
    return h.hexdigest()[:12]


def assistant_settings(suite: Suite, settings: Settings, corpus: Sequence[Path] = ()) -> Settings:
    """The settings of the Assistant a suite runs against.

    SQuAD contexts go into a collection of their own named after the file's digest (re-running the same
    file reuses it); a JSONL suite with ``corpus`` files gets a collection named after their contents;
    otherwise the app's own collection and corpus are used.
    """
    if suite.format == "squad":
        return settings.model_copy(update={"collection": f"squad_{suite.sha256[:12]}", "corpus": []})
    if corpus:
        missing = [str(p) for p in corpus if not Path(p).is_file()]
        if missing:
            raise EvalUsageError(f"no such corpus file: {', '.join(missing)}")
        name = f"eval_{_digest([Path(p).read_bytes() for p in corpus])}"
        return settings.model_copy(update={"collection": name, "corpus": [Path(p) for p in corpus]})
    return settings


def build_assistant(suite: Suite, settings: Settings | None = None, *, corpus: Sequence[Path] = (),
                    embedder: Embedder | None = None) -> Assistant:
    """An Assistant over the suite's corpus (SQuAD contexts, ``corpus`` files or the default article)."""
    settings = assistant_settings(suite, settings or get_settings(), corpus)
    if suite.format == "squad":
        assistant = Assistant(settings, embedder=embedder, ingest_corpus=False)
        if suite.contexts:
            assistant.ingest_articles(suite.contexts)
        return assistant
    return Assistant(settings, embedder=embedder)


def _progress(console: Console | None, enabled: bool) -> Progress:
    return Progress(SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(),
                    MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn(),
                    TextColumn("{task.fields[case]}"), console=console, disable=not enabled, transient=False)


def run_case(assistant: Assistant, case: Case, mode: str, k: int) -> CaseResult:
    """Ask one case in one mode and score the answer; an error becomes a failed case, not an exception."""
    try:
        answer = assistant.ask(case.question, case.history, mode=mode, language=case.language, k=k)
    except KhabarError as exc:
        return error_result(case, mode, f"{type(exc).__name__}: {exc}")
    except Exception as exc:  # a bug must not end a long run; it is reported per case and logged
        log.debug("case %s failed", case.id, exc_info=True)
        return error_result(case, mode, f"internal error: {type(exc).__name__}: {exc}")
    return score_case(case, answer, mode, k)


def run_cases(assistant: Assistant, cases: Sequence[Case], modes: Sequence[str], k: int, *,
              progress: Progress | None = None) -> tuple[list[CaseResult], dict[str, float]]:
    """Every case in every mode (mode after mode); the results and each mode's wall time in seconds."""
    results: list[CaseResult] = []
    wall: dict[str, float] = {}
    for mode in modes:
        task = progress.add_task(mode, total=len(cases), case="") if progress else None
        start = time.perf_counter()
        llm_failures = 0
        for case in cases:
            if progress is not None and task is not None:
                progress.update(task, case=case.id)
            if llm_failures >= MAX_LLM_FAILURES:
                results.append(error_result(case, mode, "skipped: the generative model is unavailable"))
            else:
                result = run_case(assistant, case, mode, k)
                # The generative answerer reports an unreachable model as a fallback with a note.
                unavailable = ((result.error or "").startswith(LLMUnavailable.__name__)
                               or result.fallback_reason == "llm_unavailable")
                llm_failures = llm_failures + 1 if unavailable else 0
                results.append(result)
            if progress is not None and task is not None:
                progress.advance(task)
        wall[mode] = round(time.perf_counter() - start, 3)
    return results, wall


def make_report(suite: Suite, assistant: Assistant, results: list[CaseResult], wall: dict[str, float], *,
                modes: Sequence[str], k: int, setup_seconds: float, started_at: str) -> EvalReport:
    """Summaries per mode and per language over the case results."""
    summary = {mode: summarise([r for r in results if r.mode == mode], wall.get(mode)) for mode in modes}
    languages = sorted({r.language for r in results})
    by_language = {lang: {mode: summarise([r for r in results if r.mode == mode and r.language == lang])
                          for mode in modes}
                   for lang in languages}
    settings = assistant.settings
    return EvalReport(
        suite=SuiteInfo(name=suite.name, path=suite.path, format=suite.format, sha256=suite.sha256,
                        cases=len(suite.cases), contexts=len(suite.contexts)),
        config=RunConfig(modes=list(modes), k=k, collection=settings.collection,
                         corpus=[str(p) for p in settings.corpus],
                         not_found_threshold=settings.not_found_threshold,
                         max_lexical_weight=assistant.retriever.max_lexical_weight,
                         embedding_model=settings.embedding_model, llm_model=settings.llm_model),
        started_at=started_at, setup_seconds=round(setup_seconds, 3), wall_seconds=wall, summary=summary,
        by_language=by_language, cases=results, problems=suite.problems,
    )


def evaluate(suite: Suite, settings: Settings | None = None, *, modes: Sequence[str] | None = None,
             k: int = 5, corpus: Sequence[Path] = (), embedder: Embedder | None = None,
             assistant: Assistant | None = None, show_progress: bool = True,
             console: Console | None = None) -> EvalReport:
    """Run ``suite`` and return its report.

    ``assistant`` reuses an existing Assistant (its corpus must be the suite's); otherwise one is built
    with ``embedder`` (pass one to share a loaded model between runs). Generative mode needs the local LLM
    (or ``KHABAR_LLM_BASE_URL``).
    """
    settings = settings or (assistant.settings if assistant else get_settings())
    modes = check_modes(modes or [settings.mode])
    if k < 1:
        raise EvalUsageError(f"k must be at least 1, not {k}")
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    start = time.perf_counter()
    owned = assistant is None
    if assistant is None:
        assistant = build_assistant(suite, settings, corpus=corpus, embedder=embedder)
    setup_seconds = time.perf_counter() - start
    try:
        with _progress(console, show_progress) as progress:
            results, wall = run_cases(assistant, suite.cases, modes, k, progress=progress)
        return make_report(suite, assistant, results, wall, modes=modes, k=k, setup_seconds=setup_seconds,
                           started_at=started_at)
    finally:
        if owned:
            assistant.close()
