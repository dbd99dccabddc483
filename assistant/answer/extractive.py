"""Stage 5a, answer by quoting: the sentence(s) of the retrieved passages that best answer the question.

Extractive answers never invent text: every quoted character is a span of the article, which is why this is
the offline default and the fallback of generative mode.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.answer.citations import make_citation
from assistant.answer.prompts import render
from assistant.retrieve.base import RetrievalResult
from assistant.schemas import Citation, Language, ScoredPassage, Sentence
from assistant.textnorm import fold_for_match, tokenize

#: Passages whose sentences compete for the quote (retrieval hands over the units of its top passages).
CANDIDATE_PASSAGES = 3
#: Weight of the share of question tokens a sentence contains, added to its cosine similarity.
LEXICAL_BONUS = 0.08
#: A prior for the passage's place in the fused ranking (first gets 2x this, third 0).
RANK_BONUS = 0.015
#: A second quote is added only when it scores this close to the first.
SECOND_QUOTE_MARGIN = 0.015
#: A clause replaces its whole sentence when it scores at least this close: shorter is better.
CLAUSE_MARGIN = 0.01


#: Answer-type cues: a question of a kind (why, when, how many) favours sentences that carry that kind of
#: answer (a reason, a date, a number). Cross-lingual embeddings rank an English "why" question close to
#: every sentence about the visit; the cue tells the one giving the reason. Patterns match folded text
#: (`fold_for_match`: no hamza forms, ta marbuta as ha, lower case).
ANSWER_TYPE_BONUS = 0.06
_ANSWER_TYPES: list[tuple[re.Pattern[str], re.Pattern[str]]] = [
    (re.compile(r"\bwhy\b|what (?:was|is|were) the reason|لماذا|لما ذا|ما سبب|ما هو سبب|لاي سبب"),
     re.compile(r"لدواع|بسبب|لان |نظرا|بهدف|من اجل|لضمان|حرصا|because|due to|in order to")),
    (re.compile(r"\bwhen\b|what (?:day|year|date|month)|متي|في اي (?:عام|سنه|يوم|شهر)"),
     re.compile(r"\d{4}|الخميس|الجمعه|السبت|الاحد|الاثنين|الثلاثاء|الاربعاء|سبتمبر|ايلول|منذ|بعد يوم")),
    (re.compile(r"how many|how much|\bكم\b|ما عدد"), re.compile(r"\d")),
]


def answer_type_bonus(question: str, sentence: str) -> float:
    """Bonus for a sentence that carries the kind of answer the question asks for."""
    q, s = fold_for_match(question), fold_for_match(sentence)
    return ANSWER_TYPE_BONUS if any(cue.search(q) and ans.search(s) for cue, ans in _ANSWER_TYPES) else 0.0


@dataclass(frozen=True)
class Quote:
    """A sentence chosen for the answer, the passage it is in and why it was chosen."""

    sentence: Sentence
    passage: ScoredPassage
    score: float


def _contains(outer: Sentence, inner: Sentence) -> bool:
    return outer.span.start <= inner.span.start and inner.span.end <= outer.span.end


def select_quotes(result: RetrievalResult, max_quotes: int = 2) -> list[Quote]:
    """Best quotable units among the top passages of ``result``, best first, at most ``max_quotes``."""
    top = result.passages[:CANDIDATE_PASSAGES]
    by_id = {s.passage.id: (rank, s) for rank, s in enumerate(top)}
    query = result.query
    q_tokens = set(tokenize(query))
    scored: list[Quote] = []
    for unit in result.units:
        if unit.sentence.passage_id not in by_id:
            continue
        sentence = unit.sentence
        rank, passage = by_id[sentence.passage_id]
        overlap = len(q_tokens & set(tokenize(sentence.text))) / len(q_tokens) if q_tokens else 0.0
        score = (float(unit.vector @ result.vector) + LEXICAL_BONUS * overlap
                 + RANK_BONUS * (CANDIDATE_PASSAGES - 1 - rank) + answer_type_bonus(query, sentence.text))
        scored.append(Quote(sentence=sentence, passage=passage, score=score))
    if not scored:
        return []
    scored.sort(key=lambda q: -q.score)
    best = scored[0]
    # Prefer the shortest unit that still scores nearly as well: a clause over its sentence.
    for other in scored[1:]:
        if (other.score >= best.score - CLAUSE_MARGIN and _contains(best.sentence, other.sentence)
                and len(other.sentence.text) < len(best.sentence.text)):
            best = other
    chosen = [best]
    for other in scored:
        if len(chosen) >= max_quotes:
            break
        if (other.score >= best.score - SECOND_QUOTE_MARGIN
                and other.passage.passage.id != best.passage.passage.id):
            chosen.append(other)
    return chosen


def compose(quotes: list[Quote], language: Language) -> tuple[str, list[Citation]]:
    """The answer text framed in ``language`` with ``[n]`` markers, and its citations."""
    citations = [make_citation(n, q.passage, q.sentence.span) for n, q in enumerate(quotes, 1)]
    if len(quotes) == 1:
        text = render("extractive_one", language, citation="[1]", quote=quotes[0].sentence.text)
    else:
        text = render("extractive_two", language, citation1="[1]", quote1=quotes[0].sentence.text,
                      citation2="[2]", quote2=quotes[1].sentence.text)
    return text, citations
