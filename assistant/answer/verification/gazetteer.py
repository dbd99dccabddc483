"""Country, city, month and weekday names in English and Arabic, from CLDR through Babel.

A skeleton match (``Iran`` ~ ``RN``) says a Latin name *may* be an Arabic word of the passage; CLDR says
what the Arabic word for a country, a time-zone city, a month or a weekday *is*, so an English answer that
names Iran, Moscow, October or Wednesday can be held to the Arabic words that name exactly those. Arabic
months have several names (Egyptian «أكتوبر», Levantine «تشرين الأول»): every Arabic locale's form counts.
"""

from __future__ import annotations

import re
from functools import cache

from babel import Locale

from assistant.textnorm import fold_for_match

#: Arabic locales whose month names differ (Egypt/Gulf, Levant, Iraq, Maghreb): one month, several names.
_ARABIC_LOCALES = ("ar", "ar_SY", "ar_LB", "ar_IQ", "ar_JO", "ar_MA", "ar_DZ", "ar_TN")


def _forms(name: str) -> set[str]:
    """A folded Arabic name and its stem without a final alif or ta marbuta, which the nisba adjective
    drops (سوريا -> السوري, روسيا -> الروسية)."""
    folded = fold_for_match(name).removeprefix("ال")
    forms = {folded}
    if len(folded) >= 4 and folded[-1] in "اه":
        forms.add(folded[:-1])
    return forms


@cache
def _tables() -> dict[str, dict[str, frozenset[str]]]:
    english = Locale("en")
    arabic = [Locale.parse(code) for code in _ARABIC_LOCALES]
    places: dict[str, set[str]] = {}
    for code, name in english.territories.items():
        if not code.isalpha() or len(code) != 2 or "(" in name or "&" in name:
            continue  # regions ("001"), variants ("Congo (DRC)"), compounds
        places.setdefault(name.lower(), set()).update(_forms(arabic[0].territories.get(code, "")))
    for zone, names in arabic[0].time_zones.items():
        city_en = english.time_zones.get(zone, {}).get("city") or zone.split("/")[-1].replace("_", " ")
        if names.get("city"):
            places.setdefault(city_en.lower(), set()).update(_forms(names["city"]))
    months: dict[str, set[str]] = {}
    for number, name in english.months["format"]["wide"].items():
        months[name.lower()] = {fold_for_match(loc.months["format"]["wide"][number]) for loc in arabic}
    days: dict[str, set[str]] = {}
    for number, name in english.days["format"]["wide"].items():
        days[name.lower()] = {fold_for_match(loc.days["format"]["wide"][number]) for loc in arabic}
    return {kind: {k: frozenset(v - {""}) for k, v in table.items() if v - {""}}
            for kind, table in (("place", places), ("month", months), ("day", days))}


def place_forms(name: str) -> frozenset[str] | None:
    """Arabic forms of an English country or city name (``Iran`` -> ``ايران``), None when CLDR has none."""
    return _tables()["place"].get(name.lower())


def calendar_forms(word: str) -> frozenset[str] | None:
    """Arabic forms of an English month or weekday name, None for any other word."""
    tables = _tables()
    return tables["month"].get(word.lower()) or tables["day"].get(word.lower())


def arabic_calendar_words(text: str) -> dict[str, frozenset[str]]:
    """The months and weekdays an Arabic text names, each with every Arabic form of the same month or day
    (so «أكتوبر» in an answer is matched by «تشرين الأول» in a passage, and not by «سبتمبر»)."""
    folded = fold_for_match(text)
    found: dict[str, frozenset[str]] = {}
    for kind in ("month", "day"):
        for english, forms in _tables()[kind].items():
            if any(re.search(rf"(?<!\w)(?:ال|و|ب|ل|وال|بال)?{re.escape(f)}(?!\w)", folded) for f in forms):
                found[english] = forms
    return found


@cache
def _place_index() -> dict[str, str]:
    """Folded Arabic place form -> ``place:<english name>``."""
    return {form: f"place:{english}" for english, forms in _tables()["place"].items() for form in forms}


def place_key_of(forms: list[str]) -> str | None:
    """``place:<english name>`` when one of an Arabic word's folded forms is a CLDR country or city or its
    nisba adjective (الروسي, السورية, الإيراني), else None."""
    index = _place_index()
    for form in forms:
        stem = form.removeprefix("ال")
        candidates = [stem]
        # The least taken off first: «التركية» is Türkiye's «تركي» before it is «ترك», CLDR's Chuuk.
        for ending in ("ه", "ي", "يه"):
            if stem.endswith(ending) and len(stem) - len(ending) >= 3:
                candidates.append(stem[: -len(ending)])
        for candidate in candidates:
            if candidate in index:
                return index[candidate]
    return None


@cache
def _place_names() -> frozenset[str]:
    """Folded Arabic names of CLDR's countries and cities as written, without the article (not the stems
    :func:`_forms` adds for nisba adjectives)."""
    english, arabic = Locale("en"), Locale("ar")
    names = {name for code, name in arabic.territories.items()
             if code.isalpha() and len(code) == 2 and code in english.territories}
    names.update(n["city"] for n in arabic.time_zones.values() if n.get("city"))
    return frozenset(fold_for_match(n).removeprefix("ال") for n in names)


def place_of(forms: list[str]) -> tuple[str, bool] | None:
    """``(english name, is the name itself)`` of the CLDR country or city one of an Arabic word's folded
    ``forms`` names, None when it names none: ``("türkiye", True)`` for «تركيا», ``("netherlands", False)``
    for the adjective «الهولندي»."""
    key = place_key_of(forms)
    if key is None:
        return None
    return key.removeprefix("place:"), any(f.removeprefix("ال") in _place_names() for f in forms)
