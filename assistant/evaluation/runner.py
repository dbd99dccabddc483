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

from assistant.errors import KhabarError, LLMUnavailable
from assistant.evaluation.progress import CaseProgress
from assistant.evaluation.results import (
    CaseResult,
    EvalReport,
    RunConfig,
    SuiteInfo,
    breakdowns,
    error_result,
    link_alone,
    score_case,
    summarise,
)
from assistant.evaluation.suites import SPLITS, Case, Split, Suite
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
        # "t": contexts titled after their entry (earlier collections titled them by their first line, and an
        # unchanged text is not written again).
        return settings.model_copy(update={"collection": f"squad_t{suite.sha256[:12]}", "corpus": []})
    if corpus:
        missing = [str(p) for p in corpus if not Path(p).is_file()]
        if missing:
            raise EvalUsageError(f"no such corpus file: {', '.join(missing)}")
        name = f"eval_{_digest([Path(p).read_bytes() for p in corpus])}"
        return settings.model_copy(update={"collection": name, "corpus": [Path(p) for p in corpus]})
    return settings


def build_assistant(suite: Suite, settings: Settings | None = None, *, corpus: Sequence[Path] = (),
                    embedder: Embedder | None = None, progress: bool = False) -> Assistant:
    """An Assistant over the suite's corpus (SQuAD contexts, ``corpus`` files or the default article).

    ``progress`` is passed to the Assistant, which shows the embedding of what it ingests.
    """
    settings = assistant_settings(suite, settings or get_settings(), corpus)
    if suite.format == "squad":
        assistant = Assistant(settings, embedder=embedder, ingest_corpus=False, progress=progress)
        if suite.contexts:
            assistant.ingest_articles(suite.contexts)
        return assistant
    return Assistant(settings, embedder=embedder, progress=progress)


def select_split(suite: Suite, split: Split | None) -> Suite:
    """The suite with only the cases of one half (``tune`` or ``held``); the whole suite for None."""
    if split is None:
        return suite
    if split not in SPLITS:
        raise EvalUsageError(f"unknown split {split!r}: use {' or '.join(SPLITS)}")
    cases = [c for c in suite.cases if c.split == split]
    if not cases:
        raise EvalUsageError(f"{suite.name} has no case in split {split!r} (cases need a `split` field)")
    return suite.model_copy(update={"cases": cases})


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
              progress: CaseProgress | None = None) -> tuple[list[CaseResult], dict[str, float]]:
    """Every case in every mode (mode after mode); the results and each mode's wall time in seconds."""
    results: list[CaseResult] = []
    wall: dict[str, float] = {}
    for mode in modes:
        if progress is not None:
            progress.start(mode, len(cases))
        start = time.perf_counter()
        llm_failures = 0
        for case in cases:
            if progress is not None:
                progress.current(case.id)
            if llm_failures >= MAX_LLM_FAILURES:
                results.append(error_result(case, mode, "skipped: the generative model is unavailable"))
            else:
                result = run_case(assistant, case, mode, k)
                # The generative answerer reports an unreachable model as a fallback with a note.
                unavailable = ((result.error or "").startswith(LLMUnavailable.__name__)
                               or result.fallback_reason == "llm_unavailable")
                llm_failures = llm_failures + 1 if unavailable else 0
                results.append(result)
            if progress is not None:
                progress.advance()
        wall[mode] = round(time.perf_counter() - start, 3)
    return results, wall


def make_report(suite: Suite, assistant: Assistant, results: list[CaseResult], wall: dict[str, float], *,
                modes: Sequence[str], k: int, setup_seconds: float, started_at: str,
                split: Split | None = None) -> EvalReport:
    """Summaries per mode, and per language, split (tune/held) and case kind, over the case results."""
    link_alone(results)
    summary = {mode: summarise([r for r in results if r.mode == mode], wall.get(mode)) for mode in modes}
    settings = assistant.settings
    return EvalReport(
        suite=SuiteInfo(name=suite.name, path=suite.path, format=suite.format, sha256=suite.sha256,
                        cases=len(suite.cases), contexts=len(suite.contexts)),
        config=RunConfig(modes=list(modes), split=split, k=k, ranking=settings.ranking,
                         collection=settings.collection,
                         corpus=[str(p) for p in settings.corpus],
                         not_found_threshold=settings.not_found_threshold,
                         max_lexical_weight=assistant.retriever.max_lexical_weight,
                         embedding_model=settings.embedding_model, llm_model=settings.llm_model),
        started_at=started_at, setup_seconds=round(setup_seconds, 3), wall_seconds=wall, summary=summary,
        **breakdowns(results, modes), cases=results, problems=suite.problems,
    )


def evaluate(suite: Suite, settings: Settings | None = None, *, modes: Sequence[str] | None = None,
             k: int = 5, corpus: Sequence[Path] = (), embedder: Embedder | None = None,
             assistant: Assistant | None = None, show_progress: bool = True,
             console: Console | None = None, split: Split | None = None) -> EvalReport:
    """Run ``suite`` (or only its ``split`` half) and return its report.

    ``assistant`` reuses an existing Assistant (its corpus must be the suite's); otherwise one is built
    with ``embedder`` (pass one to share a loaded model between runs). Generative mode needs the local LLM
    (or ``KHABAR_LLM_BASE_URL``). ``show_progress`` shows ingest and questions answered (a bar on a
    terminal, a few plain lines otherwise).
    """
    settings = settings or (assistant.settings if assistant else get_settings())
    modes = check_modes(modes or [settings.mode])
    if k < 1:
        raise EvalUsageError(f"k must be at least 1, not {k}")
    suite = select_split(suite, split)
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    start = time.perf_counter()
    owned = assistant is None
    if assistant is None:
        assistant = build_assistant(suite, settings, corpus=corpus, embedder=embedder,
                                    progress=show_progress)
    setup_seconds = time.perf_counter() - start
    try:
        with CaseProgress(console, enabled=show_progress) as progress:
            results, wall = run_cases(assistant, suite.cases, modes, k, progress=progress)
        return make_report(suite, assistant, results, wall, modes=modes, k=k, setup_seconds=setup_seconds,
                           started_at=started_at, split=split)
    finally:
        if owned:
            assistant.close()
