"""How a question is read before retrieval and the answerability checks (questions.reading)."""

from __future__ import annotations

import pytest

from assistant.questions import defined_term, reading, truecased


@pytest.mark.parametrize(("typed", "read"), [
    ("who is peskov", "Who is Peskov?"),                                   # a name no dictionary has
    ("how did erdogan react to the visit", "How did Erdogan react to the visit?"),
    ("why did moscow back out", "Why did Moscow back out?"),               # a name the dictionary has
    ("whats the point of all those ships", "Whats the point of all those ships?"),  # a contraction
    ("isnt the kremlin saying more", "Isnt the Kremlin saying more"),
    # Made of two dictionary words: not a name.
    ("which ceasefire deal helped", "Which ceasefire deal helped?"),
    ("what does the subheadline say", "What does the subheadline say?"),
    # Title case and capitals say nothing about names; acronyms and names stay.
    ("WHY WAS THE VISIT NOT ANNOUNCED?", "Why was the visit not announced?"),
    ("Why Was The Visit Not Announced In Advance?", "Why was the visit not announced in advance?"),
    ("Who Is The UN Mediator?", "Who is the UN mediator?"),
    # Written with care: unchanged (a capital opening a second sentence is not title case).
    ("What did the Foreign Minister of Iran say?", "What did the Foreign Minister of Iran say?"),
    ("Where did Assad meet Putin? Please answer.", "Where did Assad meet Putin? Please answer."),
])
def test_an_english_question_is_read_with_its_names_capitalised(typed, read):
    assert truecased(typed) == read


def test_an_arabic_question_is_read_in_plain_letters_only():
    assert reading("لِمَاذَا لَمْ يُعْلَنْ عَنِ الزِّيَارَةِ مُسْبَقًا؟") == "لماذا لم يعلن عن الزيارة مسبقا؟"
    assert reading("من هو بيسكوف") == "من هو بيسكوف"  # no question mark added to Arabic
    assert reading("Ｗｈｅｒｅ ｄｉｄ Assad meet Putin") == "Where did Assad meet Putin?"


def _turns(*questions: str) -> list:
    from assistant import Message

    history = []
    for question in questions:
        history += [Message(role="user", content=question), Message(role="assistant", content="…")]
    return history


def test_a_chain_of_follow_ups_keeps_the_question_that_set_the_topic():
    from assistant.answer.followup import combined_query, topic_question

    history = _turns("Who are the guarantors?", "How many warships will Moscow deploy?",
                     "What missiles do they carry?", "And where will they be stationed?")
    assert topic_question(history) == "How many warships will Moscow deploy?"
    assert combined_query("and how many were there?", history) == (
        "How many warships will Moscow deploy? And where will they be stationed? and how many were there?")
    # After a self-contained question, that question is both the topic and the previous one: said once.
    assert combined_query("ومتى؟", _turns("أين التقى الأسد ببوتين؟")) == "أين التقى الأسد ببوتين؟ ومتى؟"
    assert combined_query("Why?", []) == "Why?"


@pytest.mark.parametrize(("question", "gist"), [
    ("Summarize the article", True),
    ("What is this article about?", True),
    ("whats the story about", True),
    ("Can you give me a summary?", True),
    ("لخص المقال", True),
    ("ما موضوع المقال؟", True),
    ("عن ماذا يتحدث المقال؟", True),
    ("عما يتحدث المقال؟", True),
    ("عن ماذا تتحدث المقالة؟", True),
    ("What’s this article about?", True),                  # a phone's curly apostrophe
    ("Summarize the article in one sentence", True),
    # About something in particular: asked as any question.
    ("What is the article saying about Iran?", False),
    ("ما هو ملخص الاتفاق؟", False),
    ("Who summarized the talks?", False),
    ("What is the meeting about?", False),
])
def test_a_question_about_the_whole_article_is_told_apart(question, gist):
    from assistant.questions import asks_for_gist

    assert asks_for_gist(question) is gist


@pytest.mark.parametrize(("question", "bare"), [
    ("ومتى؟", True), ("and when?", True), ("وكم عددها؟", True), ("and how many were there?", True),
    ("What missiles do they carry?", False), ("Who boycotted them?", False),
])
def test_a_question_asking_only_a_kind_of_answer_is_told_apart(question, bare):
    from assistant.questions import bare_answer_type

    assert (bare_answer_type(question) is not None) is bare


def test_a_typo_is_not_read_as_a_name_by_the_checks():
    # "anounced" is one edit from "announced": the checks must not look for it in the article as a name.
    assert reading("why was the visit not anounced", typos=True) == "Why was the visit not anounced?"
    assert reading("how did erdogan react", typos=True) == "How did Erdogan react?"  # no word is near
    # Retrieval reads a name near a word capitalised all the same ("peskov" / Pskov).
    assert reading("who is peskov") == "Who is Peskov?"


@pytest.mark.parametrize(("typed", "read"), [
    # Countries, demonyms and capitals are names, though the dictionary has "turkey" and "iranian".
    ("did turkish officials attend the talks", "Did Turkish officials attend the talks?"),
    ("DID IRANIAN OFFICIALS ATTEND THE TALKS", "Did Iranian officials attend the talks?"),
    ("What Did Jordan Say About The Visit?", "What did Jordan say about the visit?"),
    ("WHERE IS SYRIA", "Where is Syria?"),
    # A sentence naming several countries is not title case.
    ("Did Jordan, Iran and Russia attend?", "Did Jordan, Iran and Russia attend?"),
])
def test_countries_and_demonyms_stay_names_however_typed(typed, read):
    assert reading(typed, typos=True) == read


@pytest.mark.parametrize(("typed", "read"), [
    ("ok now tell me who Peskov is", "Who Peskov is?"),                 # a chat opener asks nothing
    ("Thanks! Can you tell me where they met", "Where they met?"),
    ("طيب، وين التقوا؟", "أين التقوا؟"),                                 # Levantine "where"
    ("ليش الزيارة ما انعلنت", "لماذا الزيارة ما انعلنت"),
    ("شي تاني، بوتين بشو هنأ الاسد؟", "بوتين بماذا هنأ الاسد؟"),          # «بشو» is «بماذا»
    ("ومين الوسيط؟", "ومن الوسيط؟"),
    ("وشو قال عن هالانتخابات؟", "وماذا قال عن هذه الانتخابات؟"),          # «هالـ» is this
    ("كم سفينة بدها روسيا؟", "كم سفينة تريد روسيا؟"),                    # «بدها» is a verb, not «ب» + «دها»
    ("كام واحد مات؟", "كم واحد مات؟"),                                  # Egyptian "how many"
    ("طيب", "طيب"),                                                     # nothing after the opener: kept
    ("Is the bin Laden family mentioned", "Is the bin Laden family mentioned?"),  # English «bin» untouched
    ("بين من كان التصعيد؟", "بين من كان التصعيد؟"),                     # Standard Arabic unchanged
])
def test_a_chat_typed_question_is_read_as_written(typed, read):
    assert reading(typed) == read


@pytest.mark.parametrize(("question", "points", "leans"), [
    ("وكم عددها؟", True, True),
    ("ومتى؟", False, True),              # elliptic: follow-up only if it finds nothing alone
    ("and when?", False, True),
    ("وهاي المصالحات شو عملت؟", True, True),   # a demonstrative in a short question
    ("ومين كمان قاطعها؟", True, True),
    ("من قال هذا؟", True, True),         # a demonstrative before the question mark
    ("ومين قال هيك؟", True, True),
    ("And what has it given the Syrian regime since then?", True, True),  # "and" with a pronoun
    ("وكيف كان جو اللقاء بين بوتين والاسد؟", False, True),  # «و» names its own topic
    ("كم سفينه حربيه بدها روسيا بالمتوسط؟", False, False),   # «بدها» is no pronoun pointing back
    ("Who is Peskov?", False, False),
])
def test_a_question_points_back_only_with_a_pronoun_or_demonstrative(question, points, leans):
    from assistant.questions import looks_like_followup, points_back

    assert points_back(question) is points
    assert looks_like_followup(question) is leans


def test_a_possessive_name_is_capitalised_and_addresses_are_left_alone():
    assert truecased("what was erdogan's reaction") == "What was Erdogan's reaction?"
    assert truecased("see https://example.com/news?id=3 who is peskov") == (
        "See https://example.com/news?id=3 who is Peskov")
    assert truecased("mail me at foo@bar.com") == "Mail me at foo@bar.com"


def test_a_question_asking_only_a_kind_of_answer_sets_no_topic():
    from assistant.answer.followup import topic_question

    history = _turns("did russia announce anything new about its navy?", "how many", "since when?")
    assert topic_question(history) == "did russia announce anything new about its navy?"


@pytest.mark.parametrize(("typed", "read"), [
    # Names and Standard words the dialect table must not touch.
    ("ماذا قال بوش؟", "ماذا قال بوش؟"),                       # not «ب» + Gulf «وش»
    ("هل التقى الأسد بالرئيس هادي؟", "هل التقى الأسد بالرئيس هادي؟"),
    ("هاي متى زار الأسد روسيا", "متى زار الأسد روسيا"),         # «هاي» as "hi", before a question word
    ("هاي المصالحات شو عملت؟", "هذه المصالحات ماذا عملت؟"),     # and as "this", before a noun
    # An opener is a word of its own, and something must be left after it.
    ("so-called reconciliation deals", "So-called reconciliation deals"),
    ("well-known facts about sochi", "Well-known facts about Sochi"),
    ("thanks!", "Thanks!"),
    ("شكرا!", "شكرا!"),
])
def test_the_chat_reading_leaves_names_and_whole_words_alone(typed, read):
    assert reading(typed) == read


@pytest.mark.parametrize(("message", "acknowledges"), [
    ("thanks!", True), ("ok thanks", True), ("great, thanks a lot!!", True), ("👍", True), ("hi", True),
    ("شكرا كتير", True), ("مشكور", True), ("السلام عليكم", True),
    ("thanks, who is peskov?", False), ("why?", False), ("2", False), ("ومتى؟", False),
])
def test_a_message_that_asks_nothing_is_told_apart(message, acknowledges):
    from assistant.colloquial import is_acknowledgement

    assert is_acknowledgement(message) is acknowledges


def test_a_thanks_in_between_is_not_the_previous_question():
    from assistant.answer.followup import combined_query

    history = _turns("who is peskov", "thanks!")
    assert combined_query("what did he say about the talks", history) == (
        "Who is Peskov? what did he say about the talks")


@pytest.mark.parametrize(("question", "term"), [
    ("Who is de Mistura?", "de mistura"),
    ("what's Kalibr", "kalibr"),
    ("من هو دي ميستورا؟", "دي ميستورا"),
    ("من بيسكوف", "بيسكوف"),  # «مين بيسكوف» as read
    ("ماذا يعني كالبير؟", "كالبير"),
    ("who did assad meet?", None),
    ("من التقى بوتين؟", None),  # «من» with no pronoun takes one word only
    ("من فضلك ما هو استانا", "استانا"),
    ("ماذا دور دي ميستورا؟", "دي ميستورا"),  # «ايش دور دي ميستورا؟» as read: a role asked
    ("What is de Mistura's role?", "de mistura"),
    ("What is the price of the S-300 missiles in dollars today?", None),  # a question of its own
])
def test_a_who_is_question_names_its_term(question, term):
    assert defined_term(question) == term
