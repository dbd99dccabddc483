"""Verification of a generated answer against the passages it cites, because a 1.5B model invents facts.

:func:`verify` takes the model's raw answer and the numbered passages it was given:

1. chat-template artefacts are removed and citation markers are normalised to ``[n]`` (``[1, 2]``,
   ``[Passage 2]``, ``[المقطع ٢]``, a marker after the full stop); markers ``[n]`` pointing to passages that
   were not given are dropped;
2. an answer without any valid citation is rejected; a refusal ("the article does not answer") while
   retrieval is confident is rejected;
3. per sentence, against the passages it cites (or, for a sentence without a marker, all passages the
   answer cites):

   * **numbers** (digits, and number words such as ``التاسعة`` / ``ninth``) must occur there: the strict
     check;
   * **names**: in English sentences, capitalised words that are not the sentence's first word; in Arabic
     sentences, Latin-script words. A name passes if it occurs as a word, if its consonant skeleton
     matches an Arabic word's (a rough transliteration check: ``Putin``/``بوتين`` both give ``BTN``), or if
     a short lexicon of names that Arabic translates rather than transliterates (``United States`` /
     ``الولايات المتحدة``) finds its Arabic form. Arabic has no capitals: there, a word that is missing
     from the cited passages but present in another passage given to the model counts as a name taken
     from the wrong passage;
   * **support**: an Arabic sentence must share at least :data:`MIN_COVERAGE` of its content words (stemmed,
     normalised) with its passages or the question. A sentence in another language than its passages
     (English answer, Arabic article) cannot be compared word by word: when a :class:`Similarity` is given
     (the answerer passes one backed by the embedding model), its cited passage must be nearly the most
     similar of the given passages and above a floor; without one, only its numbers and names are checked.

When every check passes, the answer's markers are renumbered to be contiguous (``[1]``..``[n]`` in order of
first use) and :class:`Verification` says which given passage each new number stands for and which answer
sentences cite it. When one fails, :class:`Verification` carries a user-readable reason;
:mod:`assistant.answer.generative` then returns the extractive answer instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from assistant.answer.citations import marker_label, markers, strip_markers
from assistant.schemas import Language, ScoredPassage
from assistant.textnorm import detect_language, fold_for_match, normalize_arabic, tokenize

#: Share of a same-language sentence's content words that must occur in its passages or the question.
MIN_COVERAGE = 0.5
#: Cross-language support with embeddings: the cited passage's cosine to the sentence must reach this
#: floor and be within this margin of the most similar passage given. On the shipped article, English
#: sentences scored 0.48-0.64 against the Arabic passage stating them and at most 0.45 against others.
MIN_SIMILARITY = 0.3
SIMILARITY_MARGIN = 0.08


# ---------------------------------------------------------------------------------------------------
# Text analysis used by the checks
# ---------------------------------------------------------------------------------------------------

# The marker pattern of :mod:`assistant.answer.citations`, used here to blank markers out and renumber them.
_MARKER = re.compile(r"\[(\d{1,2})\]")
# "[1, 2]", "[1،2]", "[Passage 2]", "[المقطع ٢]" and Arabic-Indic digits are normalised to "[1] [2]".
_MARKER_LIST = re.compile(
    r"\[\s*(?:passages?|المقطعان|المقطع|مقطع)?\s*(\d{1,2}(?:\s*(?:[,،و]|and)\s*\d{1,2})*)\s*\]",
    re.IGNORECASE)
# A marker written after the sentence's full stop belongs to that sentence: "reasons. [1]" -> "reasons [1]."
_MARKER_AFTER_STOP = re.compile(r"([.!?؟])((?:\s*\[\d{1,2}\])+)")
_SENTENCE_BREAK = re.compile(r"(?<=[.!?؟])\s+|\n+")
_NUMBER = re.compile(r"\d+(?:[.,٫]\d+)*")
_LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z'’.\-]*")
_ARABIC_WORD = re.compile("[\u0621-\u064a]+")
_CHAT_ARTEFACTS = re.compile(r"<\|[^|>]*\|>|</?s>")


def strip_chat_artefacts(text: str) -> str:
    """``text`` without chat-template tokens (``<|im_end|>``, ``</s>``) a model may leave in its output."""
    return _CHAT_ARTEFACTS.sub("", text)


def normalise_markers(text: str) -> str:
    """Markers in one form, ``[n]``, each placed before the full stop of the sentence it supports."""
    def expand(match: re.Match[str]) -> str:
        numbers = re.findall(r"\d{1,2}", match.group(1))
        return marker_label([int(n) for n in numbers])

    text = _MARKER_LIST.sub(expand, text)
    text = _MARKER_AFTER_STOP.sub(lambda m: m.group(2) + m.group(1), text)
    return re.sub(r"[ \t]{2,}", " ", text).strip()


def split_sentences(text: str) -> list[str]:
    """Sentences of an answer; a piece that is only markers joins the sentence before it."""
    sentences: list[str] = []
    for piece in _SENTENCE_BREAK.split(text):
        piece = piece.strip()
        if not piece:
            continue
        if sentences and not re.search(r"\w", _MARKER.sub("", piece)):
            sentences[-1] = f"{sentences[-1]} {piece}"
        else:
            sentences.append(piece)
    return sentences


# Number words, so that "the 9th round" can be checked against "الجولة التاسعة". "One/first" and their
# Arabic forms are left out: "for the first time" is not a count.
_EN_NUMBER_WORDS = {
    word: str(n)
    for n, words in {
        2: "two second", 3: "three third", 4: "four fourth", 5: "five fifth", 6: "six sixth",
        7: "seven seventh", 8: "eight eighth", 9: "nine ninth", 10: "ten tenth", 11: "eleven eleventh",
        12: "twelve twelfth",
    }.items()
    for word in words.split()
}
_AR_NUMBER_WORDS = {
    normalize_arabic(word): str(n)
    for n, words in {
        2: "اثنان اثنين اثنتان اثنتين ثاني ثانية", 3: "ثلاث ثلاثة ثالث ثالثة", 4: "أربع أربعة رابع رابعة",
        5: "خمس خمسة خامس خامسة", 6: "ست ستة سادس سادسة", 7: "سبع سبعة سابع سابعة",
        8: "ثمان ثماني ثمانية ثامن ثامنة", 9: "تسع تسعة تاسع تاسعة", 10: "عشر عشرة عاشر عاشرة",
    }.items()
    for word in words.split()
}


def _bare_arabic(word: str) -> list[str]:
    """A folded Arabic word and its forms without the conjunction/preposition clitics and the article."""
    word = normalize_arabic(word)
    forms = [word]
    stem = word
    if len(stem) > 3 and stem[0] in "وف":
        stem = stem[1:]
        forms.append(stem)
    for prefix in ("بال", "كال", "لل", "ال", "ب", "ل"):
        if stem.startswith(prefix) and len(stem) - len(prefix) >= 2:
            forms.append(stem[len(prefix):])
            break
    return forms


def numbers_in(text: str) -> set[str]:
    """Numbers stated in ``text``: digits (Arabic-Indic folded) and number words, as digit strings."""
    text = normalize_arabic(_MARKER.sub(" ", text))
    found = {m.replace(",", "").replace("٫", ".") for m in _NUMBER.findall(text)}
    for word in re.findall(r"[A-Za-z]+", text):
        if word.lower() in _EN_NUMBER_WORDS:
            found.add(_EN_NUMBER_WORDS[word.lower()])
    for word in _ARABIC_WORD.findall(text):
        for form in _bare_arabic(word):
            if form in _AR_NUMBER_WORDS:
                found.add(_AR_NUMBER_WORDS[form])
                break
    return found


# Consonant skeletons: a transliteration-insensitive key shared by a Latin spelling and its Arabic
# original. Vowels, h, w and y are dropped on both sides (Arabic writes long vowels with و ي ا); letters
# transliterations confuse share a class.
_LATIN_DIGRAPHS = (("tch", "TS"), ("sch", "S"), ("ch", "TS"), ("sh", "S"), ("th", "T"), ("dh", "D"),
                   ("kh", "K"), ("gh", "G"), ("ph", "F"), ("ck", "K"), ("qu", "K"), ("zh", "G"))
_LATIN_CLASS = {"b": "B", "p": "B", "t": "T", "d": "D", "f": "F", "v": "F", "k": "K", "q": "K", "g": "G",
                "j": "G", "s": "S", "z": "S", "x": "KS", "r": "R", "l": "L", "m": "M", "n": "N"}
_ARABIC_CLASS = {"ب": "B", "پ": "B", "ت": "T", "ط": "T", "ث": "T", "د": "D", "ذ": "D", "ض": "D", "ظ": "D",
                 "ف": "F", "ڤ": "F", "ك": "K", "ق": "K", "خ": "K", "غ": "G", "ج": "G", "س": "S", "ص": "S",
                 "ز": "S", "ش": "S", "ر": "R", "ل": "L", "م": "M", "ن": "N"}


def _collapse(classes: Iterable[str]) -> str:
    out: list[str] = []
    for c in classes:
        if not out or out[-1] != c:
            out.append(c)
    return "".join(out)


def latin_skeleton(word: str) -> str:
    """Consonant skeleton of a Latin-script word (``Sochi`` -> ``STS``)."""
    word = word.lower()
    classes: list[str] = []
    i = 0
    while i < len(word):
        for digraph, cls in _LATIN_DIGRAPHS:
            if word.startswith(digraph, i):
                classes.extend(cls)
                i += len(digraph)
                break
        else:
            char = word[i]
            if char == "c":
                classes.append("S" if word[i + 1:i + 2] in ("e", "i", "y") else "K")
            elif char in _LATIN_CLASS:
                classes.extend(_LATIN_CLASS[char])
            i += 1
    return _collapse(classes)


def arabic_skeleton(word: str) -> str:
    """Consonant skeleton of a folded Arabic word (``سوتشي`` -> ``STS``)."""
    return _collapse(_ARABIC_CLASS[c] for c in word if c in _ARABIC_CLASS)


def _latin_variants(word: str) -> list[str]:
    """A Latin word and the forms without possessive, plural or demonym endings (Syrian -> Syria)."""
    word = re.sub(r"['’]s$", "", word)
    variants = [word]
    for suffix in ("ians", "ian", "ans", "an", "ese", "ish", "is", "i", "s", "n"):
        if word.lower().endswith(suffix) and len(word) - len(suffix) >= 3:
            variants.append(word[: -len(suffix)])
    return variants


def _within_one_edit(a: str, b: str) -> bool:
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) <= 1
    short, long_ = sorted((a, b), key=len)
    return any(long_[:i] + long_[i + 1:] == short for i in range(len(long_)))


def skeletons_match(latin: str, arabic: str) -> bool:
    """True when two skeletons plausibly spell the same name (equal; prefix; one edit when long)."""
    if not latin or not arabic:
        return False
    if latin == arabic:
        return True
    if len(latin) >= 3 and arabic.startswith(latin):
        return True  # Arabic suffixes: السورية -> SR + nothing, الروسيين -> RSN
    return min(len(latin), len(arabic)) >= 4 and _within_one_edit(latin, arabic)


#: Names that Arabic translates instead of transliterating, so no skeleton can match them. Each English
#: form maps to Arabic forms of which one must occur (after normalisation) in the cited passages.
_TRANSLATED_NAMES_RAW: dict[str, tuple[str, ...]] = {
    "united states": ("الولايات المتحدة", "أمريك", "أميرك", "واشنطن"),
    "us": ("الولايات المتحدة", "أمريك", "أميرك", "واشنطن"),
    "u.s.": ("الولايات المتحدة", "أمريك", "أميرك", "واشنطن"),
    "america": ("الولايات المتحدة", "أمريك", "أميرك"),
    "american": ("الولايات المتحدة", "أمريك", "أميرك"),
    "americans": ("الولايات المتحدة", "أمريك", "أميرك"),
    "united nations": ("الأمم المتحدة", "الأممي", "أممي"),
    "un": ("الأمم المتحدة", "الأممي", "أممي"),
    "u.n.": ("الأمم المتحدة", "الأممي", "أممي"),
    "middle east": ("الشرق الأوسط",),
    "mediterranean": ("المتوسط",),
    "security council": ("مجلس الأمن",),
    "kazakhstan": ("كازاخ",),
    "gulf": ("الخليج",),
    "monday": ("الاثنين",), "tuesday": ("الثلاثاء",), "wednesday": ("الأربعاء",),
    "thursday": ("الخميس",), "friday": ("الجمعة",), "saturday": ("السبت",), "sunday": ("الأحد",),
}
TRANSLATED_NAMES = {k: tuple(fold_for_match(v) for v in vs) for k, vs in _TRANSLATED_NAMES_RAW.items()}

#: Capitalised English words that are titles or common nouns, not names to check.
_GENERIC_WORDS = """i a an the this that these those it its according article passage passages
    president presidents
    prime minister ministers ministry foreign government opposition talks round rounds conference
    council army forces state republic agreement deal summit spokesman spokesperson secretary
    general defense defence navy media video news kingdom king leader leaders visit meeting missile
    missiles system systems mr mrs ms dr however also both in on at during after before while since
    al el ad as"""
GENERIC_CAPITALISED = frozenset(_GENERIC_WORDS.split())


# ---------------------------------------------------------------------------------------------------
# Verification
# ---------------------------------------------------------------------------------------------------

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
# Words an answer uses to frame itself ("according to the article"), never evidence of anything.
_FRAMING_TOKENS = frozenset(tokenize(
    "المقال المقطع المقاطع وفقا حسب بحسب يذكر ذكر تذكر يشير تشير أشار أشارت ورد جاء أن إن ذلك"
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


def _without_markers(text: str, keep: set[int]) -> str:
    """``text`` without the markers not in ``keep``, and no space left before a punctuation mark."""
    return re.sub(r"\s+([.!?؟،,؛])", r"\1", strip_markers(text, keep))  # "reasons [7]." -> "reasons."


def _quote(sentence: str, limit: int = 80) -> str:
    sentence = _without_markers(sentence, set())
    return sentence if len(sentence) <= limit else sentence[: limit - 1] + "…"


def _latin_names(sentence: str, language: Language) -> list[str]:
    """Latin words to check as names: capitalised ones after the first word in English, all in Arabic."""
    words = [w.strip(".'’-") for w in _LATIN_WORD.findall(_MARKER.sub(" ", sentence))]
    names = []
    for index, word in enumerate(words):
        if not word:
            continue
        if language == "en" and (index == 0 or not word[0].isupper()):
            continue
        for part in word.split("-"):
            if part and part.lower() not in GENERIC_CAPITALISED and (language == "ar" or part[0].isupper()):
                names.append(part)
    return names


def _translated_phrases(sentence: str) -> list[tuple[str, tuple[str, ...]]]:
    """Lexicon names in ``sentence`` and the Arabic forms that support each.

    Acronyms ("US", "UN") must be written in capitals, so the pronoun "us" is not taken for a country.
    """
    plain = _MARKER.sub(" ", sentence)
    found = []
    for name, forms in TRANSLATED_NAMES.items():
        acronym = len(name.replace(".", "")) <= 2
        target, flags = (name.upper(), 0) if acronym else (name, re.IGNORECASE)
        if re.search(rf"(?<![A-Za-z]){re.escape(target)}(?![A-Za-z])", plain, flags):
            found.append((name, forms))
    return found


class _Evidence:
    """What a set of passages offers to check a sentence against (computed once per passage set)."""

    def __init__(self, texts: list[str]) -> None:
        joined = "\n".join(texts)
        self.folded = fold_for_match(joined)
        self.numbers = numbers_in(joined)
        self.tokens = set(tokenize(joined))
        self.latin_words = {w.lower() for w in re.findall(r"[A-Za-z]+", joined)}
        self.skeletons = {
            arabic_skeleton(form) for word in _ARABIC_WORD.findall(joined) for form in _bare_arabic(word)
        } - {""}

    def has_name(self, name: str) -> bool:
        if name.lower() in self.latin_words:
            return True
        for variant in _latin_variants(name):
            skeleton = latin_skeleton(variant)
            if len(skeleton) < 2:
                return True  # too short to tell anything: not checkable, not rejected
            if any(skeletons_match(skeleton, s) for s in self.skeletons):
                return True
        return False


def _check_sentence(sentence: str, evidence: _Evidence, language: Language, question_tokens: set[str],
                    other_tokens: set[str], label: str) -> str | None:
    """Why ``sentence`` is not supported by ``evidence`` (None when it is)."""
    missing = sorted(numbers_in(sentence) - evidence.numbers)
    if missing:
        return f"the number {missing[0]} in «{_quote(sentence)}» is not in the cited passage {label}"

    covered: set[str] = set()
    for name, forms in _translated_phrases(sentence):
        if not any(form in evidence.folded for form in forms):
            return f"the name {name!r} in «{_quote(sentence)}» is not in the cited passage {label}"
        covered.update(name.lower().replace(".", " ").split())
    for name in _latin_names(sentence, language):
        if name.lower() in covered:
            continue
        if not evidence.has_name(name):
            return f"the name {name!r} in «{_quote(sentence)}» is not in the cited passage {label}"

    if language == "ar":
        content = set(tokenize(_MARKER.sub(" ", sentence))) - _FRAMING_TOKENS
        novel = content - evidence.tokens - question_tokens
        # Arabic has no capitals to spot names by. A word that is not in the cited passage but is in
        # another passage given to the model is taken for a fact from the wrong passage (the wrong city,
        # the wrong missile): the cheapest proper-noun-ish signal that does not need a gazetteer.
        borrowed = sorted(novel & other_tokens)
        if borrowed:
            return (f"«{_quote(sentence)}» uses {borrowed[0]!r} from another passage, not from the cited "
                    f"passage {label}")
        if len(content) >= 2:
            coverage = 1 - len(novel) / len(content)
            if coverage < MIN_COVERAGE:
                return (f"«{_quote(sentence)}» shares too few words ({coverage:.0%}) with the cited passage "
                        f"{label}")
    return None


def verify(answer: str, passages: list[ScoredPassage], language: Language, *, question: str = "",
           similarity: Similarity | None = None, confident: bool = True) -> Verification:
    """Check a generated ``answer`` against the ``passages`` it was given (numbered from 1).

    Returns the cleaned text with contiguous markers when every check passes, or the reason it failed.
    ``confident`` says whether retrieval found a close passage (a refusal is then a failure).
    """
    texts = [p.passage.text for p in passages]
    valid = set(range(1, len(passages) + 1))
    text = normalise_markers(strip_chat_artefacts(answer))
    dropped = [n for n in markers(text) if n not in valid]
    text = _without_markers(text, valid)
    cited = [n for n in markers(text) if n in valid]

    if not text:
        return Verification(ok=False, reason="the language model returned an empty answer")
    sentences = split_sentences(text)
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

    question_tokens = set(tokenize(question))
    tokens = [set(tokenize(t)) for t in texts]
    evidence_cache: dict[tuple[int, ...], _Evidence] = {}

    def evidence_for(numbers: tuple[int, ...]) -> _Evidence:
        if numbers not in evidence_cache:
            evidence_cache[numbers] = _Evidence([texts[n - 1] for n in numbers])
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
        reason = _check_sentence(sentence, evidence_for(numbers), language, question_tokens, others, label)
        if reason:
            return Verification(ok=False, dropped=dropped, text=text, reason=reason)
        for n in numbers:
            supports[n].append(sentence)
        passage_language = {detect_language(texts[n - 1]) for n in numbers}
        if passage_language != {language}:
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
                    reason=f"the cited passage {label} does not support «{_quote(sentence)}» "
                           f"(similarity {best_cited:.2f}, best passage {best_any:.2f})")

    renumber = {old: new for new, old in enumerate(cited, 1)}
    final = _MARKER.sub(lambda m: f"[{renumber[int(m.group(1))]}]", text)
    final = re.sub(r"(\[\d+\])(\s*\1)+", r"\1", final)  # "[1] [1]" after renumbering
    return Verification(ok=True, text=final, cited=cited, dropped=dropped,
                        support=[supports[n] for n in cited])

