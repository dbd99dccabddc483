"""The tuning and held-back halves of a suite: a seeded draw stratified by case kind and language.

Parameters (weights, thresholds, cue lists) are chosen on the ``tune`` half only; the ``held`` half is
reported next to it, so that a gain that exists only on the questions it was tuned on shows up as a gap.

The rule, reproducible from the suite alone: cases are grouped by (kind, expected language); inside a group
they are ordered by ``sha256(f"{seed}:{case id}")``, and the first ``n // 2`` are ``tune``, the rest ``held``
(an odd group gives its extra case to ``held``). Ordering by a seeded hash rather than shuffling keeps the
draw of a case independent of the other cases: adding a case moves at most one other case across.

``python -m assistant.evaluation.splits SUITE.jsonl`` writes the ``split`` field of every line (other fields
and the line order are kept); ``--check`` only reports whether the file matches the draw.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from assistant.evaluation.suites import Case, Split, load_suite

#: The seed of the shipped suite's draw (docs/evaluation.md).
SPLIT_SEED = 9


def _draw(seed: int, case_id: str) -> str:
    return hashlib.sha256(f"{seed}:{case_id}".encode()).hexdigest()


def assign_splits(cases: Sequence[Case], seed: int = SPLIT_SEED) -> dict[str, Split]:
    """``{case id: split}`` for every case, by the stratified seeded draw described in the module."""
    groups: dict[tuple[str, str], list[str]] = defaultdict(list)
    for case in cases:
        groups[(case.case_kind, case.expected_language)].append(case.id)
    splits: dict[str, Split] = {}
    for ids in groups.values():
        ordered = sorted(ids, key=lambda case_id: _draw(seed, case_id))
        half = len(ordered) // 2
        splits.update({case_id: "tune" for case_id in ordered[:half]})
        splits.update({case_id: "held" for case_id in ordered[half:]})
    return splits


def rewrite_splits(path: Path, seed: int = SPLIT_SEED) -> int:
    """Set the ``split`` field of every line of a JSONL suite; the number of lines changed."""
    suite = load_suite(path)
    if suite.problems:
        first = suite.problems[0]
        raise SystemExit(f"{path}: fix the suite first: {first.where}: {first.message}")
    splits = assign_splits(suite.cases, seed)
    by_line = {case.line: splits[case.id] for case in suite.cases}
    out, changed = [], 0
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            out.append(line)
            continue
        record = json.loads(line)
        if record.get("split") != by_line[number]:
            changed += 1
        record["split"] = by_line[number]
        out.append(json.dumps(record, ensure_ascii=False))
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return changed


def main(argv: Sequence[str] | None = None) -> int:
    """Write (or ``--check``) the split fields of a JSONL suite."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("suite", type=Path)
    parser.add_argument("--seed", type=int, default=SPLIT_SEED)
    parser.add_argument("--check", action="store_true",
                        help="Exit 1 if a case's split differs from the draw.")
    args = parser.parse_args(argv)
    if args.check:
        suite = load_suite(args.suite)
        expected = assign_splits(suite.cases, args.seed)
        wrong = [c.id for c in suite.cases if c.split != expected[c.id]]
        print(f"{len(wrong)} of {len(suite.cases)} cases differ from the draw (seed {args.seed})"
              + (f": {', '.join(wrong[:10])}" if wrong else ""))
        return 1 if wrong else 0
    changed = rewrite_splits(args.suite, args.seed)
    print(f"{args.suite}: {changed} split fields written (seed {args.seed})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
