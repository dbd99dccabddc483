"""The answerability rules on the default article's text, without a model: whose words a question asks for."""

from __future__ import annotations

import pytest

from assistant.answer.answerability import missing_name, missing_quantity, reporting_windows, unquoted_speaker
from tests.conftest import ARTICLE

PARAGRAPHS = [p for p in ARTICLE.read_text(encoding="utf-8").split("\n") if p.strip()]


@pytest.mark.parametrize(("question", "speaker"), [
    ("What did Erdogan say about the meeting?", "Erdogan"),
    ("ماذا قال أردوغان عن لقاء بوتين والأسد؟", "أردوغان"),
    # Named by the article, but never as someone who speaks: in an escalation, among guarantors, as absent.
    ("What was Israel's reaction to the visit?", "Israel"),
    ("ما هو رد فعل إسرائيل على زيارة الأسد إلى سوتشي؟", "Israel"),
    ("ماذا قالت الولايات المتحدة عن زيارة الأسد؟", "United States"),
    ("What did Iran say about the visit?", "Iran"),
])
def test_a_question_for_words_nobody_in_the_article_said_names_who(question, speaker):
    assert unquoted_speaker(question, PARAGRAPHS) == speaker


@pytest.mark.parametrize("question", [
    "What did Peskov say about the talks?",          # «وقال دميتري بيسكوف»
    "ماذا قال المتحدث باسم الكرملين؟",
    "What did the Kremlin announce on Thursday?",    # «أعلن الكرملين الخميس»
    "ماذا أعلن وفد المعارضة السورية؟",               # «وفد المعارضة السورية أعلن مقاطعته»
    "What did Russia say about the S-300?",          # the Russian presidency speaks for Russia
    "What did Putin say to Assad?",
    "What did he say about the talks?",              # a follow-up: whom "he" means is the history's business
    "وماذا قال عنها؟",                               # the same in Arabic: a preposition with a pronoun
    "ما الاسم الكامل للرئيس الروسي الوارد في المقال؟",  # «الوارد» ends like «رد» (reply) but is not it
    "Who are the guarantor states of the Astana talks?",  # asks for no one's words
])
def test_a_question_for_words_the_article_reports_is_not_refused(question):
    assert unquoted_speaker(question, PARAGRAPHS) is None


def test_a_speaker_must_stand_near_the_reporting_word_not_anywhere_in_its_sentence():
    far = ("ويأتي اللقاء الذي لم يعلن عنه مسبقا لدواع أمنية على ما يبدو بعد يوم من انتهاء محادثات "
           "ترعاها إيران.")
    assert unquoted_speaker("ماذا قالت إيران؟", [far]) == "Iran"
    near = "وقالت إيران إن اللقاء كان مهما."
    assert unquoted_speaker("ماذا قالت إيران؟", [near]) is None
    assert any("وقالت" in w for w in reporting_windows([near]))


def test_the_united_nations_is_not_taken_for_a_country_the_article_must_name():
    # The article writes «الوسيط الأممي» (the UN mediator), never «الأمم المتحدة».
    assert missing_name("من مثل الأمم المتحدة في الجولة التاسعة من محادثات أستانا؟", PARAGRAPHS) is None


def test_a_country_named_by_its_adjective_is_mentioned():
    # Articles say «الرئيس السوري», «الجيش السوري» as often as «سوريا» itself.
    adjective_only = ["وليس واضحا ما اذا كانت موسكو ستسلم الجيش السوري صواريخ اس 300."]
    question = "What happened to the delivery of the S-300 missiles to Syria?"
    assert missing_name(question, adjective_only) is None
    assert missing_name("What did Oman say?", PARAGRAPHS) == "Oman"


@pytest.mark.parametrize("question", ["How much will Syria pay for the S-300 missiles?",
                                      "كم دفعت سوريا ثمنا لصواريخ اس 300؟"])
def test_a_price_asked_as_paying_needs_a_currency(question):
    assert missing_quantity(question, PARAGRAPHS) == "the closest passages state no price"
    assert missing_quantity(question, ["دفعت سوريا 400 مليون دولار ثمنا للصواريخ."]) is None
