"""Entity mentions in Arabic text and the agent of a verb by word order (used by :mod:`.roles`).

Entities are the ones the passages let us recognise honestly: CLDR country and city names and their nisba
adjectives (:mod:`.gazetteer`), names the answer writes in Latin script (consonant skeletons), titles with a
nisba («الرئيس الروسي», «نظيره السوري») and the names that follow them in any given passage, and «الأخير» /
«الأول» (the latter / the former of the entities just named). The word-order rules are in :func:`agent_of`.

Hand-written rather than a library: no Arabic parser or NER model is installed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from assistant.answer.citations import MARKER
from assistant.answer.verification.entities import (
    bare_arabic,
    latin_skeleton,
    latin_variants,
    matches_word,
)
from assistant.answer.verification.gazetteer import place_forms, place_key_of
from assistant.textnorm import ARABIC_STOPWORDS, fold_for_match

#: Words after a verb or verbal noun in which its agent is looked for.
AGENT_WINDOW = 3

#: Words that open a title before a nisba adjective («الرئيس الروسي»).
TITLES = frozenset(fold_for_match(w) for w in (  # noqa: SIM905 - a word list reads best as words
    "الرئيس رئيس نظيره نظيرها نظيريه الوسيط المبعوث المتحدث وزير الزعيم الملك الأمير زعيم ولي").split())
_ANAPHORA = {fold_for_match("الأخير"): 1, fold_for_match("الأول"): 2}
_PREPOSITIONS = frozenset(fold_for_match(w) for w in (  # noqa: SIM905
    "في إلى الى من عن مع على علي حول بين ضد لدى عبر").split())
# A clause ends at punctuation or before a connective that opens a new one.
_CLAUSE_BREAK = re.compile(
    r"\s*[،,؛;:.]\s*|\s+(?=(?:بينما|لكن|ولكن|حيث|فيما|وأيضا|وايضا|مشيرا|مضيفا|مؤكدا)\s)")


@dataclass
class Mention:
    """An entity named at words[start:end] of a text, with the keys it is known by."""

    start: int
    end: int
    keys: set[str] = field(default_factory=set)
    governed: bool = False  # after a preposition: not an agent


def words_of(text: str) -> list[tuple[str, list[str]]]:
    """Each word of ``text`` (markers removed) with its folded forms, clitics stripped and not."""
    return [(w, [*bare_arabic(w), fold_for_match(w)]) for w in re.findall(r"[\w']+", MARKER.sub(" ", text))]


def clauses(text: str) -> list[str]:
    """The clauses of an Arabic passage (split at punctuation and clause-opening connectives)."""
    return [c.strip() for c in _CLAUSE_BREAK.split(text) if c and len(c.split()) >= 2]


def latin_keys(name: str) -> set[str]:
    """The entity keys of a name written in Latin script (the name, and the place it is if CLDR knows it)."""
    keys = {f"name:{name.lower()}"}
    for variant in latin_variants(name):
        place = place_forms(variant)
        if place:
            keys.add(f"place:{variant.lower()}")
    return keys


def _name_matches(name: str, forms: list[str]) -> bool:
    skeletons = {latin_skeleton(v) for v in latin_variants(name)}
    skeletons = {s for s in skeletons if len(s) >= 2}
    return any(matches_word(k, f) for k in skeletons for f in forms if f)


class EntityReader:
    """Finds entity mentions in Arabic text, with aliases learnt from every given passage."""

    def __init__(self, passages: list[str], latin: list[str]) -> None:
        self.latin = latin
        self.name_words: dict[str, set[str]] = {}  # folded name word -> keys of its title's entity
        self.aliases: dict[str, set[str]] = {}
        # A word after a title is taken for a name only if the passages use it more than once: «بحلول» in
        # «هنأ الرئيس الروسي نظيره السوري بحلول شهر رمضان» is not one, «بوتين» and «الأسد» are.
        counts: dict[str, int] = {}
        for text in passages:
            for word, _ in words_of(text):
                key = fold_for_match(word).removeprefix("ال")
                counts[key] = counts.get(key, 0) + 1
        for text in passages:
            words = words_of(text)
            for i, (_, forms) in enumerate(words):
                if not any(f in TITLES for f in forms) or i + 1 >= len(words):
                    continue
                nisba = place_key_of(words[i + 1][1])
                if not nisba:
                    continue
                group = {nisba, *self._latin_matches(words[i + 1][1])}
                for j in range(i + 2, min(i + 4, len(words))):
                    w, f = words[j]
                    folded = fold_for_match(w)
                    if folded in ARABIC_STOPWORDS or any(x in TITLES for x in f) or place_key_of(f):
                        break
                    group |= self._latin_matches(f)
                    if counts.get(folded.removeprefix("ال"), 0) > 1:
                        self.name_words.setdefault(folded.removeprefix("ال"), set()).add(nisba)
                for key in group:
                    self.aliases.setdefault(key, set()).update(group)

    def _latin_matches(self, forms: list[str]) -> set[str]:
        keys: set[str] = set()
        for name in self.latin:
            if _name_matches(name, forms):
                keys |= latin_keys(name)
        return keys

    def closure(self, keys: set[str]) -> set[str]:
        """``keys`` and every key an alias links to them."""
        out = set(keys)
        for key in keys:
            out |= self.aliases.get(key, set())
        return out

    def mentions(self, words: list[tuple[str, list[str]]]) -> list[Mention]:
        """The entity mentions of ``words`` in order (titles with their nisba and names as one mention)."""
        found: list[Mention] = []
        i = 0
        while i < len(words):
            word, forms = words[i]
            folded = fold_for_match(word)
            governed = (i > 0 and fold_for_match(words[i - 1][0]) in _PREPOSITIONS) or bool(
                re.match("(?:و|ف)?(?:لل|بال|كال|لا)", folded) and len(folded) > 4)
            if any(f in TITLES for f in forms) and i + 1 < len(words) and place_key_of(words[i + 1][1]):
                keys = {place_key_of(words[i + 1][1]) or ""} | self._latin_matches(words[i + 1][1])
                end = i + 2
                while end < min(i + 4, len(words)) and (
                        self._latin_matches(words[end][1])
                        or fold_for_match(words[end][0]).removeprefix("ال") in self.name_words):
                    keys |= self._latin_matches(words[end][1])
                    end += 1
                found.append(Mention(i, end, keys, governed))
                i = end
                continue
            if folded in _ANAPHORA:
                back = _ANAPHORA[folded]
                if len(found) >= back:
                    found.append(Mention(i, i + 1, set(found[-back].keys), governed))
                i += 1
                continue
            keys = self._latin_matches(forms)
            place = place_key_of(forms)
            if place:
                keys.add(place)
            stem = folded.removeprefix("ال")
            for f in forms:
                keys |= self.name_words.get(f.removeprefix("ال"), set())
            keys |= self.name_words.get(stem, set())
            if keys:
                found.append(Mention(i, i + 1, keys, governed))
            i += 1
        return found


def agent_of(mentions: list[Mention], words: list[tuple[str, list[str]]], anchor: int) -> Mention | None:
    """The agent of the verb or verbal noun at ``anchor`` by Arabic word order (see the module docstring)."""
    anchor_word = fold_for_match(words[anchor][0])
    before = [m for m in mentions if m.end <= anchor]
    if re.match("(?:ب|ل)", anchor_word) and len(anchor_word) > 4 and before and not before[-1].governed \
            and anchor - before[-1].end <= 1:
        # «ورد الأخير بتهنئة بوتين»: a verbal noun right after a subject, governed by a preposition, is
        # done by that subject; its genitive is the object. («وبحضور الوسيط…», a coordinated phrase, is not.)
        return before[-1]
    for m in mentions:
        if anchor < m.start <= anchor + AGENT_WINDOW and not m.governed:
            # The agent phrase follows the verb directly; a preposition in between («تدخلها في الأزمة
            # السورية») starts a complement, not the agent. A preposition with a pronoun («تراجعت عنها
            # موسكو») is a fronted complement and is stepped over.
            between = {fold_for_match(w) for w, _ in words[anchor + 1:m.start]}
            if between & _PREPOSITIONS:
                break
            return m
    for m in reversed(before):
        if anchor - m.end <= 1 and not m.governed:
            return m
    return None
