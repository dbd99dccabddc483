"""Numbers and names in generated answers, and how to find them in Arabic passages: number words in both
languages, consonant skeletons that match a Latin transliteration with its Arabic original, and names that
Arabic translates rather than transliterates."""

from __future__ import annotations

import re
from collections.abc import Iterable

from assistant.answer.citations import MARKER
from assistant.answer.verification.gazetteer import place_key_of
from assistant.schemas import Language
from assistant.textnorm import fold_for_match, normalize_arabic, strip_clitics, tokenize

_NUMBER = re.compile(r"\d+(?:[.,٫]\d+)*")
LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z'’.\-]*")
ARABIC_WORD = re.compile("[\u0621-\u064a]+")


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


# Ordinals name one thing of a series ("the tenth round"), where a cardinal in a question mostly describes
# ("the two leaders", "the three guarantors") and need not be written in the article.
_EN_ORDINALS = frozenset(("third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth",
                          "eleventh", "twelfth"))
_AR_ORDINALS = frozenset(normalize_arabic(w) for w in (
    "ثالث", "ثالثة", "رابع", "رابعة", "خامس", "خامسة", "سادس", "سادسة", "سابع", "سابعة",
    "ثامن", "ثامنة", "تاسع", "تاسعة", "عاشر", "عاشرة"))


def bare_arabic(word: str) -> list[str]:
    """A folded Arabic word and its forms without the conjunction/preposition clitics and the article."""
    return strip_clitics(normalize_arabic(word))


def arabic_forms(texts: list[str]) -> list[str]:
    """Every Arabic word of ``texts`` and its forms without clitics (two letters or more), sorted: what an
    English word of an answer is compared with, by embedding, when no translation is at hand."""
    return sorted({form for text in texts for w in ARABIC_WORD.findall(text)
                   for form in (w, *bare_arabic(w)[1:]) if len(form) >= 2})


def numbers_in(text: str, *, ordinals: bool = True) -> set[str]:
    """Numbers stated in ``text``: digits (Arabic-Indic folded) and number words, as digit strings; without
    ordinal words ("the ninth round" counts nothing) when ``ordinals`` is False."""
    text = normalize_arabic(MARKER.sub(" ", text))
    found = {m.replace(",", "").replace("٫", ".") for m in _NUMBER.findall(text)}
    for word in re.findall(r"[A-Za-z]+", text):
        if word.lower() in _EN_NUMBER_WORDS and (ordinals or word.lower() not in _EN_ORDINALS):
            found.add(_EN_NUMBER_WORDS[word.lower()])
    for word in ARABIC_WORD.findall(text):
        for form in bare_arabic(word):
            if form in _AR_NUMBER_WORDS and (ordinals or form not in _AR_ORDINALS):
                found.add(_AR_NUMBER_WORDS[form])
                break
    return found


# Digits that single something out: a year, a model, a total (2015, S-300, 102), or an ordinal (9th). Not
# a small count ("the 2 leaders" describes), nor digits inside a name or a date ("G20", "9/11"), nor a
# formatted amount ("10,000", "1.5 million"), which Arabic often writes in words.
_SPECIFIC_DIGITS = re.compile(r"(?<![\w/.,٫])(\d+)(?:st|nd|rd|th)?(?![\w/]|[.,٫]\d)")
_ORDINAL_DIGITS = re.compile(r"\d+(?:st|nd|rd|th)\b")
#: English ordinals Arabic writes as one word (3rd to 10th: «الثالث» … «العاشر»; 11th is «الحادي عشر»).
_EN_SINGLE_WORD_ORDINALS = _EN_ORDINALS - {"eleventh", "twelfth"}


def specific_numbers_in(text: str) -> set[str]:
    """The numbers of ``text`` that single something out, as digit strings: digits of 13 and more or with an
    ordinal ending ("S-300", "2015", "9th"), and ordinal words from third to tenth ("the tenth round",
    «الجولة العاشرة»); cardinal words, fractions ("a third") and compound ordinals («الثالثة عشرة») are left
    out."""
    text = normalize_arabic(MARKER.sub(" ", text))
    found = {m.group(1) for m in _SPECIFIC_DIGITS.finditer(text)
             if int(m.group(1)) >= 13 or _ORDINAL_DIGITS.fullmatch(m.group(0))}
    latin = [w.lower() for w in re.findall(r"[A-Za-z]+", text)]
    for i, word in enumerate(latin):
        before, after = latin[i - 1] if i else "", latin[i + 1] if i + 1 < len(latin) else ""
        if word in _EN_SINGLE_WORD_ORDINALS and before not in ("a", "one", "two") and after not in (
                "party", "parties", "world"):
            found.add(_EN_NUMBER_WORDS[word])
    arabic = ARABIC_WORD.findall(text)
    for i, word in enumerate(arabic):
        ordinal = next((f for f in bare_arabic(word) if f in _AR_ORDINALS), None)
        compound = i + 1 < len(arabic) and arabic[i + 1] in ("عشر", "عشره")
        if ordinal and not compound:
            found.add(_AR_NUMBER_WORDS[ordinal])
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


# Letters that names are transliterated two ways, by dialect or by the language they came through: ظ as "z"
# (Mahfouz «محفوظ», Hafez «حافظ»), ق as "g" (Gaddafi «قذافي», Khashoggi «خاشقجي»). ض and ذ as "z" (Ramzan,
# Azerbaijan) are left out: common words read so matched absent names (Morsi «المعارضة», Bush «الأبيض»).
_ARABIC_ALTERNATIVES = {"ظ": "S", "ق": "G"}
#: Most ambiguous letters a word's alternative skeletons are spelled out for (2**n skeletons).
_MAX_ALTERNATIVES = 3
#: Shortest skeleton an alternative reading may match: two consonants match too many words read two ways.
MIN_ALTERNATIVE_SKELETON = 3


def alternative_skeletons(word: str) -> set[str]:
    """The other consonant skeletons of a folded Arabic word, with the letters of
    :data:`_ARABIC_ALTERNATIVES` read their other way (``محفوظ``: ``MFS`` besides ``MFD``). Only an equal
    Latin skeleton of :data:`MIN_ALTERNATIVE_SKELETON` letters or more may match one (:func:`matches_word`):
    the prefix and one-edit leeway of :func:`skeletons_match` would let absent names through."""
    skeletons = [""]
    ambiguous = 0
    for char in word:
        if char not in _ARABIC_CLASS:
            continue
        readings = [_ARABIC_CLASS[char]]
        if char in _ARABIC_ALTERNATIVES and ambiguous < _MAX_ALTERNATIVES:
            readings.append(_ARABIC_ALTERNATIVES[char])
            ambiguous += 1
        skeletons = [s + r for s in skeletons for r in readings]
    return {_collapse(s) for s in skeletons} - {"", arabic_skeleton(word)}


def matches_word(latin: str, arabic_word: str) -> bool:
    """True when the Latin skeleton ``latin`` plausibly spells the folded Arabic word: its skeleton by
    :func:`skeletons_match`, or exactly one of its :func:`alternative_skeletons`."""
    if skeletons_match(latin, arabic_skeleton(arabic_word)):
        return True
    return len(latin) >= MIN_ALTERNATIVE_SKELETON and latin in alternative_skeletons(arabic_word)


def latin_variants(word: str) -> list[str]:
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


#: Lower-case abbreviations whose full stop ends no sentence ("Real Madrid vs. Barcelona").
_ABBREVIATIONS = frozenset({"vs", "etc", "approx", "cf", "al", "ca", "no", "vol", "pp", "ed", "eds"})
_ABD = re.compile(r"abd[aeu]l", re.IGNORECASE)
#: An English possessive ending: "Egypt's" is Egypt.
POSSESSIVE = re.compile(r"['’]s?$")


def _opens_sentence(before: str) -> bool:
    """Whether a word after ``before`` starts a sentence, where a capital says nothing of a name: after a
    question or exclamation mark, or a full stop that ends a lower-case word or a number (not "Mr.",
    "U.S." or "vs.")."""
    before = before.rstrip()
    if before.endswith(("?", "!", "؟")):
        return True
    ended = re.search(r"(\S+)\.$", before)
    word = ended.group(1) if ended else ""
    return word.isdigit() or (word.isalpha() and word.islower() and word not in _ABBREVIATIONS)


def latin_names(sentence: str, language: Language, *, include_first: bool = False) -> list[str]:
    """Latin words to check as names: in English the capitalised ones that do not open a sentence (those
    too with ``include_first``, for an answer of a word or two); in Arabic all of them."""
    plain = MARKER.sub(" ", sentence)
    matches = list(LATIN_WORD.finditer(plain))
    names = []
    for index, match in enumerate(matches):
        # "Erdogan's reaction" names Erdogan.
        word = re.sub(r"['’]s$", "", match.group()).strip(".'’-")
        if not word:
            continue
        opens = index == 0 or _opens_sentence(plain[:match.start()])
        if language == "en" and ((opens and not include_first) or not word[0].isupper()):
            continue
        for part in word.split("-"):
            if part and part.lower() not in GENERIC_CAPITALISED and (language == "ar" or part[0].isupper()):
                names.append(part)
    return names


def translated_phrases(sentence: str) -> list[tuple[str, tuple[str, ...]]]:
    """Lexicon names in ``sentence`` and the Arabic forms that support each.

    Acronyms ("US", "UN") must be written in capitals, so the pronoun "us" is not taken for a country.
    """
    plain = MARKER.sub(" ", sentence)
    found = []
    for name, forms in TRANSLATED_NAMES.items():
        acronym = len(name.replace(".", "")) <= 2
        target, flags = (name.upper(), 0) if acronym else (name, re.IGNORECASE)
        if re.search(rf"(?<![A-Za-z]){re.escape(target)}(?![A-Za-z])", plain, flags):
            found.append((name, forms))
    return found


class Evidence:
    """What a set of passages offers to check a sentence against (computed once per passage set)."""

    def __init__(self, texts: list[str]) -> None:
        joined = "\n".join(texts)
        self.folded = fold_for_match(joined)
        self.numbers = numbers_in(joined)
        self.tokens = set(tokenize(joined))
        self.latin_words = {w.lower() for w in re.findall(r"[A-Za-z]+", joined)}
        self.bare_forms = {form for word in ARABIC_WORD.findall(joined) for form in bare_arabic(word)}
        self.skeletons = {arabic_skeleton(form) for form in self.bare_forms} - {""}
        self.alternatives = {k for form in self.bare_forms for k in alternative_skeletons(form)}
        self.places = {key for word in ARABIC_WORD.findall(joined)
                       if (key := place_key_of(bare_arabic(word)))}

    def has_name(self, name: str, *, variants: bool = True) -> bool:
        """True when ``name`` (Latin script) occurs in the passages as a word or a transliteration (also of
        its forms without a possessive, plural or demonym ending, unless ``variants`` is False)."""
        if name.lower() in self.latin_words:
            return True
        if _ABD.fullmatch(name):
            # «عبد» of a compound name, written joined to the article of the next word: its skeleton (BD)
            # is also «بعد» (after), so the word itself must be there.
            return "عبد" in self.bare_forms
        for variant in latin_variants(name) if variants else [name]:
            skeleton = latin_skeleton(variant)
            if len(skeleton) < 2:
                # Too short to tell anything. Only the name itself may pass so: a shortened variant
                # ("Ira" of "Iran") used to let every name whose stem is short through.
                if variant == name:
                    return True
                continue
            if any(skeletons_match(skeleton, s) for s in self.skeletons):
                return True
            if len(skeleton) >= MIN_ALTERNATIVE_SKELETON and skeleton in self.alternatives:
                return True
        return False
