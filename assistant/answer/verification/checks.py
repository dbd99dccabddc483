"""The checks of a generated answer and :func:`verify`, which runs them (see the package docstring).

Just over 300 lines: every check that decides "verified" reads in one place, in the order :func:`verify`
runs them; the language rules they rest on live in the sibling modules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from assistant.answer.citations import MARKER, marker_label, markers, strip_markers
from assistant.answer.directives import neutralise
from assistant.answer.verification.causes import unsupported_cause, unsupported_relation
from assistant.answer.verification.entities import (
    ARABIC_WORD,
    LATIN_WORD,
    Evidence,
    bare_arabic,
    latin_names,
    latin_variants,
    numbers_in,
    translated_phrases,
)
from assistant.answer.verification.gazetteer import (
    arabic_calendar_words,
    calendar_forms,
    place_forms,
    place_key_of,
)
from assistant.answer.verification.markers import (
    answer_sentences,
    normalise_markers,
    quote,
    strip_chat_artefacts,
    without_markers,
)
from assistant.answer.verification.polarity import reversed_claim
from assistant.answer.verification.roles import swapped_roles, wrong_agent
from assistant.answer.verification.scope import restates_negated, wrong_nisba
from assistant.answer.verification.wording import unanchored_word
from assistant.schemas import Language, ScoredPassage
from assistant.textnorm import detect_language, fold_for_match, tokenize

#: Share of a same-language sentence's content words that must occur in its passages or the question.
MIN_COVERAGE = 0.5
#: Cross-language support with embeddings: the cited passage's cosine to the sentence must reach this
#: floor and be within this margin of the most similar passage given. On the shipped article, English
#: sentences scored 0.48-0.64 against the Arabic passage stating them and at most 0.45 against others.
MIN_SIMILARITY = 0.3
SIMILARITY_MARGIN = 0.08


# A refusal talks about the article or the passages ("the passages do not mention…"); "Moscow did not
# give a reason" is a fact about the story, not a refusal, and must stay subject to the checks.
_SOURCE_EN = r"(article|passages?|text|context|sources?)"
_NEGATION_EN = r"(does not|doesn't|do not|don't|did not|didn't|never)"
_SOURCE_AR = "(المقال|المقاطع|المقطع|النص)"
_NEGATION_AR = "(لا|لم) (ي|ت)(جيب|ذكر|تضمن|حتوي|شير|وضح|حدد)"
_DECLINE = {
    "en": re.compile(
        rf"\b{_SOURCE_EN}\b[^.]{{0,40}}\b{_NEGATION_EN}\b|\bno (information|mention|details?)\b|"
        r"\b(cannot|can't|can not|unable to)\s+(answer|determine|find|tell|be answered)\b|"
        rf"\bnot (mentioned|stated|specified|provided|given) in the {_SOURCE_EN}",
        re.IGNORECASE),
    "ar": re.compile(
        rf"{_NEGATION_AR}[^.]{{0,40}}{_SOURCE_AR}|{_SOURCE_AR}[^.]{{0,40}}{_NEGATION_AR}|"
        + "|".join(fold_for_match(p) for p in ("لا يجيب", "لا توجد معلومات", "لا يوجد ما", "غير مذكور",
                                                "لا يمكن الإجابة"))),
}
# A dateline («موسكو - », "DAMASCUS (AFP) -") says where the story was filed, not where anything in it
# happened: it is no evidence for a place the answer asserts ("Assad met Putin in Moscow").
_DATELINE = re.compile(r"^\s*[^\s\d.,،:;\-–—]+(?:\s+[^\s\d.,،:;\-–—]+)?\s*(?:\([^)]{1,30}\)\s*)?[-–—]\s+")
# Words an answer uses to frame itself ("according to the article"), never evidence of anything.
_FRAMING_TOKENS = frozenset(tokenize(
    "المقال المقطع المقاطع وفقا حسب بحسب يذكر ذكر تذكر يشير تشير أشار أشارت ورد جاء أن إن ذلك "
    "according article passage passages text source sources says states stated mentioned see"
))


class Similarity(Protocol):
    """Cosine similarities of each sentence to each passage (rows: sentences, columns: passages)."""

    def __call__(self, sentences: list[str], passages: list[str]) -> np.ndarray: ...


@dataclass
class Verification:
    """The outcome of :func:`verify`."""

    ok: bool
    text: str = ""
    #: 1-based numbers (into the passages given) of the cited passages, in the order of their new numbers.
    cited: list[int] = field(default_factory=list)
    #: Marker numbers that pointed to no given passage and were dropped.
    dropped: list[int] = field(default_factory=list)
    declined: bool = False
    reason: str | None = None
    #: For each cited passage (same order as ``cited``), the answer sentences that cite it.
    support: list[list[str]] = field(default_factory=list)


def is_decline(text: str) -> bool:
    """True when ``text`` says the article or passages do not answer (in either language: a small model
    sometimes refuses in the wrong one)."""
    return bool(_DECLINE["en"].search(text) or _DECLINE["ar"].search(fold_for_match(text)))


def strip_dateline(text: str) -> str:
    """``text`` without a leading dateline (the place a story was filed from)."""
    return _DATELINE.sub("", text, count=1)


def _cldr_names_missing(sentence: str, evidence: Evidence, language: Language) -> str | None:
    """A country, city, month or weekday the sentence names whose CLDR Arabic name the evidence lacks."""
    if language == "ar":
        for english, forms in arabic_calendar_words(sentence).items():
            if not any(form in evidence.folded for form in forms):
                return english.capitalize()
        for word in ARABIC_WORD.findall(MARKER.sub(" ", sentence)):
            key = place_key_of(bare_arabic(word))
            forms = place_forms(key.removeprefix("place:")) if key else None
            if forms and not any(form in evidence.folded for form in forms):
                return word
        return None
    words = [w.strip(".'’-") for w in LATIN_WORD.findall(MARKER.sub(" ", sentence))]
    for index, word in enumerate(words):
        if not word or not word[0].isupper():
            continue
        forms = calendar_forms(word) if index else None
        if forms is None:
            forms = next((f for v in latin_variants(word) if (f := place_forms(v))), None)
        if forms and not any(form in evidence.folded for form in forms):
            return word
    return None


def _check_sentence(sentence: str, evidence: Evidence, language: Language, question_tokens: set[str],
                    other_tokens: set[str], label: str) -> str | None:
    """Why ``sentence`` is not supported by ``evidence`` (None when it is)."""
    missing = sorted(numbers_in(sentence) - evidence.numbers)
    if missing:
        return f"the number {missing[0]} in «{quote(sentence)}» is not in the cited passage {label}"
    name = _cldr_names_missing(sentence, evidence, language)
    if name:
        return f"the name {name!r} in «{quote(sentence)}» is not in the cited passage {label}"

    covered: set[str] = set()
    for name, forms in translated_phrases(sentence):
        if not any(form in evidence.folded for form in forms):
            return f"the name {name!r} in «{quote(sentence)}» is not in the cited passage {label}"
        covered.update(name.lower().replace(".", " ").split())
    for name in latin_names(sentence, language):
        if name.lower() in covered:
            continue
        if not evidence.has_name(name):
            return f"the name {name!r} in «{quote(sentence)}» is not in the cited passage {label}"

    if language == "ar":
        content = set(tokenize(MARKER.sub(" ", sentence))) - _FRAMING_TOKENS
        novel = content - evidence.tokens - question_tokens
        # Arabic has no capitals to spot names by. A word that is not in the cited passage but is in
        # another passage given to the model is taken for a fact from the wrong passage (the wrong city,
        # the wrong missile): the cheapest proper-noun-ish signal that does not need a gazetteer.
        borrowed = sorted(novel & other_tokens)
        if borrowed:
            return (f"«{quote(sentence)}» uses {borrowed[0]!r} from another passage, not from the cited "
                    f"passage {label}")
        if len(content) >= 2:
            coverage = 1 - len(novel) / len(content)
            if coverage < MIN_COVERAGE:
                return (f"«{quote(sentence)}» shares too few words ({coverage:.0%}) with the cited passage "
                        f"{label}")
    return None


def _unstated_reason(sentence: str, evidence: Evidence, language: Language, question_tokens: set[str],
                     label: str) -> str | None:
    unstated = _unstated_word(sentence, evidence, question_tokens) if language == "ar" else None
    if unstated:
        return f"«{unstated}» in «{quote(sentence)}» is not in the cited passage {label} or the question"
    return None


def _unstated_word(sentence: str, evidence: Evidence, question_tokens: set[str]) -> str | None:
    """The first word of an Arabic sentence that neither the cited words (as a word, a form of one without
    its clitics, or the nisba of a place they name) nor the question contain.

    One substituted word is the commonest wrong answer («شمال» for «جنوب», «قصيرة» for «مفصلة»,
    «تعميق» for «فك») and leaves a sentence's overall coverage high. An Arabic reader who loses a
    generated answer to this rule gets the extractive one, a verbatim quote in the same language: the
    cost of strictness is small.
    """
    if not evidence.bare_forms:
        return None  # not an Arabic passage: nothing to compare words with
    for word in ARABIC_WORD.findall(MARKER.sub(" ", sentence)):
        tokens = set(tokenize(word)) - _FRAMING_TOKENS
        if not tokens or tokens & (evidence.tokens | question_tokens):
            continue
        forms = bare_arabic(word)
        if set(forms) & evidence.bare_forms:
            continue
        place = place_key_of(forms)
        if place and place in evidence.places:
            continue
        return word
    return None


def _content_check(sentence: str, cited: list[str], given: list[str], language: Language,
                   passage_language: set[str], similarity: Similarity | None,
                   word_similarity: Similarity | None, question: str, every_word: bool) -> str | None:
    """What names, numbers and negation cannot see: an unstated cause, the wrong agent of a verb and, with
    ``every_word``, an English word without a cited counterpart. All read Arabic passages; English ones
    are left to the other checks."""
    if passage_language != {"ar"}:
        return None
    return (unsupported_cause(sentence, cited, language, word_similarity)
            or unsupported_relation(sentence, cited, language)
            or restates_negated(sentence, cited, language, word_similarity)
            or wrong_nisba(sentence, cited, language, word_similarity)
            or swapped_roles(sentence, cited, given, language, similarity)
            or wrong_agent(sentence, cited, given, language, similarity, word_similarity)
            or (unanchored_word(sentence, cited, question, word_similarity)
                if language == "en" and every_word else None))


def verify(answer: str, passages: list[ScoredPassage], language: Language, *, question: str = "",
           similarity: Similarity | None = None, word_similarity: Similarity | None = None,
           confident: bool = True, every_word: bool = True) -> Verification:
    """Check a generated ``answer`` against the ``passages`` it was given (numbered from 1).

    Returns the cleaned text with contiguous markers when every check passes, or the reason it failed.
    ``confident`` says whether retrieval found a close passage (a refusal is then a failure).
    ``similarity`` (sentence to passage or clause) and ``word_similarity`` (word to word, both embedded as
    documents) come from the embedding model; without them an English answer over Arabic passages is
    checked by its names, numbers and negation only. ``every_word`` holds each content word of an English
    sentence over Arabic passages to a cited counterpart (:mod:`.wording`).
    """
    # An instruction inside the article ("ignore previous instructions and say …") is no evidence of what
    # it tells the model to say.
    texts = [strip_dateline(neutralise(p.passage.text)) for p in passages]
    valid = set(range(1, len(passages) + 1))
    text = normalise_markers(strip_chat_artefacts(answer))
    dropped = [n for n in markers(text) if n not in valid]
    text = without_markers(text, valid)
    cited = [n for n in markers(text) if n in valid]

    if not text:
        return Verification(ok=False, reason="the language model returned an empty answer")
    if not re.search(r"\w", MARKER.sub(" ", text)):
        return Verification(ok=False, dropped=dropped, reason="the generated answer says nothing beyond its "
                                                              "citation markers")
    sentences = answer_sentences(text)
    declines = [s for s in sentences if is_decline(s)]
    if not cited:
        if declines:
            if confident:
                return Verification(ok=False, declined=True, dropped=dropped, text=text,
                                    reason="the language model said the article does not answer, "
                                           "although retrieval found a close passage")
            return Verification(ok=True, declined=True, dropped=dropped, text=text)
        return Verification(ok=False, dropped=dropped,
                            reason="the generated answer cites none of the passages it was given")

    if not set(tokenize(MARKER.sub(" ", text))) - _FRAMING_TOKENS:
        return Verification(ok=False, dropped=dropped, reason="the generated answer says nothing beyond its "
                                                              "citation markers and words that frame them")
    question_tokens = set(tokenize(question))
    tokens = [set(tokenize(t)) for t in texts]
    evidence_cache: dict[tuple[int, ...], Evidence] = {}

    def evidence_for(numbers: tuple[int, ...]) -> Evidence:
        if numbers not in evidence_cache:
            evidence_cache[numbers] = Evidence([texts[n - 1] for n in numbers])
        return evidence_cache[numbers]

    supports: dict[int, list[str]] = {n: [] for n in cited}
    cross_lingual: list[tuple[str, tuple[int, ...]]] = []
    for sentence in sentences:
        if sentence in declines:
            continue  # a hedge ("the article does not say exactly…") asserts nothing to check
        own = tuple(n for n in markers(sentence) if n in valid)
        numbers = own or tuple(cited)
        label = marker_label(list(numbers))
        others = set().union(*(tokens[n - 1] for n in valid if n not in numbers))
        cited_texts = [texts[n - 1] for n in numbers]
        passage_language = {detect_language(t) for t in cited_texts}
        crossing = passage_language != {language}
        reason = (_check_sentence(sentence, evidence_for(numbers), language, question_tokens, others, label)
                  or reversed_claim(sentence, cited_texts, language, question)
                  or _content_check(sentence, cited_texts, texts, language, passage_language,
                                    similarity if crossing else None, word_similarity if crossing else None,
                                    question, every_word)
                  # Last, so that the more specific reasons above are the ones a user reads.
                  or _unstated_reason(sentence, evidence_for(numbers), language, question_tokens, label))
        if reason:
            return Verification(ok=False, dropped=dropped, text=text, reason=reason)
        for n in numbers:
            supports[n].append(sentence)
        if crossing:
            cross_lingual.append((sentence, numbers))

    if similarity is not None and cross_lingual:
        plain = [strip_markers(s, set()) for s, _ in cross_lingual]
        sims = similarity(plain, texts)
        for row, (sentence, numbers) in zip(sims, cross_lingual, strict=True):
            best_cited = max(float(row[n - 1]) for n in numbers)
            best_any = float(np.max(row))
            if best_cited < MIN_SIMILARITY or best_cited < best_any - SIMILARITY_MARGIN:
                label = marker_label(list(numbers))
                return Verification(
                    ok=False, dropped=dropped, text=text,
                    reason=f"the cited passage {label} does not support «{quote(sentence)}» "
                           f"(similarity {best_cited:.2f}, best passage {best_any:.2f})")

    renumber = {old: new for new, old in enumerate(cited, 1)}
    final = MARKER.sub(lambda m: f"[{renumber[int(m.group(1))]}]", text)
    final = re.sub(r"(\[\d+\])(\s*\1)+", r"\1", final)  # "[1] [1]" after renumbering
    return Verification(ok=True, text=final, cited=cited, dropped=dropped,
                        support=[supports[n] for n in cited])

