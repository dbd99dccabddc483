"""Question-answer suites: JSONL files of cases and SQuAD v1.1/v2.0 JSON files, loaded into typed cases.

A malformed case never stops a run: it is recorded as a :class:`SuiteProblem` (with its line number, or its
place in a SQuAD file) and the remaining cases load. Only a suite that cannot be read at all raises
:class:`SuiteError`.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from assistant.errors import KhabarError
from assistant.ingest.loading import article_from_text
from assistant.schemas import Article, Language, Message
from assistant.textnorm import detect_language

SuiteFormat = Literal["jsonl", "squad"]
#: What a case tests: a self-contained question the article answers or does not, a question that changes
#: the topic of a conversation (it must be answered as if asked alone), or a follow-up that needs it.
CaseKind = Literal["answerable", "unanswerable", "topic-change", "follow-up"]
CASE_KINDS: tuple[CaseKind, ...] = ("answerable", "unanswerable", "topic-change", "follow-up")
#: The halves of a suite: parameters are chosen on ``tune``; ``held`` is only reported.
Split = Literal["tune", "held"]
SPLITS: tuple[Split, ...] = ("tune", "held")
JSONL_SUFFIXES = (".jsonl", ".ndjson")
SQUAD_SUFFIXES = (".json",)


class SuiteError(KhabarError):
    """The suite file is missing, unreadable or in no known format."""

    code = "suite_error"


class Case(BaseModel):
    """One question of a suite, with what a good answer must show.

    Fields the loader does not know are kept (``model_extra``) and copied into the report.
    """

    model_config = ConfigDict(extra="allow")

    id: str
    question: str = Field(min_length=1)
    history: list[Message] = Field(default_factory=list, description="Earlier turns, oldest first.")
    answerable: bool = True
    must_include: list[list[str]] = Field(
        default_factory=list,
        description="Groups of alternatives: every group must occur in the answer, any one of its strings.",
    )
    answers: list[str] = Field(default_factory=list, description="Reference answers for EM/F1.")
    evidence: list[str] = Field(
        default_factory=list, description="Snippets of the source; a passage containing one is evidence."
    )
    evidence_articles: list[str] = Field(
        default_factory=list,
        description="Ids of articles whose every passage counts as evidence (SQuAD: the question's context).",
    )
    language: Language | None = Field(None, description="Expected answer language; detected if absent.")
    kind: CaseKind | None = Field(None, description="What the case tests; derived if absent (case_kind).")
    split: Split | None = Field(None, description="The half of the suite the case belongs to.")
    previous_evidence: list[str] = Field(
        default_factory=list,
        description="Topic change: snippets of the earlier topic's passage, which the answer must not cite.",
    )
    alone: str | None = Field(None, description="Topic change: id of the case asking the question alone.")
    line: int | None = Field(None, description="Line of the suite file (JSONL) the case came from.")

    @model_validator(mode="after")
    def _answerable_from_kind(self) -> Case:
        # A line declaring kind "unanswerable" and no ``answerable`` means what it says: left to the
        # default, it was scored as an answerable question whose every refusal counted as wrong.
        if self.kind in ("unanswerable", "answerable"):
            implied = self.kind == "answerable"
            if "answerable" not in self.model_fields_set:
                self.answerable = implied
            elif self.answerable != implied:
                raise ValueError(f'kind "{self.kind}" contradicts "answerable": {self.answerable}')
        return self

    @field_validator("must_include", mode="before")
    @classmethod
    def _groups(cls, value: object) -> object:
        # A bare string is a group of one alternative, so ["Sochi", ["Russia", "روسيا"]] works too.
        if isinstance(value, list):
            return [[item] if isinstance(item, str) else item for item in value]
        return value

    @field_validator("answers", "evidence", "evidence_articles", "previous_evidence", mode="before")
    @classmethod
    def _listify(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value

    @property
    def expected_language(self) -> Language:
        """The language the answer should be in: the declared one, else the question's."""
        return self.language or detect_language(self.question)

    @property
    def case_kind(self) -> CaseKind:
        """The declared kind, else ``follow-up`` for a case with history, else by ``answerable``.

        A topic change cannot be told from a follow-up by its shape, so it must be declared.
        """
        if self.kind:
            return self.kind
        if self.history:
            return "follow-up"
        return "answerable" if self.answerable else "unanswerable"

    @property
    def has_evidence(self) -> bool:
        """Whether retrieval can be scored for this case."""
        return bool(self.evidence or self.evidence_articles)

    def extra_fields(self) -> dict:
        """The fields of the suite line this loader does not interpret."""
        return dict(self.model_extra or {})


class SuiteProblem(BaseModel):
    """A case that could not be loaded, and why."""

    where: str = Field(description="`line 12` for JSONL, `data[0].paragraphs[3].qas[1]` for SQuAD.")
    line: int | None = None
    message: str


class Suite(BaseModel):
    """A loaded suite: its cases, the problems met while loading and, for SQuAD, its contexts."""

    name: str
    path: str
    format: SuiteFormat
    sha256: str = Field(description="Digest of the file; names the collection SQuAD contexts go into.")
    cases: list[Case]
    problems: list[SuiteProblem] = Field(default_factory=list)
    contexts: list[Article] = Field(default_factory=list, description="SQuAD contexts, one article each.")


def load_suite(path: Path | str) -> Suite:
    """Load a JSONL (``.jsonl``) or SQuAD (``.json``) suite; raise :class:`SuiteError` if unreadable."""
    path = Path(path)
    if not path.is_file():
        raise SuiteError(f"no such suite file: {path}")
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise SuiteError(f"{path.name}: cannot read as UTF-8 text ({type(exc).__name__})") from exc
    digest = hashlib.sha256(raw).hexdigest()
    suffix = path.suffix.lower()
    if suffix in JSONL_SUFFIXES:
        cases, problems = parse_jsonl(text)
        fmt: SuiteFormat = "jsonl"
        contexts: list[Article] = []
    elif suffix in SQUAD_SUFFIXES:
        cases, problems, contexts = parse_squad(text, source=path.name)
        fmt = "squad"
    else:
        raise SuiteError(f"{path.name}: unknown suite format (use .jsonl for cases or .json for SQuAD)")
    return Suite(name=path.name, path=str(path), format=fmt, sha256=digest, cases=cases, problems=problems,
                 contexts=contexts)


def _validation_message(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"]) or "case"
        parts.append(f"{where}: {error['msg']}")
    return "; ".join(parts)


def parse_jsonl(text: str) -> tuple[list[Case], list[SuiteProblem]]:
    """Cases of a JSONL suite (one JSON object a line; blank lines skipped) and the lines that failed."""
    cases: list[Case] = []
    problems: list[SuiteProblem] = []
    seen: set[str] = set()
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue

        def problem(message: str, number: int = number) -> None:
            problems.append(SuiteProblem(where=f"line {number}", line=number, message=message))

        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            problem(f"not valid JSON ({exc.msg} at column {exc.colno})")
            continue
        if not isinstance(record, dict):
            problem(f"expected a JSON object, got {type(record).__name__}")
            continue
        record.setdefault("id", f"line-{number}")
        record["id"] = str(record["id"])
        record["line"] = number
        try:
            case = Case.model_validate(record)
        except ValidationError as exc:
            problem(_validation_message(exc))
            continue
        if case.id in seen:
            # Ids key the report; a duplicate would silently merge two cases' rows in evaluators' scripts.
            problem(f"duplicate id {case.id!r}; renamed to {case.id}@{number}")
            case.id = f"{case.id}@{number}"
        seen.add(case.id)
        cases.append(case)
    return cases, problems


def parse_squad(text: str, *,
                source: str = "squad.json") -> tuple[list[Case], list[SuiteProblem], list[Article]]:
    """Cases and contexts of a SQuAD v1.1/v2.0 file (XQuAD, ARCD and MLQA use this format).

    Each distinct context becomes one article; a question's evidence is its context's article, its
    references are the answers' texts and ``is_impossible`` marks it unanswerable.
    """
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SuiteError(f"{source}: not valid JSON ({exc.msg} at line {exc.lineno})") from exc
    if not isinstance(document, dict) or not isinstance(document.get("data"), list):
        raise SuiteError(f"{source}: not a SQuAD file (expected an object with a `data` list)")
    cases: list[Case] = []
    problems: list[SuiteProblem] = []
    contexts: dict[str, Article] = {}
    seen: set[str] = set()
    for i, entry in enumerate(document["data"]):
        paragraphs = entry.get("paragraphs") if isinstance(entry, dict) else None
        if not isinstance(paragraphs, list):
            problems.append(SuiteProblem(where=f"data[{i}]", message="no `paragraphs` list"))
            continue
        title = entry.get("title")
        for j, paragraph in enumerate(paragraphs):
            where = f"data[{i}].paragraphs[{j}]"
            context = paragraph.get("context") if isinstance(paragraph, dict) else None
            if not isinstance(context, str) or not context.strip():
                problems.append(SuiteProblem(where=where, message="no `context` text"))
                continue
            key = hashlib.sha256(context.strip().encode()).hexdigest()
            if key not in contexts:
                contexts[key] = article_from_text(context, source=source,
                                                  article_id=f"ctx{len(contexts):04d}")
                if isinstance(title, str) and title.strip():
                    # Titled after its entry, as `khabar ingest` does: the entry's paragraphs are one story.
                    named = title.strip().replace("_", " ")
                    contexts[key] = contexts[key].model_copy(update={"title": named})
            article = contexts[key]
            for q, qa in enumerate(paragraph.get("qas") or []):
                case, message = _squad_case(qa, article.id)
                if case is None:
                    problems.append(SuiteProblem(where=f"{where}.qas[{q}]", message=message))
                    continue
                if case.id in seen:
                    problems.append(SuiteProblem(where=f"{where}.qas[{q}]",
                                                 message=f"duplicate id {case.id!r}; renamed"))
                    case.id = f"{case.id}@{i}.{j}.{q}"
                seen.add(case.id)
                cases.append(case)
    return cases, problems, list(contexts.values())


def _squad_case(qa: object, article_id: str) -> tuple[Case | None, str]:
    if not isinstance(qa, dict):
        return None, "a question entry must be an object"
    question = qa.get("question")
    if not isinstance(question, str) or not question.strip():
        return None, "no `question` text"
    impossible = bool(qa.get("is_impossible", False))
    answers = qa.get("answers") or []
    if not isinstance(answers, list) or not all(isinstance(a, dict) for a in answers):
        return None, "`answers` must be a list of objects"
    texts = list(dict.fromkeys(a["text"] for a in answers if isinstance(a.get("text"), str) and a["text"]))
    if not impossible and not texts:
        return None, "an answerable question without answers"
    extra = {k: v for k, v in qa.items()
             if k not in ("id", "question", "answers", "is_impossible", "plausible_answers")}
    fallback_id = f"{article_id}-{hashlib.sha256(question.encode()).hexdigest()[:8]}"
    try:
        case = Case(id=str(qa.get("id") or fallback_id), question=question, answerable=not impossible,
                    answers=[] if impossible else texts,
                    evidence_articles=[] if impossible else [article_id], **extra)
    except ValidationError as exc:
        return None, _validation_message(exc)
    return case, ""
