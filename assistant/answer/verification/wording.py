"""Every word an English answer adds to an Arabic passage must have a counterpart in the cited words.

An English sentence about an Arabic passage was checked by its names, numbers, negation, causes and the
sentence's embedding similarity to the passage. What got through were single substituted words that are
none of those: "northern Russia" for «جنوب روسيا», "brief talks" for «محادثات مفصلة», "deepen the
isolation" for «فك العزلة». A sentence embedding weighs one word of twenty too little to notice; held-back
sets measured the verifier's precision on English answers at 0.53-0.55.

So each content word of the sentence is held to account on its own: it passes when it is a function word
(scikit-learn's English stop-word list), a name or number (checked elsewhere), a word of the question (the
reader's own words, stemmed), a framing word ("article", "according") or a cause marker's ("for … reasons":
the cause check holds the cause's own words to the cited ones), or when some cited Arabic word embeds
close to it (:data:`MIN_WORD_SIMILARITY`). Many words that translate each other score 0.6-0.9 on the shipped
article ("security" / «أمنية» 0.81), but not all ("mediator" / «وسيطا» 0.42), and a wrong word can score as
high as a right one: unsure is a rejection, and most right English paraphrases are rejected too
(bench/README.md). The reader then gets the extractive answer, a verbatim quote with its English gloss,
which is never wrong in this way.
"""

from __future__ import annotations

import re

import simplemma
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from assistant.answer.citations import MARKER
from assistant.answer.verification.causes import VAGUE_CAUSE_WORDS, Similarity
from assistant.answer.verification.entities import arabic_forms, numbers_in
from assistant.answer.verification.markers import quote
from assistant.textnorm import stem

#: Least embedding similarity between an English content word and its closest cited Arabic word.
MIN_WORD_SIMILARITY = 0.6

# Words that frame an answer or refer to the source, never a claim about the story.
_FRAMING = frozenset("""according article passage passages text source sources report reports reported
    says said states stated mentions mentioned notes noted""".split())  # noqa: SIM905
_WORD = re.compile(r"[A-Za-z][A-Za-z'’\-]*")


def _content_words(sentence: str, question: str) -> list[str]:
    """The words of ``sentence`` to anchor: not a stop word, name, number, framing or question word."""
    asked = {stem("english", w.lower()) for w in _WORD.findall(question)}
    numbers = numbers_in(sentence)
    words = []
    for index, raw in enumerate(_WORD.findall(MARKER.sub(" ", sentence))):
        word = raw.strip("'’-").lower()
        if word.endswith(("'s", "’s")):
            word = word[:-2]
        if len(word) < 3 or word in ENGLISH_STOP_WORDS or word in _FRAMING or word in VAGUE_CAUSE_WORDS:
            continue
        if raw[0].isupper() and index:
            continue  # a name: the name checks have looked for it in the cited words
        if numbers_in(word) & numbers or stem("english", word) in asked:
            continue
        words.append(word)
    return list(dict.fromkeys(words))


def unanchored_word(sentence: str, cited: list[str], question: str,
                    word_similarity: Similarity | None) -> str | None:
    """Why an English ``sentence`` over Arabic ``cited`` passages says something they do not, or None."""
    if word_similarity is None:
        return None
    arabic = arabic_forms(cited)
    words = _content_words(sentence, question)
    if not arabic or not words:
        return None
    # A past tense or plural embeds further from its translation than the dictionary form ("met" 0.58 but
    # "meet" 0.76 against «لقاء»): the better of the two counts.
    lemmas = [simplemma.lemmatize(w, lang="en") for w in words]
    forms = list(dict.fromkeys(words + lemmas))
    best = dict(zip(forms, word_similarity(forms, arabic).max(axis=1), strict=True))
    for word, lemma in zip(words, lemmas, strict=True):
        score = max(float(best[word]), float(best[lemma]))
        if score < MIN_WORD_SIMILARITY:
            return (f"the word {word!r} in «{quote(sentence)}» has no counterpart in the cited words "
                    f"(best similarity {score:.2f})")
    return None
