"""Words the cited passage negates, and the place a nisba adjective ties to its noun.

:mod:`.polarity` catches a *name* stated against its cue («وغياب ممثلين عن الولايات المتحدة»). A claim can
restate negated words that are no name: «ولم يقدم الكرملين المزيد من التفاصيل» answered by "The Kremlin
gave many details", «في زيارة غير معلنة» by "an announced visit", «دون تقديم تفسير واضح» by "Moscow
explained clearly". Here the words a negation cue governs (the few that follow it) are matched to the
answer's words (shared stems in Arabic, the embedding model's word similarity across languages), and an
answer without any negation of its own that restates them is rejected.

A nisba adjective says whose a thing is («الرئاسة الروسية», «الوجود العسكري الروسي»). An answer that
gives the same noun another country's adjective ("the Syrian presidency", "the Iranian military presence")
finds the noun in the cited words and, right after it, a different country: rejected.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np

from assistant.answer.citations import MARKER
from assistant.answer.verification.entities import ARABIC_WORD, bare_arabic, latin_variants
from assistant.answer.verification.gazetteer import place_forms, place_key_of
from assistant.answer.verification.markers import quote
from assistant.answer.verification.polarity import answer_negates
from assistant.schemas import Language
from assistant.textnorm import ENGLISH_STOPWORDS, fold_for_match, tokenize

Similarity = Callable[[list[str], list[str]], np.ndarray]

#: Words after a negation cue that it governs.
SCOPE = 4
#: Least word similarity for an English word to restate an Arabic one.
MIN_RESTATES = 0.6
#: Words after a noun where its nisba adjective is looked for («الوجود العسكري الروسي»).
NISBA_WINDOW = 2

_CUES = frozenset(fold_for_match(w) for w in "لم لن ليس ليست غير دون بدون عدم لا".split())  # noqa: SIM905
_VAGUE = frozenset("reason reasons way ways thing things".split())  # noqa: SIM905
# English words that start like a negative prefix but are none.
_NOT_NEGATIVE = re.compile(r"^(?:united|union|unit|units|under\w*|until|universal|unique|uncle)$")


def _negative_en(sentence: str) -> bool:
    if answer_negates(sentence):
        return True
    return any(re.match(r"^(?:un|non)[a-z]{4,}$", w) and not _NOT_NEGATIVE.match(w)
               for w in re.findall(r"[a-z]+", sentence.lower()))


def _scopes(cited: list[str]) -> list[list[str]]:
    """The words each negation cue in the cited passages governs."""
    out = []
    for text in cited:
        words = re.findall(r"[\w']+", MARKER.sub(" ", text))
        for i, word in enumerate(words):
            folded = fold_for_match(word)
            if folded in _CUES or (folded[:1] in ("و", "ف") and folded[1:] in _CUES):
                out.append(words[i + 1:i + 1 + SCOPE])
    return [s for s in out if s]


def restates_negated(sentence: str, cited: list[str], language: Language,
                     word_similarity: Similarity | None = None) -> str | None:
    """The reason ``sentence`` affirms what its cited words negate, or None."""
    plain = MARKER.sub(" ", sentence)
    if language == "ar":
        if answer_negates(plain):
            return None
        answer = {t for w in plain.split() if not place_key_of(bare_arabic(w)) for t in tokenize(w)}
        for scope in _scopes(cited):
            shared = answer & set(tokenize(" ".join(scope)))
            if shared:
                return (f"«{quote(sentence)}» affirms what the cited words negate («{' '.join(scope)}»)")
        return None
    if word_similarity is None or _negative_en(plain):
        return None
    content = [w for w in re.findall(r"\b[a-z][a-z\-]+", plain)
               if w not in ENGLISH_STOPWORDS and w not in _VAGUE and len(w) > 2]
    scopes = _scopes(cited)
    if not content or not scopes:
        return None
    flat = [w for scope in scopes for w in scope]
    sims = word_similarity(content, flat)
    row, column = np.unravel_index(int(np.argmax(sims)), sims.shape)
    if float(sims[row, column]) >= MIN_RESTATES:
        return (f"«{quote(sentence)}» affirms {content[row]!r}, which the cited words negate "
                f"(«{flat[column]}», similarity {float(sims[row, column]):.2f})")
    return None


def _nisba_after(words: list[str], index: int) -> str | None:
    for word in words[index + 1:index + 1 + NISBA_WINDOW]:
        key = place_key_of(bare_arabic(word))
        if key:
            return key
    return None


def wrong_nisba(sentence: str, cited: list[str], language: Language,
                word_similarity: Similarity | None = None) -> str | None:
    """The reason ``sentence`` gives a noun another country's adjective than the cited words do, or None."""
    plain = MARKER.sub(" ", sentence)
    cited_words = [w for text in cited for w in ARABIC_WORD.findall(text)]
    if not cited_words:
        return None
    claims: list[tuple[str, str]] = []  # (answer's place key, noun)
    if language == "ar":
        words = ARABIC_WORD.findall(plain)
        for i, word in enumerate(words):
            key = place_key_of(bare_arabic(word))
            if key and i > 0 and fold_for_match(word).startswith("ال"):
                claims.append((key, words[i - 1]))
                if i > 1:
                    claims.append((key, words[i - 2]))
        for key, noun in claims:
            for j, word in enumerate(cited_words):
                if set(tokenize(word)) & set(tokenize(noun)):
                    found = _nisba_after(cited_words, j)
                    if found and found != key:
                        said, cited_place = key.removeprefix("place:"), found.removeprefix("place:")
                        return (f"«{quote(sentence)}» makes «{noun}» {said}'s; the cited words make it "
                                f"{cited_place}'s")
        return None
    if word_similarity is None:
        return None
    for match in re.finditer(r"\b([A-Z][a-z]+)\s+((?:[a-z]+\s+)?)([a-z]{3,})\b", plain):
        demonym, noun = match.group(1), match.group(3)
        place = next((v for v in latin_variants(demonym)[1:] if place_forms(v)), None)
        if place is None or noun in ENGLISH_STOPWORDS:
            continue
        scores = word_similarity([noun], cited_words)[0]
        j = int(np.argmax(scores))
        if float(scores[j]) < MIN_RESTATES:
            continue
        found = _nisba_after(cited_words, j)
        if found and found != f"place:{place.lower()}":
            return (f"«{quote(sentence)}» makes the {noun} {demonym}; the cited words «{cited_words[j]} "
                    f"{' '.join(cited_words[j + 1:j + 1 + NISBA_WINDOW])}» make it "
                    f"{found.removeprefix('place:').title()}'s")
    return None
