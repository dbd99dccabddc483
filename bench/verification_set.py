"""Verification of generated answers, measured as a classifier on a labelled set.

    .venv/bin/python bench/verification_set.py [SET] [--no-similarity]   # data/verification/answers.jsonl
    .venv/bin/python bench/verification_set.py data/verification/held.jsonl  # the held-back set
    .venv/bin/python bench/verification_set.py --generate [--out artifacts/verification-generated.jsonl]

The set (``data/verification/answers.jsonl``, one answer a line) holds generated answers about the default
article, each with the question, the numbered passages the model was given (ids, texts, dense scores), the
raw answer with its ``[n]`` markers, and a label read off the passages by a person: ``correct`` (every
claim is what the cited words say), ``wrong`` (a claim the passages contradict or do not make), ``empty``
(no words beyond markers, or nothing that answers). Sources: the local model's real answers
(``--generate``) and hand-written wrong variants of right answers (``source``: ``local-model`` or
``hand-written``).

Without ``--generate``, the current :func:`assistant.answer.verification.verify` runs over every answer as the
generative answerer calls it (question, language, ``confident`` from the best dense score against the
not-found threshold, and the embedding similarity for cross-language support unless ``--no-similarity``),
and the script prints precision and recall of "verified" (a verified answer is one shown to the user as
generative) against the label ``correct``, the confusion table, and every wrong or empty answer that was
verified.

``--generate`` asks the local model (``KHABAR_LLM_*`` settings; about 10 s an answer on a 2-core CPU) the
questions in ``QUESTIONS`` over the passages the hybrid retriever returns for them, and writes unlabelled
records to label by hand before they join the set.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from assistant.answer.answerability import threshold_for
from assistant.answer.verification import verify
from assistant.schemas import Passage, ScoredPassage, Span
from assistant.settings import PROJECT_ROOT, get_settings

DEFAULT_SET = PROJECT_ROOT / "data" / "verification" / "answers.jsonl"
#: Written before the rules of the fourth session and never tuned on (see bench/README.md).
HELD_SET = PROJECT_ROOT / "data" / "verification" / "held.jsonl"
LABELS = ("correct", "wrong", "empty")
#: Passages given to the model, as the generative answerer does (MAX_PROMPT_PASSAGES).
PROMPT_PASSAGES = 5
#: Suite cases whose questions are put to the local model by --generate (self-contained, both languages,
#: the issue's failing examples, a few the article does not answer).
QUESTIONS = (
    "en-guarantors", "ar-guarantors", "en-guarantors-p1", "ar-guarantors-p2", "en-why-unannounced",
    "en-why-unannounced-p1", "ar-why-unannounced-p1", "en-opposition", "ar-opposition", "en-opposition-p2",
    "en-ships-number", "ar-ships-number-p1", "en-missiles-ships", "en-absent", "ar-absent",
    "en-mediator", "ar-mediator-p2", "en-spokesman", "en-where-meet", "ar-where-meet", "en-when-announced",
    "en-intervention", "ar-intervention-p1", "en-ninth-round-p1", "en-putin-congratulates",
    "en-assad-congratulates", "ar-assad-congratulates", "en-s300-why", "en-russia-role", "en-gains",
    "en-meeting-tone-p1", "en-purpose", "ar-astana-result", "en-na-ontopic-01", "ar-na-ontopic-01",
    "en-na-ontopic-02",
)


@dataclass
class Outcome:
    """One labelled answer and what verification said of it."""

    id: str
    label: str
    verified: bool
    declined: bool
    reason: str | None
    answer: str


@dataclass
class Scores:
    """Verification as a classifier of "correct": confusion counts and precision/recall of verified."""

    confusion: dict[str, Counter] = field(default_factory=dict)
    precision: float | None = None
    recall: float | None = None
    verified: int = 0
    total: int = 0


def load_set(path: Path) -> list[dict]:
    """The labelled answers (one JSON object a line)."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def scored_passages(record: dict) -> list[ScoredPassage]:
    """The passages of a record as the verifier receives them (numbered in order from 1)."""
    out = []
    for index, p in enumerate(record["passages"]):
        passage = Passage(id=p["passage_id"], article_id=p["passage_id"].split("#")[0], index=index,
                          role="body", text=p["text"], span=Span(start=0, end=len(p["text"])))
        out.append(ScoredPassage(passage=passage, score=p.get("score", 0.0),
                                 dense_score=p.get("dense_score")))
    return out


def embedding_similarity(embedder):
    """Cosine similarities sentence × passage with the embedding model, as the generative answerer passes
    to ``verify`` for its cross-language check (question-side prompt for sentences, document side for
    passages)."""

    def similarity(sentences: list[str], passages: list[str]) -> np.ndarray:
        queries = np.stack([embedder.encode_query(s) for s in sentences])
        documents = np.asarray(embedder.encode_documents(passages))
        return queries @ documents.T

    return similarity


def embedding_word_similarity(embedder):
    """Cosine similarities word × word, both embedded as documents (as the generative answerer does)."""
    cache: dict[str, np.ndarray] = {}

    def vectors(words: list[str]) -> np.ndarray:
        missing = [w for w in dict.fromkeys(words) if w not in cache]
        if missing:
            cache.update(zip(missing, embedder.encode_documents(missing), strict=True))
        return np.stack([cache[w] for w in words])

    def similarity(left: list[str], right: list[str]) -> np.ndarray:
        return vectors(left) @ vectors(right).T

    return similarity


def classify(records: list[dict], *, threshold: float, similarity=None,
             word_similarity=None, every_word: bool = True) -> list[Outcome]:
    """Run the current ``verify`` over every record."""
    outcomes = []
    for record in records:
        passages = scored_passages(record)
        best = max((p.dense_score or 0.0 for p in passages), default=0.0)
        checked = verify(record["answer"], passages, record["language"], question=record["question"],
                         confident=best >= threshold_for(threshold, record["question"],
                                                         passages[0].passage.text if passages else None),
                         similarity=similarity,
                         word_similarity=word_similarity, every_word=every_word)
        outcomes.append(Outcome(id=record["id"], label=record["label"], verified=checked.ok,
                                declined=checked.declined, reason=checked.reason, answer=record["answer"]))
    return outcomes


def score(outcomes: list[Outcome]) -> Scores:
    """Precision of verified (share labelled correct) and recall (share of correct ones verified)."""
    confusion = {label: Counter() for label in LABELS}
    for o in outcomes:
        confusion[o.label]["verified" if o.verified else "rejected"] += 1
    verified = sum(c["verified"] for c in confusion.values())
    correct = sum(confusion["correct"].values())
    return Scores(confusion=confusion, verified=verified, total=len(outcomes),
                  precision=confusion["correct"]["verified"] / verified if verified else None,
                  recall=confusion["correct"]["verified"] / correct if correct else None)


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def report(outcomes: list[Outcome], console: Console) -> Scores:
    """Print the confusion table, precision/recall and the wrong or empty answers that passed."""
    scores = score(outcomes)
    table = Table(title=f"verify() on {scores.total} labelled answers")
    for column in ("label", "answers", "verified", "rejected"):
        table.add_column(column, justify="right")
    for label in LABELS:
        c = scores.confusion[label]
        table.add_row(label, str(c.total()), str(c["verified"]), str(c["rejected"]))
    console.print(table)
    hits = scores.confusion["correct"]["verified"]
    console.print(f"precision of verified: {_fmt(scores.precision)} ({hits}/{scores.verified}); "
                  f"recall: {_fmt(scores.recall)}", highlight=False)
    leaks = [o for o in outcomes if o.verified and o.label != "correct"]
    if leaks:
        console.print(f"{len(leaks)} wrong or empty answers verified:", highlight=False)
        for o in leaks:
            console.print(f"  {o.id} ({o.label}): {o.answer[:140]}", highlight=False, soft_wrap=True)
    return scores


def generate(out: Path, console: Console, limit: int | None = None) -> int:
    """Ask the local model the :data:`QUESTIONS` and write unlabelled records to ``out``."""
    from assistant.evaluation.suites import load_suite
    from assistant.facade import Assistant

    settings = get_settings()
    cases = {c.id: c for c in load_suite(PROJECT_ROOT / "data" / "suites" / "article.jsonl").cases}
    ids = [i for i in QUESTIONS if i in cases][:limit]
    assistant = Assistant(settings, progress=True)
    generator = assistant.generator()
    records = []
    try:
        for n, case_id in enumerate(ids, 1):
            case = cases[case_id]
            language = case.expected_language
            ranked = assistant.retrieve(case.question)[:PROMPT_PASSAGES]
            start = time.perf_counter()
            raw = generator.generate(case.question, language, [], ranked)
            seconds = time.perf_counter() - start
            records.append({
                "id": f"gen-{case_id}", "source": "local-model", "model": settings.llm_model,
                "case": case_id, "question": case.question, "language": language,
                "passages": [{"n": i, "passage_id": s.passage.id, "text": s.passage.text,
                              "dense_score": None if s.dense_score is None else round(s.dense_score, 4),
                              "score": round(s.score, 6)} for i, s in enumerate(ranked, 1)],
                "answer": raw, "label": None, "reason": None,
            })
            console.print(f"{n}/{len(ids)} {case_id} ({seconds:.1f} s): {raw[:100]}", highlight=False,
                          soft_wrap=True)
    finally:
        assistant.close()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    console.print(f"wrote {len(records)} unlabelled answers to {out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Measure verification on the labelled set, or (``--generate``) collect new model answers."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("set", type=Path, nargs="?", default=None,
                        help=f"the labelled JSONL set (default {DEFAULT_SET.relative_to(PROJECT_ROOT)}; "
                             f"the held-back one: {HELD_SET.relative_to(PROJECT_ROOT)})")
    parser.add_argument("--set", dest="set_option", type=Path, default=None, help="same as SET")
    parser.add_argument("--generate", action="store_true", help="collect the local model's answers")
    parser.add_argument("--out", type=Path,
                        default=PROJECT_ROOT / "artifacts" / "verification-generated.jsonl")
    parser.add_argument("--limit", type=int, default=None, help="--generate: ask only the first N questions")
    parser.add_argument("--no-similarity", action="store_true",
                        help="skip the embedding model (verify without the cross-language check)")
    parser.add_argument("--every-word", action=argparse.BooleanOptionalAction, default=True,
                        help="hold every English word to a cited counterpart (KHABAR_VERIFY_EVERY_WORD)")
    parser.add_argument("--json", type=Path, default=None, help="write every outcome as JSON")
    args = parser.parse_args(argv)
    console = Console()
    if args.generate:
        return generate(args.out, console, args.limit)

    records = load_set(args.set or args.set_option or DEFAULT_SET)
    settings = get_settings()
    similarity = word_similarity = None
    if not args.no_similarity:
        from assistant.retrieve.embeddings import Embedder

        embedder = Embedder(settings, progress=False)
        similarity = embedding_similarity(embedder)
        word_similarity = embedding_word_similarity(embedder)
    outcomes = classify(records, threshold=settings.not_found_threshold, similarity=similarity,
                        word_similarity=word_similarity, every_word=args.every_word)
    scores = report(outcomes, console)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        document = {"precision": scores.precision, "recall": scores.recall, "verified": scores.verified,
                    "total": scores.total, "confusion": {k: dict(v) for k, v in scores.confusion.items()},
                    "outcomes": [o.__dict__ for o in outcomes]}
        args.json.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
