"""Who did what: the agent an answer gives a verb must be the agent of that verb in the cited words.

"Assad announced the deployment of warships" cites «…زيارة الأسد إلى روسيا بعيد اعلان الرئيس الروسي فلاديمير
بوتين نشر سفن حربية…»: Assad is in the sentence, but the one announcing is the Russian president. A check of
names alone passes it; this one finds the cited word for the answer's verb (the *anchor*: by the embedding
model across languages, by a shared stem in Arabic), reads the anchor's agent off Arabic word order, and
rejects the answer when that agent is someone else.

Arabic word order makes the agent findable without a parser:

* a verb or a verbal noun is followed by its agent (VSO «هنأ الرئيس الروسي نظيره السوري», «اعلان الرئيس
  الروسي», «تراجعت عنها موسكو», «نشرته وسائل الاعلام الروسية»: a noun and its nisba adjective);
* else the agent may stand just before it (SVO «إن الأسد قام»);
* a verbal noun governed by a preposition («ورد الأخير بتهنئة بوتين») takes the clause's subject as agent,
  and its genitive is the object.

Entities are the ones the passages let us recognise honestly: CLDR country and city names and their nisba
adjectives (:mod:`.gazetteer`), names the answer writes in Latin script (consonant skeletons), titles with a
nisba («الرئيس الروسي», «نظيره السوري») and the names that follow them in any given passage (so «الرئيس
الروسي» elsewhere stands for the Putin of «الرئيس الروسي فلاديمير بوتين»), and «الأخير» / «الأول» (the latter
/ the former of the entities just named). When no anchor or no agent is found, nothing is concluded: this
check rejects, it never accepts.

Hand-written rather than a library: no Arabic parser or NER model is installed, and the word-order rules
above are the few that matter for a news sentence.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from assistant.answer.citations import MARKER
from assistant.answer.verification.entities import (
    GENERIC_CAPITALISED,
    arabic_skeleton,
    bare_arabic,
    latin_skeleton,
    latin_variants,
    skeletons_match,
)
from assistant.answer.verification.gazetteer import place_forms, place_key_of
from assistant.schemas import Language
from assistant.textnorm import ARABIC_STOPWORDS, fold_for_match

#: Words after a verb or verbal noun in which its agent is looked for.
AGENT_WINDOW = 3
#: An Arabic word is an English verb's anchor when its embedding similarity reaches STRONG_ANCHOR, or
#: reaches MIN_ANCHOR and leads the clause's next word by ANCHOR_MARGIN (single words that translate each
#: other scored 0.5-0.9, «تراجعت» / "backed away" 0.50 against at most 0.38 for the clause's other words;
#: unrelated pairs mostly 0.35-0.5, close together).
STRONG_ANCHOR = 0.6
MIN_ANCHOR = 0.45
ANCHOR_MARGIN = 0.08

_TITLES = frozenset(fold_for_match(w) for w in (  # noqa: SIM905 - a word list reads best as words
    "الرئيس رئيس نظيره نظيرها نظيريه الوسيط المبعوث المتحدث وزير الزعيم الملك الأمير زعيم ولي").split())
_ANAPHORA = {fold_for_match("الأخير"): 1, fold_for_match("الأول"): 2}
_PREPOSITIONS = frozenset(fold_for_match(w) for w in (  # noqa: SIM905
    "في إلى الى من عن مع على علي حول بين ضد لدى عبر").split())
# A clause ends at punctuation or before a connective that opens a new one.
_CLAUSE_BREAK = re.compile(
    r"\s*[،,؛;:.]\s*|\s+(?=(?:بينما|لكن|ولكن|حيث|فيما|وأيضا|وايضا|مشيرا|مضيفا|مؤكدا)\s)")
# Verbs whose two sides are interchangeable ("Putin met Assad" = "Assad met Putin").
_SYMMETRIC = frozenset(
    "met meet meets meeting talked talks spoke negotiated agreed discussed held".split()  # noqa: SIM905
)
# Words between two names that make them no agent and object ("Middle East through Syria").
_LINKS = frozenset("""between against than nor through into across via about after before during toward
    towards within without including like near over under among amid""".split())  # noqa: SIM905
_PARTICLES = frozenset(["away", "up", "down", "out", "off", "back", "over"])
# Past tenses that do not end in -ed, so a following name is not taken for part of the subject.
_IRREGULAR_PAST = frozenset(
    "said told made gave took sent led won left saw became began brought bought kept paid sought".split()  # noqa: SIM905
)
# Words after an English subject that are not the verb to anchor (auxiliaries, copulas, modals).
_NOT_A_VERB = frozenset("""is are was were be been being has have had will would could can may might must
    shall should did does do not also then and or but who which that as in on at of to for by with from
    """.split())  # noqa: SIM905


#: Cosine similarities of each sentence to each passage (see :class:`.checks.Similarity`).
Similarity = Callable[[list[str], list[str]], np.ndarray]


@dataclass
class Mention:
    """An entity named at words[start:end] of a text, with the keys it is known by."""

    start: int
    end: int
    keys: set[str] = field(default_factory=set)
    governed: bool = False  # after a preposition: not an agent


def _words(text: str) -> list[tuple[str, list[str]]]:
    return [(w, [*bare_arabic(w), fold_for_match(w)]) for w in re.findall(r"[\w']+", MARKER.sub(" ", text))]


def clauses(text: str) -> list[str]:
    """The clauses of an Arabic passage (split at punctuation and clause-opening connectives)."""
    return [c.strip() for c in _CLAUSE_BREAK.split(text) if c and len(c.split()) >= 2]


def _latin_keys(name: str) -> set[str]:
    keys = {f"name:{name.lower()}"}
    for variant in latin_variants(name):
        place = place_forms(variant)
        if place:
            keys.add(f"place:{variant.lower()}")
    return keys


def _name_matches(name: str, forms: list[str]) -> bool:
    skeletons = {latin_skeleton(v) for v in latin_variants(name)}
    skeletons = {s for s in skeletons if len(s) >= 2}
    return any(skeletons_match(k, arabic_skeleton(f)) for k in skeletons for f in forms if f)


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
            for word, _ in _words(text):
                key = fold_for_match(word).removeprefix("ال")
                counts[key] = counts.get(key, 0) + 1
        for text in passages:
            words = _words(text)
            for i, (_, forms) in enumerate(words):
                if not any(f in _TITLES for f in forms) or i + 1 >= len(words):
                    continue
                nisba = place_key_of(words[i + 1][1])
                if not nisba:
                    continue
                group = {nisba, *self._latin_matches(words[i + 1][1])}
                for j in range(i + 2, min(i + 4, len(words))):
                    w, f = words[j]
                    folded = fold_for_match(w)
                    if folded in ARABIC_STOPWORDS or any(x in _TITLES for x in f) or place_key_of(f):
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
                keys |= _latin_keys(name)
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
            if any(f in _TITLES for f in forms) and i + 1 < len(words) and place_key_of(words[i + 1][1]):
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


@dataclass
class Claim:
    """An answer sentence's subject (entity keys) and its verb."""

    subject: set[str]
    verb: str
    label: str


def english_claim(sentence: str) -> Claim | None:
    """"Assad announced …" -> Claim({name:assad}, "announced"); None when the subject is no name or the
    verb is a copula, an auxiliary or symmetric ("met")."""
    words = re.findall(r"[A-Za-z][A-Za-z'’\-]*", MARKER.sub(" ", sentence))
    names: list[str] = []
    for index, word in enumerate(words):
        if word[0].isupper():
            if word.lower() not in GENERIC_CAPITALISED and word.lower() not in ("yes", "no", "the"):
                names.append(word.strip("'’"))
            continue
        if not names or words[index - 1].endswith(("'s", "’s")):
            return None
        verb = word.lower()
        following = words[index + 1] if index + 1 < len(words) else ""
        if following.lower() in _PARTICLES:
            verb = f"{verb} {following.lower()}"  # a phrasal verb means what neither word does alone
        if following[:1].isupper() and not verb.endswith(("ed", "s")) and verb not in _IRREGULAR_PAST:
            continue  # a noun inside the subject: "The UN mediator Staffan de Mistura attended"
        if verb.endswith("ly") and index + 1 < len(words):
            verb = words[index + 1].lower()
        if verb in _NOT_A_VERB or verb in _SYMMETRIC:
            return None
        keys: set[str] = set()
        for name in names:
            keys |= _latin_keys(name)
        return Claim(keys, verb, " ".join(names))
    return None


def _arabic_claim(sentence: str, reader: EntityReader) -> tuple[Claim, str] | None:
    words = _words(sentence)
    mentions = reader.mentions(words)
    subject = next((m for m in mentions if not m.governed), None)
    if subject is None:
        return None
    if subject.start > 0:
        verb_index = subject.start - 1  # VSO: «تراجعت دمشق»
    elif subject.end < len(words):
        verb_index = subject.end  # SVO: «دمشق تراجعت»
    else:
        return None
    verb = fold_for_match(words[verb_index][0])
    if verb in ARABIC_STOPWORDS or verb in _TITLES or len(verb) < 3:
        return None
    label = " ".join(w for w, _ in words[subject.start:subject.end])
    return Claim(subject.keys, words[verb_index][0], label), verb


def _shared_prefix(x: str, y: str) -> int:
    n = 0
    while n < min(len(x), len(y)) and x[n] == y[n]:
        n += 1
    return n


def _stem_match(a: str, b: str) -> bool:
    """Two folded Arabic words sharing a stem (أعلن / اعلان, تراجعت / تراجع)."""
    for x in bare_arabic(a):
        for y in bare_arabic(b):
            shared = _shared_prefix(x, y)
            if x == y or (shared >= 3 and abs(len(x) - len(y)) <= 2):
                return True
    return False


def _pair(mentions: list[Mention], gap: int = 3) -> tuple[Mention, Mention] | None:
    """The first two mentions of different entities at most ``gap`` words apart (agent, then object)."""
    for i, first in enumerate(mentions):
        for second in mentions[i + 1:]:
            if second.start - first.end > gap:
                break
            if not first.keys & second.keys:
                return first, second
    return None


def _english_pair(sentence: str) -> tuple[str, str] | None:
    """"Assad congratulated Putin", "Assad receiving Putin": a name, one or two lowercase words that are not
    a conjunction or preposition, and a name; None for symmetric verbs ("met")."""
    pattern = re.compile(r"\b([A-Z][\w'’\-]+)((?:\s+[a-z][\w\-]*){1,2})\s+(?:President\s+)?([A-Z][\w'’\-]+)")
    for match in pattern.finditer(MARKER.sub(" ", sentence)):
        between = match.group(2).split()
        if set(between) & (_NOT_A_VERB | _SYMMETRIC | _LINKS):
            continue
        first, second = match.group(1).strip("'’"), match.group(3).strip("'’")
        if first.lower() in GENERIC_CAPITALISED or second.lower() in GENERIC_CAPITALISED:
            continue
        return first, second
    return None


def swapped_roles(sentence: str, cited: list[str], given: list[str], language: Language,
                  similarity: Similarity | None = None) -> str | None:
    """The reason two entities the answer puts as agent then object stand the other way round in the cited
    clause (Arabic puts the agent first in both VSO «هنأ الرئيس الروسي نظيره السوري» and SVO), or None."""
    latin = re.findall(r"[A-Z][A-Za-z'’\-]+", MARKER.sub(" ", sentence))
    reader = EntityReader(given, latin)
    units = _clause_units(cited)
    if not units:
        return None
    if language == "en":
        names = _english_pair(sentence)
        if names is None or similarity is None:
            return None
        agent, patient = (reader.closure(_latin_keys(n)) for n in names)
        p, first, end, clause = units[int(np.argmax(similarity([MARKER.sub(" ", sentence)],
                                                                [u[3] for u in units])[0]))]
        label = f"{names[0]} … {names[1]}"
    else:
        words = _words(sentence)
        pair = _pair(reader.mentions(words))
        if pair is None:
            return None
        agent, patient = (reader.closure(m.keys) for m in pair)
        label = " … ".join(" ".join(w for w, _ in words[m.start:m.end]) for m in pair)
        tokens = {f for _, forms in words for f in forms}
        p, first, end, clause = max(units, key=lambda u: len(tokens & {f for _, fs in _words(u[3])
                                                                        for f in fs}))
    if agent & patient:
        return None
    words = _words(" ".join(clauses(cited[p])))
    mentions = [m for m in reader.mentions(words) if first <= m.start < end]
    agent_at = next((m.start for m in mentions if reader.closure(m.keys) & agent), None)
    patient_at = next((m.start for m in mentions if reader.closure(m.keys) & patient), None)
    if agent_at is None or patient_at is None or agent_at < patient_at:
        return None
    return f"the answer reverses who did what to whom («{label}») against the cited words «{clause[:80]}»"


def _clause_units(cited: list[str]) -> list[tuple[int, int, int, str]]:
    """(passage index, first word, end word, text) of every clause of the cited passages."""
    units = []
    for p, text in enumerate(cited):
        offset = 0
        for clause in clauses(text):
            n = len(_words(clause))
            units.append((p, offset, offset + n, clause))
            offset += n
    return units


def wrong_agent(sentence: str, cited: list[str], given: list[str], language: Language,
                similarity: Similarity | None = None,
                word_similarity: Similarity | None = None) -> str | None:
    """The reason the answer's subject is not the agent of its verb in the cited words, or None.

    ``cited`` are the cited passages, ``given`` every passage given (aliases are learnt from all of them).
    English sentences need the embedding model: ``similarity`` (sentence to clause) picks the cited clause
    and ``word_similarity`` (word to word) the verb's Arabic anchor in it.
    """
    latin = re.findall(r"[A-Z][A-Za-z'’\-]+", MARKER.sub(" ", sentence))
    reader = EntityReader(given, latin)
    units = _clause_units(cited)
    if not units:
        return None
    passage_words = [_words(" ".join(c for c in clauses(text))) for text in cited]
    if language == "en":
        if similarity is None or word_similarity is None:
            return None
        claim = english_claim(sentence)
        if claim is None:
            return None
        plain = MARKER.sub(" ", sentence)
        p, first, end, clause = units[int(np.argmax(similarity([plain], [u[3] for u in units])[0]))]
        words = passage_words[p]
        scores = word_similarity([claim.verb], [w for w, _ in words[first:end]])[0]
        anchor = first + int(np.argmax(scores))
        ranked = sorted((float(x) for x in scores), reverse=True)
        best, runner_up = ranked[0], (ranked[1] if len(ranked) > 1 else 0.0)
        if best < MIN_ANCHOR or (best < STRONG_ANCHOR and best - runner_up < ANCHOR_MARGIN):
            return None
    else:
        parsed = _arabic_claim(sentence, reader)
        if parsed is None:
            return None
        claim, verb = parsed
        tokens = {f for _, forms in _words(sentence) for f in forms}
        ranked = sorted(units, key=lambda u: -len(tokens & {f for _, fs in _words(u[3]) for f in fs}))
        for p, first, end, text in ranked:
            words, clause = passage_words[p], text
            hits = [i for i in range(first, end) if _stem_match(fold_for_match(words[i][0]), verb)]
            if hits:
                anchor = hits[0]
                break
        else:
            return None
    mentions = [m for m in reader.mentions(words) if first <= m.start < end]
    agent = agent_of(mentions, words, anchor)
    if agent is None:
        return None
    if reader.closure(agent.keys) & reader.closure(claim.subject):
        return None
    said = " ".join(w for w, _ in words[agent.start:agent.end])
    return (f"the answer has {claim.label!r} do what the cited words «{clause[:80]}» give to «{said}» "
            f"(«{words[anchor][0]}»)")
