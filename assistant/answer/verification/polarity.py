"""Negation and reversal: an answer that states as fact what its cited words deny.

The cited sentence can name the right things in the wrong sense: «…وغياب ممثلين عن الولايات المتحدة» names
the United States as *absent* from the talks, «وفد المعارضة السورية أعلن مقاطعته» has the opposition
*boycotting* them. An answer sentence that names such a thing without any negation of its own ("the
guarantors are Turkey, Russia, Iran and the United States") is rejected.

Arabic puts some cues before what they govern (غياب X, دون X, عدم X) and others after the subject they
predicate (X أعلن مقاطعته); each kind is looked for on its own side, a few words away, so that the next item
of a list ("…وإيران وغياب ممثلين عن…") is not taken for the negated one.
"""

from __future__ import annotations

import re

from assistant.answer.citations import MARKER
from assistant.answer.verification.entities import (
    arabic_skeleton,
    bare_arabic,
    latin_names,
    latin_skeleton,
    latin_variants,
    skeletons_match,
    translated_phrases,
)
from assistant.schemas import Language
from assistant.textnorm import fold_for_match, tokenize

#: Words between a cue and what it negates.
WINDOW = 3
# On folded words, with clitics stripped (see bare_arabic): cues governing what follows them ...
# (an attached conjunction too: «ولم يقدم», which clitic stripping leaves whole in a three-letter word)
_BEFORE = re.compile(
    r"^(?:و|ف)?(?:غياب|دون|بدون|عدم|باستثناء|ليس|ليست|لم|لن|غير|without|not|no|except|absent)$")
# ... and cues predicating what precedes them.
_AFTER = re.compile(r"^(?:مقاطع\w*|قاطع\w*|رفض\w*|نفي|نفت|يرفض\w*"
                    r"|boycott\w*|refus\w*|reject\w*|denied|absent)$")
# The answer's own negation or reversal: then it does not state the thing as a fact.
_ANSWER_NEGATION = re.compile(
    r"\b(?:not|no|never|without|absent|absence|boycott\w*|refus\w*|reject\w*|den(?:y|ied)|except|n't)\b"
    r"|(?:^|\s)(?:لم|لن|ليس|ليست|غياب|غاب\w*|دون|بدون|عدم|مقاطع\w*|رفض\w*|قاطع\w*)(?:\s|$)")
#: An answer this short (in words, markers aside) takes its sense from the question: "[1] تركيا" answers
#: "which country was absent?" by saying Turkey was absent.
SHORT_ANSWER_WORDS = 4


def _words(text: str) -> list[tuple[str, list[str]]]:
    """Each word of ``text`` as written and its folded forms without clitics."""
    return [(w, [*bare_arabic(w), fold_for_match(w)]) for w in re.findall(r"[\w']+", text)]


def _cue_near(words: list[tuple[str, list[str]]], start: int, end: int) -> str | None:
    """A cue governing words[start:end]: before it (within WINDOW) or after it (within WINDOW)."""
    for i in range(max(0, start - WINDOW), start):
        if any(_BEFORE.match(form) for form in words[i][1]):
            return words[i][0]
    for i in range(end, min(len(words), end + WINDOW)):
        if any(_AFTER.match(form) for form in words[i][1]):
            return words[i][0]
    return None


def _occurrences(words: list[tuple[str, list[str]]], sentence: str, language: Language,
                 short: bool = False) -> list[tuple[str, int, int]]:
    """(what the answer names, start, end) for each place the cited words name it."""
    found: list[tuple[str, int, int]] = []
    folded_words = [forms for _, forms in words]
    for name, arabic_forms in translated_phrases(sentence):
        for form in arabic_forms:
            parts = form.split()
            for i in range(len(words) - len(parts) + 1):
                if all(any(f.startswith(p) for f in folded_words[i + j]) for j, p in enumerate(parts)):
                    found.append((name, i, i + len(parts)))
    for name in latin_names(sentence, language, include_first=short):
        skeletons = {latin_skeleton(v) for v in latin_variants(name)} - {""}
        skeletons = {s for s in skeletons if len(s) >= 2}
        for i, forms in enumerate(folded_words):
            if any(skeletons_match(k, arabic_skeleton(f)) for k in skeletons for f in forms if f):
                found.append((name, i, i + 1))
    if language == "ar":
        content = set(tokenize(MARKER.sub(" ", sentence)))
        for i, (word, _) in enumerate(words):
            shared = set(tokenize(word)) & content
            if shared:
                found.append((word, i, i + 1))
    return found


def answer_negates(text: str) -> bool:
    """True when ``text`` carries a negation or reversal of its own (not, without, لم, دون, boycott…)."""
    return bool(_ANSWER_NEGATION.search(text.lower()) or _ANSWER_NEGATION.search(fold_for_match(text)))


_negative = answer_negates


def reversed_claim(sentence: str, cited: list[str], language: Language, question: str = "") -> str | None:
    """The reason ``sentence`` misstates its cited words (a thing named as absent, boycotted, refused…, or
    one denied by the answer, or by the question a short answer completes, that the cited words name
    without any such cue), or None."""
    plain = MARKER.sub(" ", sentence)
    short = len(re.findall(r"\w+", plain)) <= SHORT_ANSWER_WORDS
    if _negative(plain) or (short and question and _negative(question)):
        return _denied_without_cue(plain, cited, language, short)
    for text in cited:
        words = _words(text)
        for name, start, end in _occurrences(words, plain, language):
            cue = _cue_near(words, start, end)
            if cue:
                context = " ".join(w for w, _ in words[max(0, start - WINDOW):end + WINDOW])
                return (f"the cited passage says {name!r} with «{cue}» («{context}»), which the answer "
                        "leaves out")
    return None


def _denied_without_cue(plain: str, cited: list[str], language: Language, short: bool) -> str | None:
    """An answer that denies something ("Iran was not represented") must find a cue in the cited words
    governing at least one thing it names; naming them only where the cited words affirm them («تركيا وروسيا
    وإيران وغياب ممثلين عن الولايات المتحدة»: Iran present, the United States absent) denies what they say."""
    named: list[str] = []
    for text in cited:
        words = _words(text)
        occurrences = _occurrences(words, plain, language, short)
        if any(_cue_near(words, start, end) for _, start, end in occurrences):
            return None
        named.extend(name for name, _, _ in occurrences)
    if not named:
        return None  # nothing named to check the denial against ("the visit was not announced")
    return (f"the answer denies something about {named[0]!r}, but the cited passage names it without any "
            "negation")
