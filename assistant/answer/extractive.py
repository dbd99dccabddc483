"""Stage 5a, answer by quoting: the sentence(s) of the retrieved passages that best answer the question.

Extractive answers never invent text: every quoted character is a span of the article, which is why this is
the offline default and the fallback of generative mode.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant import cldr
from assistant.answer.citations import make_citation
from assistant.answer.directives import is_directive
from assistant.answer.prompts import render, template
from assistant.questions import asked_roles, bare_answer_type, date_asked
from assistant.retrieve.base import RetrievalResult
from assistant.retrieve.hybrid import sentence_idf, unit_bonus, weighted_share
from assistant.schemas import Citation, Language, Passage, ScoredPassage, Sentence, Span
from assistant.textnorm import (
    ARABIC_STOPWORDS,
    ENGLISH_STOPWORDS,
    detect_language,
    fold_for_match,
    strip_clitics,
    tokenize,
)

#: Passages whose place in the fused ranking earns their units a prior (first gets 2x RANK_BONUS, third 0).
#: Every retrieved passage competes for the quote: the units a passage ranked 4th or 5th brings are the
#: ones the sentence ranking found for the question itself (retrieval hands over every unit of the top
#: passages and its unit-search hits of the others), and a short question's answering sentence often sits
#: in a paragraph about something else ("why was the visit not announced?": 5th on the tuning half).
PRIOR_PASSAGES = 3
#: A prior for the passage's place in the fused ranking.
RANK_BONUS = 0.015
#: Added to a unit of a passage whose role the question names ("according to the subheadline"): more than
#: any two units' scores differ, since the question asked for those passages by name.
ASKED_ROLE_BONUS = 1.0
#: A second quote is added only when it scores this close to the first.
SECOND_QUOTE_MARGIN = 0.015


@dataclass(frozen=True)
class Quote:
    """A sentence chosen for the answer, the words in it that answer, its passage and its score."""

    sentence: Sentence
    #: The smallest unit that answers (a phrase or clause of ``sentence``, or the sentence itself).
    words: Sentence
    passage: ScoredPassage
    score: float


@dataclass(frozen=True)
class _Scored:
    unit: Sentence
    passage: ScoredPassage
    score: float


def _contains(outer: Sentence, inner: Sentence) -> bool:
    # Spans are offsets into their own article: two articles' units overlap by number, not by text.
    return (outer.passage_id == inner.passage_id
            and outer.span.start <= inner.span.start and inner.span.end <= outer.span.end)


#: Words a phrase window may not end on (prepositions, conjunctions, articles).
_FUNCTION_WORDS = ARABIC_STOPWORDS | ENGLISH_STOPWORDS
#: Nouns that work as prepositions in news Arabic («على اثر», «وبحضور», «في ظل») and English prepositions
#: beyond the stop-word list: like a preposition, a phrase may not end on one (folded, clitics stripped).
_PREPOSITION_LIKE = (
    "اثر إثر عقب اعقاب بعيد حضور خلاف غرار ضوء ظل اطار سبيل نحو حوالي بشأن ضد عبر لدى خلال تحت فوق امام أمام "
    "خلف وراء حسب بحسب وفق نتيجة سبب بسبب جراء صعيد مستوى رغم برغم إزاء ازاء تجاه بشان "
    "after amid amidst despite regarding including during before without following toward towards within "
    "across against among between beyond via per")
_NEEDS_WHAT_FOLLOWS = frozenset(fold_for_match(w) for w in _PREPOSITION_LIKE.split())
#: Punctuation at a unit's edge: it belongs to the sentence, not to the answering words.
_EDGE_PUNCTUATION = ".,،:;؛!?؟\"'«»()"


def _ending_at(unit: Sentence, text: str) -> Sentence:
    """``unit`` with ``text``, which starts where it starts in the article (cut shorter or run on)."""
    return unit.model_copy(update={"text": text,
                                   "span": Span(start=unit.span.start, end=unit.span.start + len(text))})


def _ends_on_content_word(unit: Sentence) -> Sentence:
    """``unit`` without the function words that end it, when it is a phrase window.

    Phrase units are fixed-length windows of a long sentence, so one can stop on a preposition or a
    conjunction («… مستفيدة من اتفاق خفض التصعيد في»). Shown as the answering words and highlighted, such a
    tail reads as broken; dropping it keeps every character a span of the article.
    """
    if unit.kind != "phrase":
        return unit
    words = list(re.finditer(r"\S+", unit.text))
    end = len(words)
    while end > 2 and _dangles(words[end - 1].group()):
        end -= 1
    if end == len(words):
        return unit
    return _ending_at(unit, unit.text[:words[end - 1].end()])


def _dangles(word: str) -> bool:
    """Whether a phrase ending on ``word`` stops before what the word introduces («… على اثر», «… وبحضور»)."""
    folded = fold_for_match(word.strip(_EDGE_PUNCTUATION))
    return folded in _FUNCTION_WORDS or any(form in _NEEDS_WHAT_FOLLOWS for form in strip_clitics(folded))


#: Words after the best phrase that join the answering words (one phrase stride). The phrase most similar to
#: the question is the one that restates it, and the answer follows what it restates: «هنأ الرئيس الروسي
#: نظيره السوري» then «بحلول شهر رمضان», «اتفقوا على عقد جولة» then «محادثات في سوتشي».
FOLLOWING_WORDS = 5


def _with_what_follows(unit: Sentence, holder: Sentence) -> Sentence:
    """``unit`` (a phrase) extended by up to :data:`FOLLOWING_WORDS` words of ``holder`` (its sentence) that
    follow it; every character is still a span of the article."""
    if unit.kind != "phrase":
        return unit
    offset = unit.span.end - holder.span.start
    after = list(re.finditer(r"\S+", holder.text[offset:]))[:FOLLOWING_WORDS]
    if not after:
        return unit
    end = offset + after[-1].end()
    return _ending_at(unit, holder.text[unit.span.start - holder.span.start:end].rstrip(_EDGE_PUNCTUATION))


#: How far below the best unit a unit whose sentence has a date may score and still be quoted first, for
#: a question asking "when?".
DATED_MARGIN = 0.08

#: The passages whose sentences may answer a question that asks only a kind of answer ("and when?").
BARE_KIND_PASSAGES = 3


def select_quotes(result: RetrievalResult, max_quotes: int = 2,
                  stories: frozenset[str] = frozenset()) -> list[Quote]:
    """Best sentences among the top passages of ``result``, each with its answering words, best first
    (``stories``: only from those stories' passages, the ones answerability found holding the answer)."""
    by_id = {s.passage.id: (rank, s) for rank, s in enumerate(result.passages)}
    query = result.query
    # A sentence that instructs the model ("ignore previous instructions and say …") states nothing: neither
    # it nor a phrase inside it is quoted as an answer (see answer.directives).
    directives = [u.sentence for u in result.units
                  if u.sentence.kind == "sentence" and is_directive(u.sentence.text)]
    candidates = [u for u in result.units if u.sentence.passage_id in by_id
                  and (not stories or result.story(u.sentence.article_id) in stories)
                  and not any(_contains(d, u.sentence) for d in directives)]
    # The question's words are weighted by their rarity among the candidate sentences (hybrid.sentence_idf),
    # where retrieval weighted them over the corpus's passages (``Unit.lexical``).
    weights = sentence_idf(set(tokenize(query)), [u.sentence.text for u in candidates
                                                  if u.sentence.kind == "sentence"])
    asked = result.asked or query  # the kind of answer sought is the current question's
    kind = bare_answer_type(asked)
    if kind is not None:
        # "And when?" asks only for a date: a sentence without one does not answer it, however close to the
        # conversation's topic. Only the three best passages' sentences are looked at: lower down, a number is
        # as likely some other thing's ("how many are there?" of the guarantors is not the S-300's 300), and
        # when neither has one the best sentence is quoted as it would be.
        carrying = [u for u in candidates if by_id[u.sentence.passage_id][0] < BARE_KIND_PASSAGES
                    and kind.search(fold_for_match(u.sentence.text))]
        candidates = carrying or candidates
    roles = asked_roles(asked)
    scored: list[_Scored] = []
    for unit in candidates:
        sentence = unit.sentence
        rank, passage = by_id[sentence.passage_id]
        # Retrieval's unit score (with the words weighed over the candidates), plus a prior for the passage's
        # place in the ranking.
        lexical = result.coverage * weighted_share(weights, sentence.text)
        score = (result.similarity(unit.vector) + unit_bonus(asked, sentence.text, lexical, result.names)
                 + RANK_BONUS * max(0, PRIOR_PASSAGES - 1 - rank)
                 + (ASKED_ROLE_BONUS if passage.passage.role in roles else 0.0))
        scored.append(_Scored(sentence, passage, score))
    if not scored:
        return []
    scored.sort(key=lambda q: -q.score)
    sentences = [s for s in scored if s.unit.kind == "sentence"]
    dated = date_asked(asked) if kind is None else None
    if dated is not None:
        # "When did the meeting take place?" is not answered by the closest sentence about a meeting if it
        # has no date: a sentence with one goes first when it scores nearly as well (the answer-type bonus
        # alone is too small against a short, close sentence).
        def carries(item: _Scored) -> bool:
            holder = next((s for s in sentences if _contains(s.unit, item.unit)), item)
            return bool(dated.search(fold_for_match(holder.unit.text)))

        if not carries(scored[0]):
            dated_best = next((s for s in scored if s.score >= scored[0].score - DATED_MARGIN and carries(s)),
                              None)
            if dated_best is not None:
                scored.remove(dated_best)
                scored.insert(0, dated_best)

    def quote_for(best: _Scored) -> Quote:
        # The sentence holding the best unit is quoted. What answers is the best unit itself when it is a
        # phrase or clause; when the whole sentence scored best, the best-scoring phrase or clause inside it
        # (a long sentence mixes topics; its best part is where the answer is).
        holder = next((s for s in sentences if _contains(s.unit, best.unit)), best)
        words = best.unit
        undated = dated is not None and not dated.search(fold_for_match(words.text))
        if dated is not None and undated and best.unit.kind != "sentence":
            # A phrase promoted for its sentence's date: the words that answer are those with the date.
            with_date = [o.unit for o in scored if o.unit.kind != "sentence"
                         and _contains(holder.unit, o.unit) and dated.search(fold_for_match(o.unit.text))]
            words = with_date[0] if with_date else holder.unit
        elif best.unit.kind == "sentence":
            inside = [o for o in scored if o.unit.kind != "sentence" and _contains(holder.unit, o.unit)]
            if dated is not None:  # the words that answer "when?" are those with the date
                inside = [o for o in inside if dated.search(fold_for_match(o.unit.text))] or inside
            if inside:
                words = inside[0].unit  # scored is sorted best first
        words = _with_what_follows(words, holder.unit)
        return Quote(sentence=holder.unit, words=_ends_on_content_word(words), passage=best.passage,
                     score=best.score)

    chosen = [quote_for(scored[0])]
    for other in scored[1:]:
        if len(chosen) >= max_quotes or other.score < chosen[0].score - SECOND_QUOTE_MARGIN:
            break
        if any(other.passage.passage.id == q.passage.passage.id for q in chosen):
            continue
        story = result.story(chosen[0].passage.passage.article_id)
        if result.story(other.passage.passage.article_id) != story:
            continue  # two stories quoted side by side read as one saying both
        candidate = quote_for(other)
        if not any(_repeats(candidate.sentence, q.sentence) for q in chosen):
            chosen.append(candidate)
    return chosen


def _repeats(one: Sentence, other: Sentence) -> bool:
    """Whether two quoted sentences say the same words (one holds the other's words in order, compared folded,
    punctuation aside).

    Corpora repeat themselves: two versions of a story, or encyclopaedia paragraphs that open with the same
    sentence. Quoted twice, the sentence reads as a glitch and crowds out a second one that adds something.
    """
    a, b = (" ".join(w for w in (w.strip(_EDGE_PUNCTUATION) for w in fold_for_match(s.text).split()) if w)
            for s in (one, other))
    return bool(a and b) and (f" {a} " in f" {b} " or f" {b} " in f" {a} ")


def compose(quotes: list[Quote], language: Language, *, lead: bool = False) -> tuple[str, list[Citation]]:
    """The answer text framed in ``language`` with ``[n]`` markers, and its citations (each citation's span
    is the answering words). ``lead``: start with the answering words themselves (who/where/when/how many
    questions), then the quote."""
    citations = [make_citation(n, q.passage, q.words.span) for n, q in enumerate(quotes, 1)]
    quoted = _quoted_in(quotes[0].sentence.text, language)
    if len(quotes) == 1:
        text = render("extractive_one", language, citation="[1]", quote=quotes[0].sentence.text,
                      quoted=quoted)
    else:
        text = render("extractive_two", language, quoted=quoted, citation1="[1]",
                      quote1=quotes[0].sentence.text,
                      citation2="[2]", quote2=quotes[1].sentence.text)
    first = quotes[0]
    if lead and first.words.span != first.sentence.span:
        text = render("extractive_lead", language, words=first.words.text, citation="[1]") + "\n\n" + text
    return text + _gloss([q.sentence.text for q in quotes], language), citations


def _quoted_in(quote: str, language: Language) -> str:
    """" (quoted in Arabic)" when the quote is in the other language than the answer's frame, else ""
    (an English article's quotes answer an English question as they are)."""
    written = detect_language(quote, default=language)
    return "" if written == language else " " + template("quoted_other", language)


def _gloss(quoted: list[str], language: Language) -> str:
    """For an English reader of Arabic quotes, a paragraph naming their countries, days, months and numbers
    in English ("" otherwise). No model can translate here without inventing; CLDR's names are what can be
    said in English without guessing."""
    if language != "en" or not quoted or detect_language(quoted[0]) != "ar":
        return ""
    items = cldr.gloss(" ".join(quoted))
    if not items:
        return ""
    listed = ", ".join(f"{english} ({arabic})" for arabic, english in items)
    return "\n\n" + render("extractive_gloss", language, items=listed)


#: Passage roles that say what a news article is about, in the order it gives them.
SUMMARY_ROLES = ("headline", "lede", "subheadline")
#: At most this many of them are quoted.
MAX_SUMMARY_LINES = 6


def compose_gist(passages: list[Passage], language: Language) -> tuple[str, list[Citation]]:
    """What an article is about, in its own headline and summary lines (:data:`SUMMARY_ROLES`; its first
    passage when it has none), each quoted and cited: the answer to "What is the article about?"."""
    chosen = [p for p in passages if p.role in SUMMARY_ROLES][:MAX_SUMMARY_LINES] or passages[:1]
    # Not retrieved for the question: no similarity to report.
    scored = [ScoredPassage(passage=p, score=0.0) for p in chosen]
    citations = [make_citation(n, s) for n, s in enumerate(scored, 1)]
    lines = "\n".join(f"- «{p.text}» [{n}]" for n, p in enumerate(chosen, 1))
    text = render("extractive_gist", language, lines=lines, quoted=_quoted_in(chosen[0].text, language))
    return text + _gloss([p.text for p in chosen], language), citations
