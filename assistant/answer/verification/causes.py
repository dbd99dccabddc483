"""A reason, a purpose or a relation the answer gives must be in the cited words.

"The visit was not announced in advance for economic reasons [2]" cites «…لم يعلن عنه مسبقا لدواع أمنية…»:
every name and number passes, and the sentence as a whole is close to the passage in embedding space,
because all of it but one word restates the passage. A cause is the claim most often invented and the one a
sentence embedding weighs least, so its words are checked one by one: in an Arabic answer each content word
of the phrase after «بسبب», «لدواع», «احتجاجا على» … must occur in the cited passages; in an English answer
over Arabic passages (no translation model offline) each content word of the phrase after "because",
"for … reasons", "due to", "in protest against" … must have a cited Arabic word the embedding model puts
close to it (single words that translate each other scored 0.63-0.91 on the shipped article, «أمنية» /
"security" 0.81, while "economic" reached no cited word above 0.51). Unsure is a rejection.

Relations of alliance or hostility ("Russia is an ally of Israel against Iran") are claims the embedding
model cannot check word by word ("ally" and "mediator" both score about 0.5 against «وسيطا»), so they are
held to a short bilingual list of the words that state them: an answer that says two sides are allies or
enemies must cite words that say so. Hand-written because no offline dictionary is installed; the list is
of relation words, not of this article's phrases.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np

from assistant.answer.citations import MARKER
from assistant.answer.verification.entities import arabic_forms, bare_arabic
from assistant.answer.verification.markers import quote
from assistant.schemas import Language
from assistant.textnorm import ENGLISH_STOPWORDS, fold_for_match, tokenize

#: Least embedding similarity between an English cause word and some cited Arabic word.
MIN_CAUSE_SIMILARITY = 0.6
#: Words of the phrase after a cause marker that are checked.
PHRASE_WORDS = 5

_CAUSE_EN = re.compile(
    r"\b(?:because(?: of)?|due to|owing to|on account of|as a result of|in response to|in retaliation for|"
    r"in protest (?:against|at|over)|in order to|so as to|for the sake of|"
    r"for (?:(?!the\b|a\b|an\b)[a-z\-]+ ){1,2}(?=reasons?\b))", re.IGNORECASE)
_CAUSE_AR = re.compile(
    "(?:^|\\s)(?:" + "|".join(fold_for_match(w) for w in (
        "بسبب", "لأسباب", "لاسباب", "لدواع", "لدواعي", "احتجاجا على", "احتجاجا علي", "ردا على", "ردا علي",
        "من أجل", "بهدف", "نتيجة", "بفعل", "جراء", "لأن", "لان", "بحجة")) + ")\\s")
# The markers' own words and words that name a cause without saying which.
VAGUE_CAUSE_WORDS = frozenset("""reason reasons cause causes purpose purposes because due owing account result
    response retaliation protest order sake""".split())  # noqa: SIM905

Similarity = Callable[[list[str], list[str]], np.ndarray]

# English relation words -> folded Arabic stems of which one must be in the cited words.
_RELATIONS: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(("ally", "allies", "allied", "alliance", "alliances"),
                    ("حليف", "حلفاء", "تحالف", "متحالف", "حلف")),
    **dict.fromkeys(("enemy", "enemies", "hostile", "hostility", "rival", "rivals", "rivalry", "against",
                     "adversary", "adversaries", "foe", "foes"),
                    ("عدو", "اعداء", "عداء", "معاد", "خصم", "خصوم", "منافس", "ضد", "مواجه", "عدائ")),
}
_RELATION_FORMS = {k: tuple(fold_for_match(f) for f in v) for k, v in _RELATIONS.items()}
_ARABIC_RELATIONS = frozenset(f for forms in _RELATION_FORMS.values() for f in forms)


def _phrase(match: re.Match[str], text: str) -> list[str]:
    """The words of a cause phrase: the marker and up to PHRASE_WORDS after it, to the clause's end."""
    segment = re.split(r"[,;.،؛:!?؟]| and | but | while ", text[match.start():] + " ", maxsplit=1)[0]
    return segment.split()[: len(match.group(0).split()) + PHRASE_WORDS]


def unsupported_cause(sentence: str, cited: list[str], language: Language,
                      word_similarity: Similarity | None = None) -> str | None:
    """The reason a cause or purpose in ``sentence`` is not in its ``cited`` passages, or None.
    English sentences need ``word_similarity`` (word to word, the embedding model)."""
    plain = MARKER.sub(" ", sentence)
    if language == "ar":
        folded = fold_for_match(plain)
        cited_tokens = set(tokenize(" ".join(cited)))
        for match in _CAUSE_AR.finditer(folded):
            words = re.split(r"[,;.،؛:!?؟]", folded[match.end():], maxsplit=1)[0].split()[:PHRASE_WORDS]
            missing = [w for w in words if set(tokenize(w)) and not set(tokenize(w)) & cited_tokens]
            if missing:
                phrase = f"{match.group(0).strip()} {' '.join(words)}"
                return (f"the cause «{phrase}» in «{quote(sentence)}» is not in the cited words "
                        f"(«{missing[0]}»)")
        return None
    if word_similarity is None:
        return None
    arabic = arabic_forms(cited)
    if not arabic:
        return None
    for match in _CAUSE_EN.finditer(plain):
        content = [w for w in re.findall(r"[a-z][a-z\-]+", " ".join(_phrase(match, plain)))
                   if w not in ENGLISH_STOPWORDS and w not in VAGUE_CAUSE_WORDS and len(w) > 2]
        if not content:
            continue
        best = np.max(word_similarity(content, arabic), axis=1)
        for word, score in zip(content, best, strict=True):
            if float(score) < MIN_CAUSE_SIMILARITY:
                return (f"the cause {word!r} in «{quote(sentence)}» has no counterpart in the cited words "
                        f"(best similarity {float(score):.2f})")
    return None


def unsupported_relation(sentence: str, cited: list[str], language: Language) -> str | None:
    """The reason an alliance or hostility the answer states is not stated by the cited words, or None."""
    plain = MARKER.sub(" ", sentence)
    folded_cited = fold_for_match(" ".join(cited))
    if language == "ar":
        for word in fold_for_match(plain).split():
            stems = [s for s in _ARABIC_RELATIONS if any(f.startswith(s) for f in bare_arabic(word))]
            if stems and not any(s in folded_cited for s in stems):
                return f"«{quote(sentence)}» states a relation («{word}») the cited words do not"
        return None
    for word in re.findall(r"[a-z]+", plain.lower()):
        forms = _RELATION_FORMS.get(word)
        if forms and not any(form in folded_cited for form in forms):
            if re.search(rf"in protest {word}\b", plain.lower()):
                continue  # a cause, checked as one
            return f"«{quote(sentence)}» states a relation ({word!r}) the cited words do not"
    return None
