"""Issue 9's cases, with the real model: answers that hold up on questions nobody tuned for.

Paraphrases, topic changes inside a conversation, follow-ups, on-topic questions the article does not answer
(refused in the question's language, the closest passages offered as related, never as support), the words
that answer (a citation's span inside its passage), and the English gloss from CLDR.
"""

from __future__ import annotations

import re

import pytest

from assistant import Message
from assistant.cldr import date_words, gloss, named_in
from assistant.questions import asked_roles, date_asked
from assistant.retrieve.focus import rare_names
from assistant.textnorm import fold_for_match

SECURITY = "لدواع أمنية"
GUARANTORS = "تركيا وروسيا وإيران"
WARSHIPS = "102"


def ask_after(assistant, first: str, second: str):
    """Ask ``second`` after ``first`` was asked and answered in the same conversation."""
    answer = assistant.ask(first)
    history = [Message(role="user", content=first), Message(role="assistant", content=answer.answer)]
    return assistant.ask(second, history)


def answered(assistant, question: str, expected: str, history=None):
    """Ask ``question``: it must be answered from the article, with ``expected`` in the answer."""
    answer = assistant.ask(question, history)
    assert answer.mode == "extractive", answer.note
    assert expected in answer.answer
    return answer


def refused(assistant, question: str, phrase: str):
    """Ask ``question``: the article must be said not to answer it, in ``phrase``'s words."""
    answer = assistant.ask(question)
    assert answer.mode == "not_found"
    assert phrase in answer.answer
    return answer


@pytest.mark.parametrize(("first", "second", "expected"), [
    ("How many warships does Moscow plan to deploy?", "Who are the guarantor states of the Astana talks?",
     GUARANTORS),
    ("Where did Assad and Putin meet?", "Why was the visit not announced in advance?", SECURITY),
    ("أين التقى الأسد وبوتين؟", "لماذا لم يعلن عن الزيارة مسبقا؟", SECURITY),
    ("من هي الدول الضامنة لمحادثات أستانا؟", "كم عدد السفن الحربية التي تخطط موسكو لنشرها؟", WARSHIPS),
])
def test_a_new_topic_is_answered_as_if_asked_alone(assistant, first, second, expected):
    after = ask_after(assistant, first, second)
    alone = assistant.ask(second)
    assert after.search_query == second  # the previous question was not mixed in
    assert after.answer == alone.answer
    assert expected in after.answer


@pytest.mark.parametrize(("first", "second", "expected"), [
    ("Who are the guarantor states of the Astana talks?", "And who was the UN mediator there?", "دي ميستورا"),
    ("ما هي الدول الضامنة لمحادثات أستانا؟", "ومن كان الوسيط الأممي فيها؟", "دي ميستورا"),
    ("What did the Astana participants agree on?", "Who boycotted them?", "مقاطعته"),
])
def test_a_follow_up_uses_the_conversation(assistant, first, second, expected):
    after = ask_after(assistant, first, second)
    assert first in after.search_query
    assert expected in after.answer


@pytest.mark.parametrize(("question", "language", "phrase"), [
    ("What did Erdogan say about the meeting?", "en", "The article does not answer"),
    ("ما هو موقف الصين من زيارة الأسد؟", "ar", "لا يجيب المقال"),
    ("How many hours did the meeting between Putin and Assad last?", "en", "The article does not answer"),
    ("كم ساعة استغرق لقاء بوتين والأسد؟", "ar", "لا يجيب المقال"),
    ("What is the price of the S-300 deal?", "en", "The article does not answer"),
    ("How much will Syria pay for the S-300 missiles?", "en", "The article does not answer"),
    ("What was Israel's reaction to the visit?", "en", "The article does not answer"),
    ("ماذا قال أردوغان عن لقاء بوتين والأسد؟", "ar", "لا يجيب المقال"),
    # Numbers are there, but a total (102 ships) is no count per ship, and none counts visits or is a date.
    ("How many Kalibr missiles does each warship carry?", "en", "The article does not answer"),
    ("كم عدد صواريخ كالبير على كل سفينة؟", "ar", "لا يجيب المقال"),
    ("How many times has Assad visited Russia before?", "en", "The article does not answer"),
    ("كم مرة زار الأسد روسيا من قبل؟", "ar", "لا يجيب المقال"),
    ("On what date will the round of talks in Sochi take place?", "en", "The article does not answer"),
    ("في أي تاريخ ستعقد جولة المحادثات في سوتشي؟", "ar", "لا يجيب المقال"),
    # No minister or official is named near the meeting (written differently from the suite's cases).
    ("Did any Russian minister take part in the talks with Assad?", "en", "The article does not answer"),
    ("هل شارك وزراء سوريون في زيارة الأسد إلى سوتشي؟", "ar", "لا يجيب المقال"),
    # A city is no answer to the building the meeting was held in.
    ("In which hotel did Putin receive Assad?", "en", "The article does not answer"),
    ("في أي قصر استقبل بوتين الأسد؟", "ar", "لا يجيب المقال"),
    # Someone the article names, whose opinion it never gives (asked with a possessive, typed in lower case).
    ("what was de mistura's view of the sochi meeting", "en", "The article does not answer"),
])
def test_an_on_topic_question_the_article_does_not_answer_is_refused(assistant, question, language, phrase):
    answer = assistant.ask(question)
    assert answer.mode == "not_found", answer.answer
    assert answer.language == language and phrase in answer.answer
    assert answer.note  # says why (the missing name or number)
    assert answer.citations and all(c.kind == "related" for c in answer.citations)


@pytest.mark.parametrize(("question", "expected"), [
    ("How many warships does Moscow plan to deploy?", WARSHIPS),
    ("كم عدد السفن الحربية التي تخطط موسكو لنشرها؟", WARSHIPS),
    ("When did Russia intervene in the Syrian crisis?", "2015"),
    ("What did Putin congratulate Assad on?", "رمضان"),
    ("Who did Assad meet in Sochi?", "بوتين"),
    ("What did Peskov say about the talks?", "بيسكوف"),
    ("ماذا أعلن وفد المعارضة السورية؟", "مقاطعته"),
    ("On what date did Russia intervene in the Syrian crisis?", "2015"),
    ("ما تاريخ تدخل روسيا في الأزمة السورية؟", "2015"),
])
def test_answerable_questions_with_names_and_numbers_are_not_refused(assistant, question, expected):
    answer = assistant.ask(question)
    assert answer.mode == "extractive", answer.note
    assert expected in answer.answer


def test_a_list_answer_cites_the_words_inside_the_passage(assistant):
    answer = assistant.ask("Who are the guarantor states of the Astana talks?")
    first = answer.citations[0]
    # The span is the answering words, strictly inside the passage, and the answer leads with them.
    assert first.passage_span.start <= first.span.start and first.span.end <= first.passage_span.end
    assert (first.span.end - first.span.start) < (first.passage_span.end - first.passage_span.start)
    assert GUARANTORS in first.quote
    lead = answer.answer.split("\n")[0]
    assert lead.startswith("In the article's words: «") and first.quote in lead
    article = assistant.article(first.article_id)
    assert article.text[first.span.start:first.span.end] == first.quote


def test_the_why_answer_highlights_the_reason(assistant):
    answer = assistant.ask("لماذا لم يعلن عن الزيارة مسبقا؟")
    assert SECURITY in answer.citations[0].quote
    assert len(answer.citations[0].quote) < len(answer.citations[0].text)


@pytest.mark.parametrize(("question", "answering"), [
    # The phrase most like the question restates it («هنأ الرئيس الروسي نظيره السوري»); the answer follows.
    ("بماذا هنأ بوتين الأسد؟", "رمضان"),
    ("Why did Moscow back away from the S-300 deal?", "التصعيد العسكري"),
    ("على ماذا اتفق المشاركون في اجتماع أستانا؟", "سوتشي"),
])
def test_the_answering_words_hold_what_follows_the_restated_question(assistant, question, answering):
    first = assistant.ask(question).citations[0]
    assert answering in first.quote
    assert first.passage_span.start <= first.span.start and first.span.end < first.passage_span.end
    assert assistant.article(first.article_id).text[first.span.start:first.span.end] == first.quote


def test_an_english_answer_glosses_names_and_numbers_from_cldr(assistant):
    answer = assistant.ask("Who are the guarantor states of the Astana talks?")
    assert "Names and numbers in the quote, from CLDR:" in answer.answer
    assert "Russia (وروسيا)" in answer.answer
    # A number in the digits English uses is not glossed by itself ("102 (102)").
    warships = assistant.ask("How many warships does Moscow plan to deploy?")
    assert "102" in warships.answer and "102 (102)" not in warships.answer
    arabic = assistant.ask("كم عدد السفن الحربية التي تخطط موسكو لنشرها؟")
    assert "CLDR" not in arabic.answer  # an Arabic reader reads the quote itself


def test_gloss_and_country_names_come_from_babel():
    from babel import Locale

    pairs = dict(gloss("الدول الضامنة وهي تركيا وروسيا وإيران وغياب ممثلين عن الولايات المتحدة الخميس"))
    assert pairs["تركيا"] == Locale("en").territories["TR"]  # whatever CLDR calls it, never a hand table
    assert pairs["وإيران"] == "Iran" and pairs["الولايات المتحدة"] == "United States"
    assert pairs["الخميس"] == "Thursday"
    assert dict(gloss("في سبتمبر/ايلول ٢٠١٥")) == {"سبتمبر": "September", "٢٠١٥": "2015"}
    assert gloss("نحو 102 سفينة") == []
    assert [n.english for n in named_in("ما هو موقف الصين من زيارة الأسد؟")] == ["China"]
    assert named_in("لماذا لم يعلن عن الزيارة مسبقا؟") == []


@pytest.mark.parametrize("question", [
    # EmbeddingGemma puts every sentence about Assad's visit to Sochi closer to these than the one giving the
    # reason; without the names most of the article's paragraphs mention (retrieve/focus.py) the reason is
    # the closest unit, and a unit found in the 4th or 5th passage may be quoted.
    "Why was Assad's visit to Sochi not announced beforehand?",
    "ما سبب عدم الإعلان المسبق عن لقاء الأسد وبوتين؟",
    # The Arabic example: «كما تأتي زيارة الأسد إلى روسيا…» (the Kalibr ships) was quoted while a
    # unit counted as close as the better of question and focus (now a blend, retrieve/base.py).
    "لماذا لم يعلن عن زيارة الأسد مسبقا؟",
])
def test_paraphrase_of_the_flagship_question_naming_the_articles_topic(assistant, question):
    answer = assistant.ask(question)
    assert answer.mode == "extractive"
    assert SECURITY in answer.citations[0].text
    assert SECURITY in answer.answer


@pytest.mark.parametrize(("question", "roles"), [
    ("How does the headline characterize Assad's trip to Sochi?", {"headline"}),
    ("What was the tone of the meeting, according to the subheadline?", {"subheadline"}),
    ("What do the sub-headlines say about Moscow?", {"subheadline"}),
    ("ما هو عنوان المقال؟", {"headline"}),
    ("ماذا يقول العنوان الفرعي عن اللقاء؟", {"subheadline"}),
    # A person's title, or «بعنوان» ("entitled"), is no heading.
    ("What is Peskov's title?", set()),
    ("ما اسم الكتاب الذي صدر بعنوان الحرب؟", set()),
])
def test_a_question_naming_the_headline_asks_for_that_role(question, roles):
    assert asked_roles(question) == roles


@pytest.mark.parametrize(("question", "words"), [
    # From bench/data/article-dev-en.jsonl: nothing in the headings' words says "headline".
    ("How does the headline characterize Assad's trip to Sochi?", "غير معلنة"),
    ("What was the tone of the meeting between the two leaders, according to the subheadline?", "وديا"),
    # What a headline "says" is nobody's statement: no speaker to look for.
    ("ماذا يقول العنوان عن زيارة الأسد؟", "غير معلنة"),
    ("What does the headline say about the visit?", "غير معلنة"),
])
def test_a_question_about_the_headline_quotes_it(assistant, question, words):
    answer = assistant.ask(question, [], mode="extractive")
    assert answer.mode == "extractive", answer.note
    first = answer.citations[0]
    assert words in first.quote, answer.answer


@pytest.mark.parametrize(("question", "expected"), [
    ("WHY WAS THE VISIT NOT ANNOUNCED?", SECURITY),                     # capitals are not names
    ("Why Was The Visit Not Announced In Advance?", SECURITY),
    ("لِمَاذَا لَمْ يُعْلَنْ عَنِ الزِّيَارَةِ مُسْبَقًا؟", SECURITY),         # full vowel marks
    ("كَمْ عَدَدُ السُّفُنِ الحَرْبِيَّةِ؟", WARSHIPS),
    ("Ｗｈｅｒｅ ｄｉｄ Assad meet Putin?", "سوتشي"),                       # full-width Latin
    ("who is peskov", "بيسكوف"),                                         # typed in lower case
    ("why was the visit not anounced", SECURITY),                        # a typo is no name
])
def test_a_question_is_answered_however_it_is_typed(assistant, question, expected):
    assert answered(assistant, question, expected).question == question  # repeated as asked


@pytest.mark.parametrize("question", [
    "how did erdogan react to the visit",       # a name in lower case is still a name
    "what did lavrov say about the sochi meeting",
])
def test_a_name_typed_in_lower_case_the_article_never_mentions_is_refused(assistant, question):
    refused(assistant, question, "The article does not answer")


@pytest.mark.parametrize(("question", "expected"), [
    ("What role has Russia ended up playing between Tehran and Israel?", "وسيطا"),
    ("When did Moscow step into the Syrian war?", "2015"),
])
def test_a_capital_standing_for_its_country_is_answered(assistant, question, expected):
    answered(assistant, question, expected)


@pytest.mark.parametrize(("chain", "expected"), [
    (["How many warships will Moscow deploy?", "What missiles do they carry?",
      "And where will they be stationed?", "and how many were there?"], WARSHIPS),
    (["أين التقى الأسد ببوتين؟", "ومتى؟", "ولماذا لم يعلن عنه؟"], SECURITY),
])
def test_a_follow_up_after_follow_ups_keeps_the_topic(assistant, chain, expected):
    history: list[Message] = []
    for question in chain:
        answer = assistant.ask(question, history)
        history += [Message(role="user", content=question), Message(role="assistant", content=answer.answer)]
    assert chain[0] in answer.search_query
    assert answer.mode == "extractive", answer.note
    assert expected in answer.answer


@pytest.mark.parametrize(("question", "expected"), [
    # Short questions naming a role or a thing of a long paragraph score below the threshold; the
    # paragraph holds their words.
    ("من هو الوسيط الأممي؟", "دي ميستورا"),
    ("في أي بحر ستنشر السفن؟", "البحر الابيض المتوسط"),
])
def test_a_short_question_in_the_articles_words_is_answered(assistant, question, expected):
    answered(assistant, question, expected)


@pytest.mark.parametrize(("question", "expected"), [
    # "Who is X?" of a name the article mentions in passing: far from its paragraph (0.16-0.21 against a
    # threshold of 0.33), most of all across languages.
    ("Who is de Mistura?", "الوسيط الأممي ستفان دي ميستورا"),
    ("who is stefan de mistura", "الوسيط الأممي"),
    ("من هو دي ميستورا؟", "الوسيط الأممي"),
    ("مين بيسكوف", "المتحدث باسم الرئاسة الروسية"),
    ("what is kalibr", "صواريخ كالبير"),
])
def test_who_is_a_name_the_article_mentions_is_answered(assistant, question, expected):
    answered(assistant, question, expected)


def test_an_english_question_naming_a_country_the_article_translates_quotes_where_it_is_named(assistant):
    # "the US" weighs little in the question's vector: the sentence on the talks' agreement came first.
    answer = answered(assistant, "was the US at the astana talks", "الولايات المتحدة")
    assert "الولايات المتحدة" in answer.citations[0].quote


def test_names_pick_out_units_only_across_languages_and_only_when_rare(assistant):
    passages = assistant.retriever.passages_of("assad-putin-sochi")
    assert [c.name for c in rare_names("was the US at the astana talks", passages)] == ["us"]
    assert rare_names("هل حضرت الولايات المتحدة محادثات استانا؟", passages) == ()  # BM25 weighs it
    assert rare_names("Was Sochi where they met?", passages) == ()  # a transliterated name: not a cue


@pytest.mark.parametrize(("question", "phrase"), [
    ("Who is Erdogan?", "does not answer"),
    ("who is Lavrov", "does not answer"),
    ("من هو لافروف؟", "لا يجيب المقال"),
    ("who is the envoy's wife", "does not answer"),  # "wife" is no name: no allowance
    # review16: names whose short skeletons some word of the article has (RN, SM, S)...
    ("Who is Rouhani?", "does not answer"),
    ("Who is Asma al-Assad?", "does not answer"),
    ("Who is Sisi?", "does not answer"),
    # ...and Arabic roles whose words the article has, but not together.
    ("من هو رئيس تركيا؟", "لا يجيب المقال"),
    ("من هو رئيس الولايات المتحدة؟", "لا يجيب المقال"),
])
def test_who_is_a_name_the_article_never_mentions_is_refused(assistant, question, phrase):
    refused(assistant, question, phrase)


@pytest.mark.parametrize("question", ["ما هي عاصمة فرنسا؟", "كم عدد سكان سوتشي؟"])
def test_an_off_topic_question_with_a_few_of_the_articles_words_is_still_refused(assistant, question):
    refused(assistant, question, "لا يجيب المقال")


@pytest.mark.parametrize(("question", "frame"), [
    ("What is this article about?", "What the article is about"),
    ("لخص المقال", "موضوع المقال"),
])
def test_what_the_article_is_about_is_its_headline_and_summary_lines(assistant, question, frame):
    answer = assistant.ask(question)
    assert answer.mode == "extractive" and answer.answer.startswith(frame)
    assert "الأسد يلتقي بوتين في سوتشي في زيارة غير معلنة" in answer.answer  # the headline, first
    assert "لقاء بوتين والأسد كان وديا" in answer.answer                    # a subheadline
    assert [c.passage_id for c in answer.citations][:2] == ["assad-putin-sochi#p0", "assad-putin-sochi#p1"]
    # In a conversation, "What is it about?" asks about what was just discussed.
    history = [Message(role="user", content="What is the S-300 deal?"),
               Message(role="assistant", content=assistant.ask("What is the S-300 deal?").answer)]
    assert not assistant.ask("What is it about?", history).answer.startswith("What the article is about")


@pytest.mark.parametrize(("first", "second", "expected"), [
    # A follow-up that asks only a kind of answer is answered by a sentence carrying it.
    ("أين التقى الأسد ببوتين؟", "ومتى؟", "الخميس"),
    ("Where did Assad and Putin meet?", "and when?", "الخميس"),
    ("What missiles are the Russian warships equipped with?", "وكم عددها؟", WARSHIPS),
    # No number stands for the guarantors' count: their sentence, not the S-300's 300.
    ("Who are the guarantor states of the Astana talks?", "وكم عددها؟", GUARANTORS),
])
def test_a_follow_up_asking_only_when_or_how_many_quotes_what_answers_it(assistant, first, second, expected):
    answer = ask_after(assistant, first, second)
    assert answer.mode == "extractive", answer.note
    assert expected in answer.answer.split("\n\n")[0]  # in the answer's first part: the lead or the quote


@pytest.mark.parametrize(("first", "second", "expected"), [
    # Chat openers and spoken Arabic: a new question typed as people chat is still a new question.
    ("What missiles do the warships carry?", "ok, now tell me who Peskov is", "المتحدث باسم الرئاسة"),
    ("ليش صار تصعيد بين ايران واسرائيل؟", "طيب، وين التقوا الرئيسين؟", "سوتشي"),
    # An opening «و» on a question that names its own topic is no follow-up.
    ("ما نوع الغطاء الذي توفره روسيا للنظام السوري؟", "وكيف كان اللقاء بين بوتين والأسد؟", "وديا"),
    ("من هو المتحدث باسم الكرملين؟", "كم سفينة حربية بدها روسيا بالمتوسط؟", WARSHIPS),
])
def test_a_new_topic_typed_as_chat_is_answered_as_if_asked_alone(assistant, first, second, expected):
    after = ask_after(assistant, first, second)
    alone = assistant.ask(second)
    assert first not in after.search_query
    assert after.answer == alone.answer
    assert after.mode == "extractive", after.note
    assert expected in after.answer


def test_a_follow_up_in_spoken_arabic_uses_the_conversation(assistant):
    # «ياها» (it) points back; a dropped subject alone («ووين بدهم يكون الاجتماع؟») cannot be told from a
    # new question without a model.
    after = ask_after(assistant, "مين قاطع محادثات سوتشي؟", "ووين بدهم ياها؟")
    assert "مين قاطع" in after.search_query or "من قاطع" in after.search_query
    assert "الكازاخية" in after.answer


def test_thanks_in_a_conversation_is_no_question_and_does_not_break_the_next_follow_up(assistant):
    history: list[Message] = []
    for question in ("من هو بيسكوف؟", "👍"):
        answer = assistant.ask(question, history)
        history += [Message(role="user", content=question), Message(role="assistant", content=answer.answer)]
    # Emoji alone are answered in the conversation's language, with nothing cited.
    assert answer.mode == "not_found" and answer.language == "ar" and not answer.citations
    assert "اسألني" in answer.answer
    after = assistant.ask("وماذا قال عنها؟", history)  # «عنها» points back past the 👍 to Peskov's turn
    assert "من هو بيسكوف" in after.search_query and "👍" not in after.search_query
    assert after.mode == "extractive" and "بيسكوف" in after.answer


@pytest.mark.parametrize(("question", "date"), [
    # The closest sentence («لقاء بوتين والأسد كان وديا») is about the meeting but has no date.
    ("امتى حصل اللقاء بين بوتين والأسد؟", "الخميس"),
    # The closest sentence was the Astana "meeting" («اجتماع استانا»), with no date either.
    ("When did the meeting take place?", "بعد يوم من انتهاء الجولة التاسعة"),
])
def test_when_is_answered_by_a_sentence_with_a_date(assistant, question, date):
    answer = answered(assistant, question, date)
    assert date in answer.citations[0].quote


def test_when_as_a_conjunction_asks_for_no_date():
    # "Which round had ended when…" asks for the round: its answer need not carry a date.
    assert date_asked("Which round of the talks had ended when Assad arrived?") is None
    assert date_asked("When Putin received Assad, what did he congratulate him for?") is None
    for question in ("When did they meet?", "and when?", "what day was it", "متى التقيا؟", "ومتى؟",
                     "في أي يوم التقيا؟"):
        assert date_asked(question) is not None, question


def test_dates_are_cldr_weekdays_and_months_in_both_languages():
    dates = re.compile(date_words())
    for text in ("أعلن الكرملين الخميس", "يوم الأحد", "في سبتمبر/ايلول 2015", "وفي شهر أيار", "في شهر آب",
                 "on Thursday", "in December"):
        assert dates.search(fold_for_match(text)), text
    # «أحد» without its article is "one", «أب» a father, «باب» a door, "may" the verb: none is a date.
    for text in ("أحد المسؤولين", "قتل أب لثلاثة أطفال", "باب الدار", "it may rain"):
        assert not dates.search(fold_for_match(text)), text


def test_a_word_with_the_article_is_no_country_that_takes_none():
    # «العام المالي» is the fiscal year; «مالي» alone is Mali. «والعراق» keeps its own «ال».
    assert gloss("يبدأ العام المالي في يوليو") == [("يوليو", "July")]
    assert ("مالي", "Mali") in gloss("زار الوزير مالي والعراق")
    assert ("والعراق", "Iraq") in gloss("زار الوزير مالي والعراق")
