"""The question's focus (retrieve/focus.py) and the quote's candidates, on the default article's paragraphs,
without a model: which names are the article's topic and leave the question, when nothing does, and how a
unit found in a lower-ranked passage competes for the quote."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.answer.answerability import missing_name
from assistant.answer.extractive import RANK_BONUS, select_quotes
from assistant.retrieve.base import FOCUS_WEIGHT, RetrievalResult, Unit
from assistant.retrieve.focus import focus, topic_names
from assistant.schemas import Passage, ScoredPassage, Sentence, Span
from tests.conftest import ARTICLE


def _passages(texts: list[str]) -> list[Passage]:
    return [Passage(id=f"a#p{i}", article_id="a", index=i, role="body", text=t,
                    span=Span(start=0, end=len(t))) for i, t in enumerate(texts)]


PASSAGES = _passages([p for p in ARTICLE.read_text(encoding="utf-8").split("\n") if p.strip()])


@pytest.mark.parametrize(("question", "expected"), [
    # Assad is in 71 % of the paragraphs, Sochi in 29 %: the topic, not what is asked.
    ("Why was Assad's visit to Sochi not announced beforehand?",
     "Why was visit to not announced beforehand?"),
    ("لماذا لم يعلن عن زيارة الأسد مسبقا؟", "لماذا لم يعلن عن مسبقا؟"),
    ("ما سبب عدم الإعلان المسبق عن لقاء الأسد وبوتين؟", "ما سبب عدم الإعلان المسبق عن لقاء"),
    # Names joined by a hyphen are names each; a hyphen inside a word or before a digit stays.
    ("Which arms deal is mentioned in connection with the Assad-Putin meeting?",
     "Which arms deal is mentioned in connection with the meeting?"),
    ("Was the S-300 deal discussed at the Assad-Putin meeting?",
     "Was the S-300 deal discussed at the meeting?"),
])
def test_the_articles_pervasive_names_leave_the_question(question, expected):
    assert focus(question, PASSAGES) == expected


@pytest.mark.parametrize("question", [
    "من هي الدول الضامنة لمحادثات أستانا؟",           # Astana is in few paragraphs: it is the point
    "Who was the UN mediator at the Astana talks?",   # "UN" is too short to look for in Arabic letters
    "Who did Assad meet in Sochi?",                   # without its names it would say only "meet"
    "ماذا قال بيسكوف؟",
])
def test_a_question_keeps_its_words_when_they_are_its_point(question):
    assert focus(question, PASSAGES) is None


def test_a_short_article_has_no_topic_to_drop():
    # A SQuAD paragraph is one to three passages: every word of it is in "most" of them.
    three = PASSAGES[7:10]
    assert all("الأسد" in p.text or "استانا" in p.text for p in three)
    assert focus("لماذا لم يعلن عن زيارة الأسد مسبقا؟", three) is None


def test_the_articles_protagonists_are_its_topic_names():
    question = "Which round of the Astana talks had ended when Assad met Putin in Sochi?"
    # Assad (71 % of the paragraphs) and Putin (53 %) are; Sochi (29 %) and Astana are not.
    assert topic_names(question, PASSAGES) == {"assad", "putin"}
    assert topic_names(question, PASSAGES[:3]) == frozenset()  # too few passages to have a topic


def test_a_passage_may_leave_a_topic_name_implicit():
    astana = [p.text for p in PASSAGES if "الجولة التاسعة لمحادثات استانا" in p.text]
    question = "Which round of the Astana talks had just ended when Assad arrived?"
    def far(left: list[str], right: list[str]) -> np.ndarray:
        return np.zeros((len(left), len(right)))

    assert missing_name(question, astana, far) == "Assad"
    assert missing_name(question, astana, far, topic=topic_names(question, PASSAGES)) is None
    # A name that is not the article's topic is still looked for.
    assert missing_name("Which round of the Astana talks had ended when Erdogan arrived?", astana, far,
                        topic=topic_names(question, PASSAGES)) == "Erdogan"


def test_a_unit_is_scored_against_a_blend_of_question_and_focus():
    question, focused = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    unit = np.array([0.6, 0.8])
    alone = RetrievalResult(query="q", vector=question, passages=[])
    assert alone.similarity(unit) == pytest.approx(0.6)
    both = RetrievalResult(query="q", vector=question, passages=[], focus_vector=focused)
    assert both.similarity(unit) == pytest.approx((1 - FOCUS_WEIGHT) * 0.6 + FOCUS_WEIGHT * 0.8)
    # Not the better of the two: a unit close to the whole question only by the article's pervasive names
    # (close to the question, far from its focus) falls behind one close to the focus.
    names_only, answering = np.array([0.9, 0.1]), np.array([0.5, np.sqrt(0.75)])
    assert both.similarity(answering) > both.similarity(names_only)


def test_the_quote_may_come_from_a_passage_ranked_below_the_third():
    # The sentence ranking hands over the units it found in any retrieved passage; the best of them is
    # quoted even when its paragraph ranks 5th (a short question's answer often sits in a paragraph about
    # something else), but a passage's rank still counts: close scores go to the better-ranked passage.
    ranked = [ScoredPassage(passage=p, score=1.0 / (i + 1), dense_score=0.5)
              for i, p in enumerate(PASSAGES[:5])]
    question = np.array([1.0, 0.0])

    def unit(i: int, cosine: float) -> Unit:
        p = ranked[i].passage
        vector = np.array([cosine, np.sqrt(1 - cosine**2)])
        sentence = Sentence(id=f"{p.id}#s0", passage_id=p.id, article_id="a", text=p.text, span=p.span)
        return Unit(sentence, vector)

    units = [unit(0, 0.40), unit(1, 0.38), unit(2, 0.36), unit(4, 0.50)]
    best = select_quotes(RetrievalResult(query="q", vector=question, passages=ranked, units=units))
    assert best[0].passage.passage.id == ranked[4].passage.id
    close = [unit(0, 0.50), unit(4, 0.50 + RANK_BONUS)]
    best = select_quotes(RetrievalResult(query="q", vector=question, passages=ranked, units=close))
    assert best[0].passage.passage.id == ranked[0].passage.id
