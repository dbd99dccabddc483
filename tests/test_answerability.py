"""The answerability rules on the default article's text, without a model: whose words a question asks for."""

from __future__ import annotations

import numpy as np
import pytest

from assistant import cldr
from assistant.answer.answerability import (
    COMMON_WORD_SIMILARITY,
    CROSS_LANGUAGE_GAP,
    TRANSLATED_WORD_SIMILARITY,
    UNIT_MARGIN,
    _content_forms,
    closeness,
    judge,
    missing_date,
    missing_name,
    missing_number,
    missing_quantity,
    missing_role,
    reporting_windows,
    threshold_for,
    unquoted_speaker,
)
from assistant.answer.verification.entities import Evidence, latin_names
from assistant.retrieve.word_vectors import WordSimilarity
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
    "What did Putin announce about the warships?",  # «بعيد اعلان الرئيس الروسي فلاديمير بوتين نشر سفن»
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


# The closest passages of a question about the Sochi talks: the lede, the Astana paragraph and the one after.
SOCHI_TALKS = [p for p in PARAGRAPHS if "الكرملين الخميس" in p or "استانا" in p]


@pytest.mark.parametrize(("question", "why"), [
    # The article gives a total (102 ships), never a number per ship.
    ("How many Kalibr missiles does each warship carry?", "the closest passages state no number per item"),
    ("كم عدد صواريخ كالبير على كل سفينة؟", "the closest passages state no number per item"),
    # Numbers are there (2015, 102, 300), but none counts visits.
    ("How many times has Assad visited Russia before?", "the closest passages state no count of times"),
    ("كم مرة زار الأسد روسيا من قبل؟", "the closest passages state no count of times"),
])
def test_a_count_the_article_does_not_state_is_missing(question, why):
    assert missing_quantity(question, PARAGRAPHS) == why


@pytest.mark.parametrize("question", [
    "How many warships does Moscow plan to deploy?",          # a total, stated: «نحو 102 سفينة»
    "كم عدد السفن الحربية التي تخطط موسكو لنشرها؟",
    "How many warships will Russia deploy in all?",
])
def test_a_total_the_article_states_is_not_missing(question):
    assert missing_quantity(question, PARAGRAPHS) is None


@pytest.mark.parametrize("question", [
    "How many states guarantee the Astana talks?", "كم دولة ضامنة لمحادثات أستانا؟", "ما عدد الدول الضامنة؟"])
def test_a_count_of_countries_is_stated_by_listing_them(question):
    # «تركيا وروسيا وإيران»: a list is a count with no digit.
    assert missing_quantity(question, SOCHI_TALKS) is None


def test_countries_named_across_a_sentence_are_no_list():
    # Russia, Iran and Israel are the sentence's actors, Syria the question's own: no count of neighbours.
    mediator = [p for p in PARAGRAPHS if "وسيطا لتخفيف" in p]
    assert missing_quantity("How many countries border Syria?", mediator) == (
        "the closest passages state no number for the quantity asked")
    # Three countries listed, but one of them is the question's: two are left.
    assert missing_quantity("How many countries besides Iran guarantee the talks?",
                            ["ترعى المحادثات تركيا وروسيا وإيران."]) is not None


@pytest.mark.parametrize(("question", "sentence"), [
    ("كم سعر كيلو السكر؟", "ارتفع سعر كيلو السكر إلى 55 جنيها في بعض المحافظات."),   # Egyptian pounds
    ("How much is a peak return ticket?", "A peak return ticket now costs £14.60."),
    ("كم سعر ربطة الخبز في دمشق؟", "بلغ سعر ربطة الخبز 400 ليرة."),
    ("How much does a kilo of sugar cost?", "A kilo of sugar costs 12 dirhams."),
])
def test_a_price_in_any_cldr_currency_is_a_price(question, sentence):
    assert missing_quantity(question, [sentence]) is None
    no_price = "the closest passages state no price"
    assert missing_quantity(question, ["ارتفع سعر كيلو السكر 55 مرة."]) == no_price


def test_how_much_something_fell_asks_no_price():
    fell = "وسجلت البورصة المصرية تراجعا بنسبة 3.1 بالمئة."
    assert missing_quantity("How much did the stock exchange fall?", [fell]) is None
    no_price = "the closest passages state no price"
    assert missing_quantity("How much did the S-300 deal cost?", [fell]) == no_price


def test_to_what_extent_is_not_a_duration_nor_a_number():
    """«ما مدى» asks "to what extent", «ما مدة» "how long" (found on ARCD: an answerable «ما مدى تأثير …؟»
    was refused for stating no duration)."""
    extent = "العوامل الوراثية هي الأكثر تأثيرا في حالات الاضطراب."
    assert missing_quantity("ما مدى تأثير العوامل الوراثية في حالات الاضطراب؟", [extent]) is None
    no_duration = "the closest passages state no duration"
    assert missing_quantity("ما مدة اللقاء؟", ["حضر اللقاء 5 وزراء."]) == no_duration
    assert missing_quantity("ما مدة الزيارة؟", ["استمرت الزيارة 3 أيام."]) is None


def test_speaking_for_someone_reports_their_words():
    """«تتحدث باسم» (speaks for) reports speech like «قال»: a newspaper that "spoke for the revolution" is
    quoted (found on ARCD, where «ماذا قالت جريدة المجاهد …؟» was refused)."""
    text = "كتب عنه أحد العارفين به في جريدة المجاهد التي كانت تتحدث باسم الثورة أنه شاب مؤمن."
    assert unquoted_speaker("ماذا قالت جريدة المجاهد عنه؟", [text]) is None
    assert unquoted_speaker("ماذا قالت جريدة المجاهد عنه؟", ["نشرت جريدة المجاهد صورته."]) == "جريدة"


def test_a_count_per_item_or_of_times_is_found_when_stated():
    per_item = ["وتحمل كل سفينة 8 صواريخ كالبير."]
    assert missing_quantity("How many missiles does each ship carry?", per_item) is None
    assert missing_quantity("كم صاروخا تحمل كل سفينة؟", per_item) is None
    # «كل من» is "both … and", not "each": it does not make a total a number per item.
    both = ["ووجدت روسيا نفسها وسيطا مع كل من إيران واسرائيل ونشرت 102 سفينة."]
    per_item_missing = "the closest passages state no number per item"
    assert missing_quantity("كم صاروخا تحمل كل سفينة؟", both) == per_item_missing
    third = ["وزار الأسد روسيا للمرة الثالثة منذ عام 2015."]
    assert missing_quantity("How many times has Assad visited Russia?", third) is None
    assert missing_quantity("كم مرة زار الأسد روسيا؟", third) is None


@pytest.mark.parametrize(("question", "missing"), [
    ("متى ستعقد الجولة العاشرة من محادثات أستانا؟", "10"),  # the article has the ninth
    ("When will the tenth round of the Astana talks be held?", "10"),
    ("Did Assad and Putin discuss the S-400 system?", "400"),
    ("ما الذي حدث في الجولة التاسعة؟", None),
    ("Did Putin and Assad discuss the S-300 deal?", None),  # «اس 300»
    ("What did the two leaders discuss?", None),  # a cardinal describes; "two" need not be written
    ("Which three countries guarantee the Astana talks?", None),
])
def test_a_number_that_singles_something_out_must_be_stated(question, missing):
    found = missing_number(question, PARAGRAPHS)
    assert found == (f"the closest passages do not mention {missing}" if missing else None)


@pytest.mark.parametrize("question", ["What share of the vote did Putin win in the election?",
                                      "ما نسبة الأصوات التي فاز بها بوتين في الانتخابات؟",
                                      "بكم بالمية فاز بوتين بالانتخابات الاخيرة؟",  # Levantine
                                      "By what percentage did Putin win the election?"])
def test_a_share_needs_a_percentage_not_any_number(question):
    assert missing_quantity(question, PARAGRAPHS) == "the closest passages state no share"
    assert missing_quantity(question, ["فاز بوتين بنسبة 76 في المئة من الأصوات."]) is None
    assert missing_quantity(question, ["فاز بوتين بـ 76% من الأصوات."]) is None


def test_how_long_a_thing_is_may_be_a_length_and_a_day_answers_how_long_after():
    # From ARCD: "How long is the Libyan border?" is answered by «بطول 1115 كم», with no unit of time.
    border = ["ويحدها من الغرب ليبيا على امتداد خط بطول 1115 كم، كما تشترك مع السودان بأطول حدود."]
    assert missing_quantity("How long is the Libyan border?", border) is None
    no_duration = "the closest passages state no duration"
    assert missing_quantity("How long did the border talks last?", border) == no_duration
    # «بعد يوم من انتهاء الجولة التاسعة»: a unit of time with no number is a duration.
    assert missing_quantity("بعد كم من الوقت على انتهاء جولة استانا جاء اللقاء؟",
                            ["ويأتي اللقاء بعد يوم من انتهاء الجولة."]) is None


@pytest.mark.parametrize("question", [
    "مين بيرأس وفد المعارضة السورية في مفاوضات استانة؟",  # colloquial, from bench/data/article-dev-ar.jsonl
    "من ترأس وفد الحكومة السورية في أستانا؟",
    "Who headed the Syrian government delegation at the Astana talks?",
    "Who was the head of the Syrian opposition delegation?",  # the noun, in English only (see below)
])
def test_who_headed_a_delegation_the_article_never_names_a_head_of_is_missing(question):
    # «وفد المعارضة السورية أعلن مقاطعته»: the delegation is there, its head is not.
    assert missing_role(question, PARAGRAPHS) == "head of the delegation"
    assert missing_role(question, ["وشارك وفد المعارضة برئاسة نصر الحريري في الجولة."]) is None
    assert missing_role(question, ["The delegation, led by Bashar Jaafari, arrived on Monday."]) is None


@pytest.mark.parametrize("question", ["Who leads Syria?", "من هو رئيس الوفد الروسي؟", "Who led the talks?"])
def test_a_head_asked_of_no_delegation_or_by_the_noun_is_not_refused_by_it(question):
    # «رئيس» is also "president", and a country's leader is named «الرئيس السوري».
    assert missing_role(question, PARAGRAPHS) is None


def test_an_ordinal_is_no_count():
    # «بعد انتهاء الجولة التاسعة» numbers a round; it does not say how many were killed.
    lede = [p for p in PARAGRAPHS if p.startswith("زيارة الرئيس السوري")]
    assert missing_quantity("كم عدد القتلى في التصعيد الأخير بين ايران واسرائيل؟", lede) == (
        "the closest passages state no number for the quantity asked")


@pytest.mark.parametrize("question", [
    "On what date will the round of talks in Sochi take place?",
    "ما تاريخ جولة المحادثات في سوتشي؟",
    "في أي تاريخ ستعقد جولة المحادثات في سوتشي؟",
])
def test_a_date_is_missing_where_only_a_weekday_is_given(question):
    # «أعلن الكرملين الخميس»: Thursday is a day, not a date.
    assert missing_date(question, SOCHI_TALKS) == "the closest passages state no date"


@pytest.mark.parametrize("question", [
    "On what date did Russia intervene in the Syrian crisis?",   # «في سبتمبر/ايلول 2015»
    "ما تاريخ تدخل روسيا في الأزمة السورية؟",
    "On which day did the Kremlin announce the meeting?",       # asks for a day: Thursday answers it
    "متى أعلن الكرملين عن اللقاء؟",
])
def test_a_date_stated_or_a_day_asked_is_not_missing(question):
    assert missing_date(question, PARAGRAPHS) is None
    assert missing_date("What was the date?", ["في التاسع من ايار الماضي"]) is None  # a Levantine month


@pytest.mark.parametrize(("question", "role"), [
    ("Which Russian ministers attended the meeting in Sochi?", "Russia minister"),
    ("من هم الوزراء الروس الذين حضروا اللقاء؟", "minister"),
    ("هل حضر وزير الدفاع الروسي اللقاء؟", "Russia minister"),
    ("Did Assad meet Iranian officials during his trip?", "Iran official"),
    ("هل التقى الأسد بمسؤولين إيرانيين خلال زيارته؟", "Iran official"),
])
def test_holders_of_a_role_the_article_never_names_are_missing(question, role):
    # The passages about the meeting itself (elsewhere the article names the opposition's delegation).
    meeting = [p for p in PARAGRAPHS if "بوتين" in p and "وفد" not in p and "ممثل" not in p]
    assert missing_role(question, meeting) == role
    # Nowhere in the article: no minister at all, and the representatives it names («غياب ممثلين عن الولايات
    # المتحدة», right after «وإيران») are the United States'.
    assert missing_role(question, PARAGRAPHS) == role


def test_holders_of_a_role_are_named_beside_their_country():
    astana = ["تحت رعاية الدول الضامنة وهي تركيا وروسيا وإيران وغياب ممثلين عن الولايات المتحدة."]
    assert missing_role("هل حضر مسؤولون إيرانيون؟", astana) == "Iran official"
    assert missing_role("هل حضر مسؤولون إيرانيون؟", ["وشارك ممثلون إيرانيون في الجولة."]) is None
    assert missing_role("Did Iranian officials attend?", ["Iranian officials attended the round."]) is None
    assert missing_role("Did German ministers attend?", ["وحضر وزير الخارجية الألماني."]) is None
    # "American" is not American Samoa; a country the question names no adjective of asks for no country.
    assert missing_role("Did American officials attend?", astana) is None


@pytest.mark.parametrize("question", [
    "What was the official reason for the visit?",          # "official" as an adjective asks for no one
    "من المسؤول عن عدم الإعلان عن الزيارة؟",               # «المسؤول عن»: responsible, not an official
    "Who is the Kremlin spokesman?",                         # not a role the rule knows: never refused by it
    "Which round of the Astana talks had just ended?",
])
def test_questions_asking_no_role_are_not_refused_by_it(question):
    assert missing_role(question, PARAGRAPHS) is None


def test_a_role_named_in_either_language_or_as_a_delegation_is_not_missing():
    assert missing_role("Which ministers attended?", ["وحضر اللقاء وزير الخارجية سيرغي لافروف."]) is None
    assert missing_role("من هم الوزراء الذين حضروا؟", ["The foreign ministers met in Ankara."]) is None
    # «غياب ممثلين عن الولايات المتحدة»: representatives answer a question about officials.
    assert missing_role("Did US officials attend the Astana talks?",
                        ["وسط غياب ممثلين عن الولايات المتحدة."]) is None
    assert missing_role("Did Turkish officials attend?", ["وشارك وفد تركي في المحادثات."]) is None


@pytest.mark.parametrize(("passage_cosine", "unit_cosine", "answerable"), [
    (0.28, 0.28 + UNIT_MARGIN + 0.06, True),   # a clause close enough on the passage scale
    (0.28, 0.28 + UNIT_MARGIN + 0.02, False),  # the unit's own scale is higher: 0.42 is not close
    (0.40, 0.30, True),                        # the passage alone is close enough
    (0.20, 0.0, False),
])
def test_a_close_sentence_counts_for_closeness_on_the_passage_scale(passage_cosine, unit_cosine, answerable):
    import numpy as np

    from assistant.retrieve.base import RetrievalResult, Unit
    from assistant.schemas import Passage, ScoredPassage, Sentence, Span

    text = "أعلن الكرملين أن بوتين التقى الأسد في سوتشي."
    passage = Passage(id="a#p0", article_id="a", index=0, role="body", text=text,
                      span=Span(start=0, end=len(text)))
    sentence = Sentence(id="a#p0#s0", passage_id="a#p0", article_id="a", text=text, span=passage.span)
    unit = Unit(sentence, np.array([unit_cosine, np.sqrt(1 - unit_cosine**2)]))
    result = RetrievalResult(query="أين التقيا؟", vector=np.array([1.0, 0.0]), units=[unit],
                             passages=[ScoredPassage(passage=passage, score=1.0, dense_score=passage_cosine)])
    assert closeness(result) == pytest.approx(max(passage_cosine, unit_cosine - UNIT_MARGIN))
    assert judge(result, 0.33).answerable is answerable


def _result(question: str, text: str, cosine: float):
    from assistant.retrieve.base import RetrievalResult
    from assistant.schemas import Passage, ScoredPassage, Span

    passage = Passage(id="a#p0", article_id="a", index=0, role="body", text=text,
                      span=Span(start=0, end=len(text)))
    return RetrievalResult(query=question, vector=np.array([1.0, 0.0]), units=[],
                           passages=[ScoredPassage(passage=passage, score=1.0, dense_score=cosine)])


def test_a_question_in_another_language_than_its_passage_is_held_to_a_lower_threshold():
    arabic = "أعلن الكرملين أن بوتين التقى الأسد في سوتشي."
    lowered = pytest.approx(0.33 - CROSS_LANGUAGE_GAP)
    assert threshold_for(0.33, "Where did Putin meet Assad?", arabic) == lowered
    assert threshold_for(0.33, "أين التقى بوتين الأسد؟", arabic) == 0.33
    assert threshold_for(0.33, "Where did Putin meet Assad?", "Putin met Assad in Sochi.") == 0.33
    # Text with no letters is in no language: no allowance either way.
    assert threshold_for(0.33, "2015?", arabic) == 0.33
    assert threshold_for(0.33, "Where did Putin meet Assad?", "2019 – 2021") == 0.33
    between = 0.33 - CROSS_LANGUAGE_GAP / 2
    assert judge(_result("Where did they meet?", arabic, between), 0.33).answerable
    assert not judge(_result("أين التقيا؟", arabic, between), 0.33).answerable
    assert not judge(_result("Where did they meet?", "Putin met Assad in Sochi.", between), 0.33).answerable


def _similarity(close: dict[str, str]):
    """A word similarity that puts each English word of ``close`` at 0.9 from the one Arabic form given for
    it, and everything else far (for the logic; the real model's is tested below)."""
    def similarity(left: list[str], right: list[str]) -> np.ndarray:
        return np.array([[0.9 if close.get(w) == r else 0.1 for r in right] for w in left])
    return similarity


def _all_close(left: list[str], right: list[str]) -> np.ndarray:
    return np.ones((len(left), len(right)))


WORLD_WAR = ["الحرب العالمية الأولى، وتسمى أيضاً الحرب العظمى، كانت حرب عالمية نشبت بدايةً في أوروبا "
             "في 28 يوليو 1914."]


def test_an_english_word_the_article_translates_is_mentioned_when_an_arabic_word_embeds_close():
    question = "When did World War I break out?"
    # «عالم» is only there as the noun of the nisba adjective «العالمية». "War" (skeleton R) is a common
    # word of one consonant: it too is held to its translation.
    assert missing_name(question, WORLD_WAR, _similarity({"World": "عالم", "War": "الحرب"})) is None
    assert missing_name(question, WORLD_WAR, _similarity({"War": "الحرب"})) == "World"
    assert missing_name(question, WORLD_WAR, _similarity({"World": "عالم"})) == "War"
    # Without a model to ask, a dictionary word is not held against the question.
    assert missing_name(question, WORLD_WAR) is None
    # Over a passage with no Arabic word, the word itself would have been there.
    assert missing_name("What did Trump say about the meeting?", ["Putin met Assad in Sochi."],
                        _all_close) == "Trump"


def _scores(table: dict[tuple[str, str], float]):
    """A word similarity that gives each (English word, Arabic form) pair of ``table`` its score, 0.1 else."""
    def similarity(left: list[str], right: list[str]) -> np.ndarray:
        return np.array([[table.get((w, r), 0.1) for r in right] for w in left])
    return similarity


CALENDAR = ["التقويم الميلادي هو التقويم المستعمل مدنيا في أكثر دول العالم، ويبدأ من ميلاد المسيح."]


def test_a_common_word_is_held_to_a_lower_bar_than_a_name_the_dictionary_knows():
    # "Christian" is lemmatised to "christian" (a common word); "Jesus" to "Jesus" (a proper noun).
    between = 0.5 * (COMMON_WORD_SIMILARITY + TRANSLATED_WORD_SIMILARITY)
    assert missing_name("What is the Christian-era calendar?", CALENDAR,
                        _scores({("Christian", "المسيح"): between})) is None
    assert missing_name("When was Jesus born?", CALENDAR, _scores({("Jesus", "المسيح"): between})) == "Jesus"
    below = COMMON_WORD_SIMILARITY - 0.01
    assert missing_name("What is the Christian-era calendar?", CALENDAR,
                        _scores({("Christian", "المسيح"): below})) == "Christian"


def test_a_place_name_is_no_translation_of_a_common_word_unless_the_word_is_made_from_it():
    astana = ["جرت المحادثات تحت رعاية الدول الضامنة وهي تركيا وروسيا وإيران."]
    # Ankara is a fabric to the dictionary, and embeds close to «تركيا»: a city beside its country.
    assert missing_name("Were the talks moved to Ankara?", astana,
                        _scores({("Ankara", "تركيا"): 0.9})) == "Ankara"
    # With a conjunction the word still names Turkey.
    assert missing_name("Were the talks moved to Ankara?", ["برعاية روسيا وتركيا وإيران."],
                        _scores({("Ankara", "وتركيا"): 0.9})) == "Ankara"
    # The name of the place the word is made from, and a place's adjective, may translate it.
    berlin = ["قالت ألمانيا إنها تدعم المحادثات."]
    assert missing_name("What did the German government say?", berlin,
                        _scores({("German", "المانيا"): 0.9})) is None  # as normalised
    hague = ["قال وزير الخارجية الهولندي إن بلاده تدعم المحادثات."]
    assert missing_name("What did the Dutch minister say?", hague,
                        _scores({("Dutch", "الهولندي"): 0.9})) is None


@pytest.mark.parametrize("question", [
    "What did May say about the meeting?",  # M: every word with an m
    "What did the Pope say about the visit?",  # P
    "What did Cook say about the talks?",  # K
])
def test_a_common_word_of_one_consonant_is_not_found_by_transliteration(question):
    # Each of these skeletons is in the article many times over; only the word test could find them.
    assert missing_name(question, PARAGRAPHS, _similarity({})) is not None
    # Without a model to ask, such a word is not held against the question, as before.
    assert missing_name(question, PARAGRAPHS) is None


def test_a_letter_of_a_designation_is_still_found():
    assert missing_name("Why did Moscow back away from the S-300 deal?",
                        ["صفقة صواريخ اس 300 التي تراجعت عنها موسكو"], _similarity({})) is None


def test_the_words_compared_keep_their_own_first_letters():
    forms = _content_forms(["زار وزير خارجية فرنسا لبنان والعالمية في هذه الحرب"])
    assert {"وزير", "فرنسا", "لبنان", "والعالميه", "عالميه", "عالم", "الحرب", "حرب"} <= set(forms)
    assert not {"زير", "رنسا", "بنان", "في", "هذه"} & set(forms)


def test_a_name_no_dictionary_has_still_needs_its_transliteration():
    assert missing_name("What did Erdogan say about the meeting?", PARAGRAPHS, _all_close) == "Erdogan"


@pytest.mark.parametrize(("word", "place"), [
    ("التركية", ("türkiye", False)),  # not «ترك», CLDR's Chuuk
    ("وتركيا", ("türkiye", True)),
    ("السورية", ("syria", False)),
    ("الإيرانية", ("iran", False)),
    ("الهولندي", ("netherlands", False)),
    ("المسيحي", None),
])
def test_a_word_names_a_place_or_its_adjective(word, place):
    from assistant.answer.verification.entities import bare_arabic
    from assistant.answer.verification.gazetteer import place_of

    assert place_of(bare_arabic(word)) == place


def test_a_cldr_city_is_looked_for_by_its_arabic_name_not_by_similarity():
    # The article names Iran, never Tehran.
    assert missing_name("What did Assad say in Tehran?", PARAGRAPHS, _all_close) == "Tehran"
    assert missing_name("What did Assad say in Moscow?", PARAGRAPHS, _all_close) is None
    # A person who shares a name with a city is still found by transliteration.
    assert missing_name("What did Charles Darwin propose?", ["اقترح تشارلز داروين نظرية التطور."],
                        _all_close) is None


@pytest.mark.parametrize(("question", "text"), [
    # CLDR's «المملكة العربية السعودية» is written «السعودية»; ق read as g joins ج (Khashoggi).
    ("When did Khashoggi leave Saudi Arabia?", "غادر خاشقجي السعودية في سبتمبر 2017."),
    ("Where is most of Egypt's population?", "ويتركز أغلب سكان مصر في وادي النيل."),  # possessive
    ("Where was Naguib Mahfouz born?", "وُلد نجيب محفوظ في حي الجمالية بالقاهرة."),  # ظ read as z
    ("When was Sherine Abdel Wahab born?", "شيرين عبد الوهاب (8 أكتوبر 1980)، مغنية مصرية."),  # «عبد ال»
    ("What did Oman and the United Kingdom compete over?", "كانت سلطنة عمان تتنافس مع المملكة المتحدة."),
    # A capital that opens a sentence is no name.
    ("Belgium has two languages. Which one is used more?", "وفي بلجيكا لغتان هما الهولندية والفرنسية."),
])
def test_names_written_the_ways_arabic_writes_them_are_mentioned(question, text):
    assert missing_name(question, [text], _similarity({})) is None


@pytest.mark.parametrize("name", ["Morsi", "Abbas", "Bush", "James", "Abdel"])
def test_the_second_readings_of_letters_do_not_find_absent_names(name):
    # «المعارضة» read with ض as z is MRST, «الأبيض» BS, «قام» GM; «بعد» is BD like «عبد».
    assert not Evidence(PARAGRAPHS).has_name(name)


def test_a_country_is_named_by_its_one_distinctive_word_only_beside_words_of_a_state_name():
    by_english = {n.english: n for n in cldr.names()}
    assert cldr.mentions("غادر السعودية في سبتمبر", by_english["Saudi Arabia"])
    assert cldr.mentions("سافر إلى الإمارات", by_english["United Arab Emirates"])
    assert not cldr.mentions("سفن في البحر الأسود", by_english["Montenegro"])  # «الجبل الأسود»
    assert not cldr.mentions("الولايات الهندية", by_english["United States"])


def test_an_abbreviation_does_not_start_a_sentence():
    assert latin_names("What did Mr. Erdogan say? And Putin?", "en") == ["Erdogan", "Putin"]
    assert latin_names("Did Real Madrid play vs. Barcelona?", "en") == ["Real", "Madrid", "Barcelona"]
    assert latin_names("Which languages? Dutch.", "en") == []


def test_with_the_real_model_translated_words_pass_and_absent_names_do_not(embedder):
    words = WordSimilarity(embedder)
    assert missing_name("When did World War I break out?", WORLD_WAR, words) is None
    assert missing_name("What is the Islamic Republic of Iran?",
                        ["الجمهورية الإسلامية الإيرانية هي دولة تقع في غرب آسيا."], words) is None
    # Dictionary words that are names of people the article never mentions stay missing.
    assert missing_name("What did Trump say about the meeting?", PARAGRAPHS, words) == "Trump"
    assert missing_name("What did Erdogan say about the meeting?", PARAGRAPHS, words) == "Erdogan"
    # Also beside their own country's words: simplemma knows these names, so only the model tells.
    washington = ["قال الرئيس الأمريكي في البيت الأبيض إن الولايات المتحدة ستفرض عقوبات جديدة على روسيا."]
    paris = ["قال الرئيس الفرنسي في قصر الإليزيه إن فرنسا تدعم الحل السياسي في سوريا."]
    assert missing_name("What did Obama say about the sanctions?", washington, words) == "Obama"
    assert missing_name("What did Clinton say about the sanctions?", washington, words) == "Clinton"
    assert missing_name("What did Macron say about Syria?", paris, words) == "Macron"
    # A common word the article translates, a little further from its Arabic word than a name would be.
    assert missing_name("What is the Christian-era calendar?", CALENDAR, words) is None
    # A city the dictionary knows as a common word is not «تركيا».
    astana = ["جرت المحادثات تحت رعاية الدول الضامنة وهي تركيا وروسيا وإيران."]
    assert missing_name("Were the talks moved to Ankara later?", astana, words) == "Ankara"


@pytest.mark.parametrize("question", [
    "Did Assad visit Aleppo during the trip?",  # a dictionary word, closest to «السورية» (0.79)
    "Was the meeting held in Ankara?",  # closest to «تركيا»
    "Was Geneva mentioned as a venue for the talks?",
    "What did Macron say about Assad's visit?",
])
def test_an_on_topic_question_about_a_place_or_person_the_article_never_names_is_refused(assistant, question):
    answer = assistant.ask(question, [], mode="extractive")
    assert answer.mode == "not_found", answer.answer
    assert answer.answer.startswith("The article does not answer this question")


@pytest.mark.parametrize(("question", "why"), [
    # The closest paragraphs state a year and 102 ships; the sentence quoted for the question has no number.
    ("How many fighters were evacuated from around Damascus under the reconciliation deals?",
     "the quoted sentences state no number for the quantity asked"),
    ("كم عدد المسلحين الذين أخرجوا من محيط دمشق بموجب اتفاقيات المصالحة؟",
     "the quoted sentences state no number for the quantity asked"),
])
def test_a_count_whose_quoted_sentence_states_no_number_is_refused(assistant, question, why):
    # From bench/data/article-dev-unanswerable-en.jsonl (the Arabic one translated from it).
    answer = assistant.ask(question, [], mode="extractive")
    assert answer.mode == "not_found", answer.answer
    assert answer.note == why
    assert [c.kind for c in answer.citations] == ["related", "related"]


def test_a_count_whose_quoted_sentence_states_it_is_answered(assistant):
    answer = assistant.ask("كم سفينة حربية تخطط موسكو لنشرها؟", [], mode="extractive")
    assert answer.mode == "extractive", answer.note
    assert "102" in answer.answer


@pytest.mark.parametrize(("question", "words"), [
    # Far from every passage in English (0.313), close enough once the cross-language gap is allowed.
    ("Under whose sponsorship was the ninth round held?", ["تركيا", "روسيا", "إيران"]),
    # The answering passage says «اللقاء», not Assad: he is the article's topic.
    ("Which round of the Astana negotiations had just wrapped up when Assad arrived?", ["التاسعة"]),
])
def test_answerable_english_questions_written_after_the_rules_are_answered(assistant, question, words):
    # From bench/data/article-dev-en.jsonl, written by someone who had not seen the system's answers.
    answer = assistant.ask(question, [], mode="extractive")
    assert answer.mode == "extractive", answer.note
    assert all(word in answer.answer for word in words), answer.answer


# --- cases a review of the thirteenth session's rules found (each refused or let through wrongly) ---

@pytest.mark.parametrize(("question", "text"), [
    ("How many countries share a border with Chad?", "Chad borders six countries: Libya, Sudan and others."),
    ("كم عدد القتلى بالنسبة للجيش؟", "وقتل 12 جنديا من الجيش."),
    ("ما نسبة الأصوات التي فاز بها بوتين؟", "فاز بوتين بنصف الأصوات."),
    ("What share of the vote did he win?", "He won more than half of the vote."),
    ("How many people live in the third largest city?", "The third largest city has 3 million people."),
])
def test_a_share_or_count_stated_without_a_percentage_sign_is_not_missing(question, text):
    assert missing_quantity(question, [text]) is None


@pytest.mark.parametrize(("question", "text"), [
    ("How long did the talks last?", "The talks were held on Monday."),       # "day" inside "Monday"
    ("ما مدة الهدنة؟", "وقال الأمين العام إن الهدنة صامدة."),                   # «العام»: general
    ("How long did the siege last?", "وقتلت الميليشيات 30 مدنيا."),           # «ميل» inside a word
])
def test_a_time_word_inside_another_word_is_no_duration(question, text):
    assert missing_quantity(question, [text]) is not None


@pytest.mark.parametrize(("question", "text"), [
    ("When was the eleventh round held?", "عقدت الجولة الحادية عشرة في أيار."),
    ("متى عقدت الجولة الثالثة عشرة؟", "The thirteenth round was held in May."),
    ("What did the G20 say?", "وقالت مجموعة العشرين إن …"),
    ("What happened after 9/11?", "بعد هجمات 11 أيلول …"),
    ("Where did 10,000 people gather?", "تجمع عشرة آلاف شخص في الساحة."),
    ("Was a third of the voters absent?", "غاب ثلث الناخبين."),
    ("Was a third party involved in the talks?", "شاركت أطراف أخرى في المحادثات."),
    ("What did the 2 leaders discuss?", "ناقش الرئيسان الوضع."),
])
def test_numbers_written_differently_or_describing_are_not_required(question, text):
    assert missing_number(question, [text]) is None


@pytest.mark.parametrize("text", [
    "وترأس الوفد بشار الجعفري.", "الوفد الذي يرأسه الجعفري", "وقاد الجعفري وفد الحكومة",
    "رئيسة الوفد لونا الشبل", "The delegation's head, Bashar Jaafari, said.",
    "Jaafari led the government delegation.",
])
def test_a_delegation_head_named_in_other_words_is_named(text):
    assert missing_role("Who headed the Syrian government delegation?", [text]) is None


def test_a_head_asked_of_something_else_or_a_cape_is_not_a_delegation_head():
    assert missing_role("Who led the talks with the delegation?", PARAGRAPHS) is None
    assert missing_role("من ترأس الوفد؟", ["اجتمع الوفد في رأس العين."]) == "head of the delegation"


@pytest.mark.parametrize(("question", "text"), [
    ("Did Iranian ministers attend?", "Iranian Foreign Minister Javad Zarif attended."),
    ("Did Iranian ministers attend?", "Iran's Foreign Minister Javad Zarif attended."),
    ("هل حضر وزراء إيرانيون؟", "حضر وزراء خارجية روسيا وتركيا وإيران."),
    # Iran is named, not given as the officials' nationality.
    ("Which officials visited Iran?", "Officials from Russia visited Iran on Monday."),
    ("Did Francis meet officials?", "Officials met the Pope."),                        # Francis is not France
])
def test_role_holders_of_a_country_are_found_where_each_language_puts_the_country(question, text):
    assert missing_role(question, [text]) is None


def test_a_nationality_is_the_longest_country_it_names():
    found = missing_role("Did Nigerian officials attend?", ["Officials from Chad attended."])
    assert found == "Nigeria official"


@pytest.mark.parametrize("question", [
    "What role has Russia ended up playing between Tehran and Israel?",
    "What is Washington's role in the Astana talks?",
    "Did Ankara take part in the Astana talks?",
])
def test_a_capital_standing_for_its_government_is_its_country(question):
    # The article names Iran, the United States and Turkey, never their capitals.
    assert missing_name(question, PARAGRAPHS, _all_close) is None


def test_a_capital_as_a_place_or_of_a_country_never_named_is_missing():
    assert missing_name("Did Assad stop in Tehran on the way?", PARAGRAPHS, _all_close) == "Tehran"
    assert missing_name("What did Paris say about the meeting?", PARAGRAPHS, _all_close) == "Paris"


def test_a_country_named_by_its_capital_is_mentioned():
    # News writes Russia as «موسكو»: CLDR has Moscow's Arabic name as a time-zone city.
    assert missing_name("Why did Russia pull out of the deal?", ["تراجعت موسكو عن الصفقة."]) is None
    assert missing_name("Why did Egypt pull out of the deal?", ["تراجعت موسكو عن الصفقة."]) == "Egypt"


@pytest.mark.parametrize(("question", "text", "role"), [
    ("Did Turkish officials attend?", "وحضر مسؤول تركي الاجتماع.", None),
    ("Did British ministers attend?", "وحضر وزير الخارجية الفرنسي.", "United Kingdom minister"),
    ("Did French ministers attend?", "وحضر وزير الخارجية الفرنسي.", None),
])
def test_an_irregular_demonym_asks_for_its_country(question, text, role):
    assert missing_role(question, [text]) == role
    astana = ["تحت رعاية الدول الضامنة وهي تركيا وروسيا وإيران وغياب ممثلين عن الولايات المتحدة."]
    assert missing_role("Did Turkish officials attend?", astana) == "Türkiye official"


def test_a_question_whose_words_the_passages_hold_is_worded_like_them():
    from assistant.answer.answerability import worded_like

    astana = [p for p in PARAGRAPHS if "ميستورا" in p]
    assert worded_like("من هو الوسيط الأممي؟", astana)                  # both content words
    assert not worded_like("ما هي عاصمة فرنسا؟", astana)                # one of two
    assert not worded_like("كم عدد سكان سوتشي؟", PARAGRAPHS)            # two of four
    # Across languages single words say too little: never worded like the passage.
    assert not worded_like("Who is the UN mediator?", astana)


def test_names_read_from_a_question_typed_in_lower_case_or_capitals_are_checked():
    from assistant.questions import reading

    def read(question: str) -> str:
        return reading(question, typos=True)

    assert missing_name(read("Did Jordan, Iran and Russia attend?"), PARAGRAPHS, _all_close) == "Jordan"
    assert missing_name(read("What Did Jordan Say About The Visit?"), PARAGRAPHS, _all_close) == "Jordan"
    assert missing_role(read("DID IRANIAN OFFICIALS ATTEND THE TALKS"), PARAGRAPHS) == "Iran official"
    assert missing_role(read("did turkish officials attend the talks"), PARAGRAPHS) == "Türkiye official"
    assert missing_name(read("why was the visit not anounced"), PARAGRAPHS, _all_close) is None  # a typo


def test_a_capital_after_a_verb_of_going_is_a_place():
    assert missing_name("Did Assad visit Tehran?", PARAGRAPHS, _all_close) == "Tehran"


def test_one_arabic_word_is_not_two_held_words():
    from assistant.answer.answerability import worded_like

    # «بوتين» tokenizes as «بوتين», «وتين», «تين»: still one word of the three.
    assert not worded_like("من هي زوجة بوتين؟", PARAGRAPHS)


def _two_stories(topic: frozenset[str] = frozenset()):
    """A result whose closest passage is a rail-strike story and whose second is another story."""
    from assistant.retrieve.base import RetrievalResult, Unit
    from assistant.schemas import Passage, ScoredPassage, Sentence, Span

    vector = np.array([1.0, 0.0])
    texts = {"rail#p0": "The drivers began the strike on Tuesday over pay.",
             "union#p0": "Mick Whelan said the strike over pay would go on."}
    passages, units = [], []
    for n, (pid, text) in enumerate(texts.items()):
        article = pid.split("#")[0]
        passages.append(ScoredPassage(passage=Passage(id=pid, article_id=article, index=0, role="body",
                                                      text=text, span=Span(start=0, end=len(text))),
                                      score=1.0 - n / 10, dense_score=0.6 - n / 10))
        units.append(Unit(Sentence(id=f"{pid}s", passage_id=pid, article_id=article, text=text,
                                   span=Span(start=0, end=len(text))), vector * (0.9 - n / 10)))
    return RetrievalResult(query="q", vector=vector, passages=passages, units=units, topic_names=topic,
                           stories={"rail": "Rail strike", "union": "Union leader"})


def test_the_story_that_holds_what_is_asked_is_the_one_quoted():
    from assistant.answer.extractive import select_quotes

    question = "What did Mick Whelan say about the strike over pay?"
    result = _two_stories()
    verdict = judge(result, 0.33, question)
    # The closest story never names Whelan; the second does, and only it is quoted.
    assert verdict.answerable and verdict.stories == {"Union leader"}
    assert [q.passage.passage.article_id for q in select_quotes(result, stories=verdict.stories)] == ["union"]


def test_the_closest_articles_topic_names_are_not_lent_to_another_story():
    # "Putin" runs through the closest article (its topic), not through the story that names Whelan.
    question = "What did Mick Whelan say about Putin?"
    verdict = judge(_two_stories(topic=frozenset({"putin"})), 0.33, question)
    assert not verdict.answerable
