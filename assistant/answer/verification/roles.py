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

Entities and the word-order reading of an agent are in :mod:`.mentions`. When no anchor or no agent is
found, nothing is concluded: this check rejects, it never accepts.

Hand-written rather than a library: no Arabic parser or NER model is installed, and the word-order rules
above are the few that matter for a news sentence.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from assistant.answer.citations import MARKER
from assistant.answer.verification.entities import GENERIC_CAPITALISED, bare_arabic
from assistant.answer.verification.mentions import (
    TITLES,
    EntityReader,
    Mention,
    agent_of,
    clauses,
    latin_keys,
    words_of,
)
from assistant.schemas import Language
from assistant.textnorm import ARABIC_STOPWORDS, fold_for_match

#: An Arabic word is an English verb's anchor when its embedding similarity reaches STRONG_ANCHOR, or
#: reaches MIN_ANCHOR and leads the clause's next word by ANCHOR_MARGIN (single words that translate each
#: other scored 0.5-0.9, «تراجعت» / "backed away" 0.50 against at most 0.38 for the clause's other words;
#: unrelated pairs mostly 0.35-0.5, close together).
STRONG_ANCHOR = 0.6
MIN_ANCHOR = 0.45
ANCHOR_MARGIN = 0.08

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
            keys |= latin_keys(name)
        return Claim(keys, verb, " ".join(names))
    return None


def _arabic_claim(sentence: str, reader: EntityReader) -> tuple[Claim, str] | None:
    words = words_of(sentence)
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
    if verb in ARABIC_STOPWORDS or verb in TITLES or len(verb) < 3:
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
        agent, patient = (reader.closure(latin_keys(n)) for n in names)
        p, first, end, clause = units[int(np.argmax(similarity([MARKER.sub(" ", sentence)],
                                                                [u[3] for u in units])[0]))]
        label = f"{names[0]} … {names[1]}"
    else:
        words = words_of(sentence)
        pair = _pair(reader.mentions(words))
        if pair is None:
            return None
        agent, patient = (reader.closure(m.keys) for m in pair)
        label = " … ".join(" ".join(w for w, _ in words[m.start:m.end]) for m in pair)
        tokens = {f for _, forms in words for f in forms}
        p, first, end, clause = max(units, key=lambda u: len(tokens & {f for _, fs in words_of(u[3])
                                                                        for f in fs}))
    if agent & patient:
        return None
    words = words_of(" ".join(clauses(cited[p])))
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
            n = len(words_of(clause))
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
    passage_words = [words_of(" ".join(c for c in clauses(text))) for text in cited]
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
        tokens = {f for _, forms in words_of(sentence) for f in forms}
        ranked = sorted(units, key=lambda u: -len(tokens & {f for _, fs in words_of(u[3]) for f in fs}))
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
