"""Names that Arabic and English both have, from CLDR through Babel: countries, weekdays and months.

Used to tell whether a question names a country the article never mentions (answerability), and to gloss an
Arabic quote for an English reader (countries, days, months, numbers) without a translation model: every
gloss is a CLDR name, never a guess.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

from babel import Locale
from babel.numbers import format_decimal, get_currency_symbol

from assistant.textnorm import fold_for_match, strip_clitics

# Two-letter CLDR territories that are not countries: unions, pseudo-locales, "unknown". The United Nations
# in particular is mostly written as an adjective («الوسيط الأممي»), which a country's name test would miss.
_NOT_COUNTRIES = frozenset({"EU", "EZ", "QO", "UN", "XA", "XB", "ZZ"})


@dataclass(frozen=True)
class Name:
    """One thing with its English and Arabic names (Arabic folded for matching)."""

    english: str
    arabic: str
    folded: str
    kind: str  # "country", "weekday", "month"
    code: str = ""  # a country's ISO 3166 two-letter code


@lru_cache(maxsize=1)
def names() -> tuple[Name, ...]:
    """Countries (ISO two-letter territories), weekdays and months (Gregorian and Levantine) from CLDR."""
    en, ar = Locale("en"), Locale("ar")
    found: list[Name] = []
    for code, english in en.territories.items():
        if len(code) == 2 and code.isalpha() and code in ar.territories and code not in _NOT_COUNTRIES:
            found.append(Name(english, ar.territories[code], fold_for_match(ar.territories[code]), "country",
                              code))
    for number, english in en.days["format"]["wide"].items():
        arabic = ar.days["format"]["wide"][number]
        found.append(Name(english, arabic, fold_for_match(arabic), "weekday"))
    # Arabic writes months by their Gregorian names (يناير) or, in the Levant, by Syriac ones (كانون الثاني).
    for locale in (ar, Locale("ar", "SY")):
        for number, arabic in locale.months["format"]["wide"].items():
            english = en.months["format"]["wide"][number]
            found.append(Name(english, arabic, fold_for_match(arabic), "month"))
    return tuple(found)


def _bare(folded: str) -> str:
    return folded[2:] if folded.startswith("ال") and len(folded) > 4 else folded


def _stem(folded: str) -> str:
    # Prefix of the bare name: "كازاخستان" is met by "الكازاخية", "ايران" by "الإيراني".
    bare = _bare(folded)
    return bare[:5] if len(bare) > 5 else bare


@lru_cache(maxsize=4096)
def _word_forms(text: str) -> frozenset[str]:
    words = re.findall(r"\w+", fold_for_match(text))
    return frozenset(form for word in words for form in strip_clitics(word))


#: Words of a state's formal name that do not tell it apart (kingdom, Arab, united, republic, state…),
#: folded and without the article.
_STATE_WORDS = frozenset(fold_for_match(w) for w in (
    "مملكة", "عربية", "متحدة", "جمهورية", "دولة", "اتحادية", "شعبية", "ديمقراطية", "إسلامية", "سلطنة",
    "إمارة", "دوقية", "كبرى", "ولايات"))


def _distinctive(name: Name) -> str | None:
    """The word that names a country whose Arabic name is that word with words of a state's formal name
    (:data:`_STATE_WORDS`): text names Saudi Arabia («المملكة العربية السعودية») as «السعودية» and the United
    Arab Emirates as «الإمارات». Other several-word names have no such word: alone, «الأسود» of Montenegro
    («الجبل الأسود») is "the black"."""
    words = [_bare(w) for w in name.folded.split()]
    own = [w for w in words if w not in _STATE_WORDS]
    return own[0] if len(own) == 1 and len(own[0]) >= 4 and own[0].isalpha() else None


def mentions(text: str, name: Name) -> bool:
    """True when Arabic ``text`` mentions ``name`` (whole name, a word sharing its stem, or for a name of
    several words one that only this country's name has)."""
    folded = fold_for_match(text)
    if " " in name.folded:
        if name.folded in folded or _bare(name.folded) in folded:
            return True
        own = _distinctive(name) if name.kind == "country" else None
        return own is not None and any(_bare(f) == own for f in _word_forms(text))
    stem = _stem(name.folded)
    return any(form.startswith(stem) for form in _word_forms(text)) if len(stem) >= 3 else False


def mentions_or_adjective(text: str, name: Name) -> bool:
    """``mentions``, or an adjective of the country: "الروسي", "الرئاسة الروسية" for Russia, "السوري" for
    Syria (the first four letters of the bare name, since CLDR gives no adjectives)."""
    if mentions(text, name):
        return True
    bare = _bare(name.folded) if " " not in name.folded else ""
    return len(bare) >= 4 and any(form.startswith(bare[:4]) for form in _word_forms(text))


def named_in(question: str) -> list[Name]:
    """Countries (only: days and months are not "named things") a question names, in either language."""
    folded = fold_for_match(question)
    forms = _word_forms(question)
    found = []
    for name in names():
        if name.kind != "country":
            continue
        # The substring test first: it rules out nearly every name at a fraction of the regex's cost.
        in_english = name.english in question and re.search(
            rf"(?<![A-Za-z]){re.escape(name.english)}(?![A-Za-z])", question)
        if " " in name.folded:
            in_arabic = name.folded in folded
        else:
            in_arabic = (name.folded in forms or _bare(name.folded) in forms) and any(
                (name.folded in f or _bare(name.folded) in f) and not _article_before(w, name)
                for w, f in _words_and_forms(question))
        if in_english or in_arabic:
            found.append(name)
    return found


@lru_cache(maxsize=1)
def date_words() -> str:
    """A regex (on folded text) for the CLDR weekdays and months of both languages: what tells a sentence that
    answers "when?". Arabic names may carry a clitic («والخميس», «بسبتمبر»). An Arabic weekday needs its
    article: bare, «أحد» is "one". A two-letter month («آب») only counts after «شهر» ("the month of"):
    alone it is «أب», "father", and with a clitic «باب», "door". English "May" is left out: folded, it is
    the verb."""
    days, months, english = set(), set(), set()
    for name in names():
        if name.kind == "country":
            continue
        (days if name.kind == "weekday" else months).add(_bare(name.folded))
        if name.english.lower() != "may":
            english.add(name.english.lower())

    def alternatives(words: set[str]) -> str:
        return "|".join(sorted((re.escape(w) for w in words), key=len, reverse=True))

    clitic = r"(?:[وفبل]|وب|ول)?"
    short = {w for w in months if len(w) <= 2}
    return (rf"(?<!\w)(?:{clitic}ال(?:{alternatives(days)})|{clitic}(?:ال)?(?:{alternatives(months - short)})"
            rf"|شهر (?:{alternatives(short)}))(?!\w)|\b(?:{alternatives(english)})\b")


#: Currency units that are also common words ("won", "mark") or too short to tell in Arabic («ليف», «سوم»).
_AMBIGUOUS_UNITS = frozenset({"mark", "won", "som", "lev", "leu", "kyat", "colón", "sucre", "unit"})


@lru_cache(maxsize=1)
def currency_words() -> str:
    """A regex (on folded text) for money in either language, from CLDR's currencies: the unit words several
    currencies share or a currency is named by alone ("pound", "dinar", "euro"; «جنيه», «دينار», «يورو»,
    with a case ending or plural: «جنيها», «دولارات») and the currency symbols ("£", "€"). Codes starting
    with X (gold, special drawing rights, "unknown") are no money anyone is quoted a price in."""
    english, arabic = Locale("en").currencies, Locale("ar").currencies
    current = {code: name for code, name in english.items()
               if not code.startswith("X") and not any(c.isdigit() or c in "()" for c in name)}
    counts = Counter(name.split()[-1].lower() for name in current.values())
    alone = {name.lower() for name in current.values() if " " not in name}
    units = {unit for unit, n in counts.items() if n >= 2 or unit in alone} - _AMBIGUOUS_UNITS
    arabic_units = {fold_for_match(arabic[code].split()[0]) for code, name in current.items()
                    if code in arabic and name.split()[-1].lower() in units}
    arabic_units = {_bare(u) for u in arabic_units if len(_bare(u)) >= 4}
    symbols = {get_currency_symbol(code, "en") for code in current}
    symbols = {s for s in symbols if not any(c.isalnum() for c in s) and s != "¤"}
    arabic_alternatives = "|".join(sorted(arabic_units, key=len, reverse=True))
    return (rf"(?<!\w)(?:[وبل]?ال|و?لل|[وبل])?(?:{arabic_alternatives})\w{{0,3}}(?!\w)"
            rf"|\b(?:{'|'.join(sorted(units, key=len, reverse=True))})s?\b"
            rf"|{'|'.join(re.escape(s) for s in sorted(symbols))}")


@lru_cache(maxsize=4096)
def _words_and_forms(text: str) -> tuple[tuple[str, frozenset[str]], ...]:
    return tuple((word, frozenset(strip_clitics(fold_for_match(word)))) for word in re.findall(r"\w+", text))


def _article_before(word: str, name: Name) -> bool:
    """Whether ``word`` is ``name`` with «ال» in front when the name itself takes none: «المالي» is "the
    financial", not Mali; «المصري» is an adjective, where «العراق» is Iraq."""
    with_article = re.match(r"^(?:[وفبلك]|وب|ول)?ال", fold_for_match(word)) is not None
    return with_article and not name.folded.startswith("ال")


def gloss(text: str) -> list[tuple[str, str]]:
    """(Arabic as written, English) for the countries, weekdays, months and numbers in Arabic ``text``, in
    order of first appearance, each once."""
    found: dict[str, tuple[int, str, str]] = {}
    folded_text = fold_for_match(text)
    # Each word's forms once (folding is most of the cost), then every name against them.
    words = [(m.start(), m.group(), strip_clitics(fold_for_match(m.group())))
             for m in re.finditer(r"\w+", text)]
    for name in names():
        if " " in name.folded:
            where = folded_text.find(name.folded)
            if where >= 0:
                found.setdefault(name.english, (where, name.arabic, name.english))
            continue
        bare = _bare(name.folded)
        for start, word, forms in words:
            if (name.folded in forms or bare in forms) and not _article_before(word, name):
                found.setdefault(name.english, (start, word, name.english))
                break
    for match in re.finditer(r"\d+(?:[.,]\d+)?", text):  # as written: «٢٠١٥» is glossed 2015
        number = match.group()
        value = float(number.replace(",", "")) if "." in number or "," in number else int(number)
        english = format_decimal(value, locale="en", group_separator=False)
        if english != number:  # "102 (102)" tells an English reader nothing; «١٠٢ (102)» does
            found.setdefault(number, (match.start(), number, english))
    return [(arabic, english) for _, arabic, english in sorted(found.values())]
