"""Capitals and demonyms from countryinfo, tied to CLDR's countries."""

from __future__ import annotations

import pytest

from assistant import cldr, nations


def _country(english: str) -> cldr.Name:
    return next(n for n in cldr.names() if n.kind == "country" and n.english == english)


@pytest.mark.parametrize(("capital", "country"), [
    ("Tehran", "Iran"), ("moscow", "Russia"), ("Damascus", "Syria"), ("Washington", "United States"),
])
def test_a_capital_names_its_country(capital, country):
    assert nations.country_of_capital(capital) == _country(country)


def test_a_city_that_is_no_capital_names_no_country():
    assert nations.country_of_capital("Sochi") is None
    assert nations.country_of_capital("Aleppo") is None


@pytest.mark.parametrize(("demonym", "country"), [
    ("Turkish", "Türkiye"), ("British", "United Kingdom"), ("American", "United States"),
    ("Iranian", "Iran"),
    # French Guiana and French Polynesia are "French" too: the word means the most populous of them.
    ("French", "France"),
])
def test_a_demonym_names_its_country(demonym, country):
    assert nations.country_of_demonym(demonym) == _country(country)


def test_a_country_has_its_capital_in_english():
    assert nations.capital_of(_country("Iran")) == "Tehran"
    assert nations.capital_of(_country("United States")) == "Washington"
