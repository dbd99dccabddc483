"""Scoring the assistant on question-answer suites (``khabar eval``).

``load_suite(path)`` reads a JSONL or SQuAD file into typed cases, ``evaluate(suite, settings)`` runs them
through the :class:`~assistant.facade.Assistant` and returns an :class:`EvalReport`; ``report`` renders it.
The metric definitions are in ``metrics`` and docs/evaluation.md.
"""

from assistant.evaluation.results import CaseResult, EvalReport, Summary
from assistant.evaluation.runner import MODES, EvalUsageError, build_assistant, evaluate
from assistant.evaluation.suites import Case, Suite, SuiteError, SuiteProblem, load_suite

__all__ = ["MODES", "Case", "CaseResult", "EvalReport", "EvalUsageError", "Suite", "SuiteError",
           "SuiteProblem", "Summary", "build_assistant", "evaluate", "load_suite"]
