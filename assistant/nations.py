"""Capitals and demonyms of countries, from the countryinfo package (CLDR, through Babel, has neither).

News writes a government by its capital ("Tehran", «موسكو») and a person by the adjective of their country
("Turkish officials"): a question that says "Tehran" asks about Iran, and "Turkish" asks for Turkey's. Each
is tied to its CLDR country (:mod:`assistant.cldr`) by the ISO code, so the Arabic names come from CLDR as
everywhere else.
"""

from __future__ import annotations

import re
from functools import lru_cache

from countryinfo import CountryInfo

from assistant import cldr

#: "Washington D.C." is written "Washington".
_CAPITAL_SUFFIX = re.compile(r",?\s+D\.?\s?C\.?$")


@lru_cache(maxsize=1)
def _tables() -> tuple[dict[str, cldr.Name], dict[str, cldr.Name], dict[str, str]]:
    """(capital -> country, demonym -> country, country's English name -> capital), lower case.

    A demonym several territories share ("French" of France and of French Guiana) is the most populous
    one's, the country a reader means by it.
    """
    by_code = {name.code: name for name in cldr.names() if name.kind == "country"}
    capitals: dict[str, cldr.Name] = {}
    demonyms: dict[str, tuple[int, cldr.Name]] = {}
    capital_of: dict[str, str] = {}
    for info in CountryInfo.all().values():
        name = by_code.get((info.get("ISO") or {}).get("alpha2", ""))
        if name is None:
            continue
        listed = info.get("capital") or []
        # A country with several capitals (South Africa) lists them; the first is the seat of government.
        for capital in [listed] if isinstance(listed, str) else listed:
            if capital := _CAPITAL_SUFFIX.sub("", capital).strip():
                capitals.setdefault(capital.lower(), name)
                capital_of.setdefault(name.english.lower(), capital)
        if demonym := (info.get("demonym") or "").strip().lower():
            population = info.get("population") or 0
            if demonym not in demonyms or demonyms[demonym][0] < population:
                demonyms[demonym] = (population, name)
    return capitals, {d: name for d, (_, name) in demonyms.items()}, capital_of


def country_of_capital(word: str) -> cldr.Name | None:
    """The country whose capital ``word`` is ("Tehran" -> Iran), else None."""
    return _tables()[0].get(word.lower())


def country_of_demonym(word: str) -> cldr.Name | None:
    """The country ``word`` is the demonym of ("Turkish" -> Turkey, "American" -> the United States)."""
    return _tables()[1].get(word.lower())


def capital_of(country: cldr.Name) -> str | None:
    """The English name of ``country``'s capital ("Iran" -> "Tehran"), else None."""
    return _tables()[2].get(country.english.lower())


def names() -> frozenset[str]:
    """Every capital and demonym known, lower case."""
    capitals, demonyms, _ = _tables()
    return frozenset(capitals) | frozenset(demonyms)
