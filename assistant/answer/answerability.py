"""Whether the retrieved passages can answer the question: the one not-found rule, used by the facade, the
generative stage (a refusal while retrieval is confident is suspect) and calibration.

Two kinds of evidence, because similarity alone cannot tell "what did Erdogan say about the meeting?" from
"what did Putin say about the meeting?" (both score like answerable questions):

* **closeness**: the best passage must be similar enough to the question (``KHABAR_NOT_FOUND_THRESHOLD``);
* **the specific ask**: a person, country or organisation the question names must be mentioned in the best
  candidates; a quantity it asks for (how many, how long, what price) needs a number there that the question
  did not bring itself, and a duration or a price needs its unit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant import cldr
from assistant.answer.verification.entities import Evidence, latin_names, numbers_in, translated_phrases
from assistant.retrieve.base import RetrievalResult
from assistant.schemas import Language
from assistant.textnorm import detect_language, fold_for_match

#: Passages whose words count as "what the article offers for this question".
CANDIDATES = 3

# What a quantity question asks for, on folded text. A duration or a price also needs its unit.
_COUNT = re.compile(r"\bhow (?:many|much|long|old)\b|\bwhat (?:is|was) the (?:price|cost|number|value)\b"
                    r"|\bكم\b|ما عدد|ما سعر|ما ثمن|ما تكلف|ما قيم|ما مد")
_DURATION = re.compile(r"\bhow long\b|\bhow many (?:hours|minutes|days|weeks|months|years)\b"
                       r"|كم (?:ساع|دقيق|يوم|ايام|اسبوع|شهر|سن|عام)|كم من الوقت|كم استغرق|ما مد")
_DURATION_UNITS = re.compile(r"ساع|دقيق|يوم|ايام|اسبوع|اسابيع|شهر|اشهر|سنه|سنوات|عام|اعوام"
                             r"|hour|minute|day|week|month|year")
_PRICE = re.compile(r"\bprice\b|\bcost\b|\bhow much (?:money|did|does|is|was)\b|سعر|ثمن|تكلف|قيمه")
_CURRENCY = re.compile(r"دولار|يورو|روبل|مليون|مليار|\$|€|dollar|euro|rouble|ruble|million|billion")


@dataclass(frozen=True)
class Answerability:
    """The verdict, with the evidence behind it (shown in the answer's note when it refuses)."""

    answerable: bool
    note: str | None = None


def confident(best_dense: float, threshold: float) -> bool:
    """True when the closest passage is similar enough to the question to be taken as on topic."""
    return best_dense >= threshold


def judge(result: RetrievalResult, threshold: float, question: str | None = None
          ) -> Answerability:
    """Refuse when even the closest passage is far from the question, or when what the question
    specifically asks for is absent from the best candidates (``question``: the question as asked; the
    retrieval query may carry the previous question too)."""
    best = result.best_dense
    if not confident(best, threshold):
        return Answerability(False, f"best similarity {best:.3f} is below the threshold")
    if question is None:
        return Answerability(True)
    texts = [s.passage.text for s in result.passages[:CANDIDATES]]
    missing = missing_name(question, texts)
    if missing:
        return Answerability(False, f"the closest passages do not mention {missing}")
    lack = missing_quantity(question, texts)
    if lack:
        return Answerability(False, lack)
    return Answerability(True)


def missing_name(question: str, texts: list[str]) -> str | None:
    """A name in ``question`` (a country in either language, a Latin-script name) that ``texts`` never
    mention, or None."""
    joined = "\n".join(texts)
    for name in cldr.named_in(question):
        if not cldr.mentions(joined, name):
            return name.english
    language: Language = detect_language(question)
    evidence = Evidence(texts)
    covered: set[str] = set()
    for phrase, forms in translated_phrases(question):
        if not any(form in evidence.folded for form in forms):
            return phrase
        covered.update(phrase.lower().replace(".", " ").split())
    countries = {n.english.lower() for n in cldr.named_in(question)}
    for name in latin_names(question, language):
        if name.lower() in covered or name.lower() in countries:
            continue
        if not evidence.has_name(name):
            return name
    return None


def missing_quantity(question: str, texts: list[str]) -> str | None:
    """Why a quantity question cannot be answered from ``texts`` (no new number, or no unit), or None."""
    asked = fold_for_match(question)
    if not _COUNT.search(asked):
        return None
    given = numbers_in(question)
    sentences = [s for text in texts for s in re.split(r"(?<=[.!?؟])\s+", text)]
    with_numbers = [s for s in sentences if numbers_in(s) - given]
    if not with_numbers:
        return "the closest passages state no number for the quantity asked"
    if _DURATION.search(asked) and not any(_DURATION_UNITS.search(fold_for_match(s)) for s in with_numbers):
        return "the closest passages state no duration"
    if _PRICE.search(asked) and not any(_CURRENCY.search(fold_for_match(s)) for s in with_numbers):
        return "the closest passages state no price"
    return None
