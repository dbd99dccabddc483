"""Verification of generated answers, by concern: markers and answer sentences, numbers and names, the
checks, and negation or reversal (issue 9's wrong answers that used to pass)."""

from __future__ import annotations

import pytest
from article_passages import GIVEN, P_KREMLIN, P_RAMADAN, P_SECURITY, P_SHIPS, scored

from assistant.answer.generative import GenerativeAnswerer
from assistant.answer.verification import (
    answer_sentences,
    arabic_skeleton,
    is_decline,
    latin_skeleton,
    normalise_markers,
    numbers_in,
    skeletons_match,
    verify,
)
from assistant.answer.verification.wording import unanchored_word

P_BOYCOTT = ("وكان المشاركون في اجتماع استانا قد اتفقوا على عقد جولة محادثات في سوتشي، لكن وفد المعارضة "
             "السورية أعلن مقاطعته لتلك المحادثات وتمسك بالاجتماع في العاصمة الكازاخية دون غيرها.")
AR_FLAGSHIP = "لماذا لم يعلن عن الزيارة مسبقا؟"
EN_FLAGSHIP = "Why was the visit not announced in advance?"
ASTANA = [scored(P_SECURITY, 0, dense=0.6), scored(P_BOYCOTT, 1, dense=0.55)]


# --- text analysis -------------------------------------------------------------------------------------
@pytest.mark.parametrize(("latin", "arabic"), [
    ("Putin", "بوتين"), ("Sochi", "سوتشي"), ("Astana", "أستانا"), ("Kremlin", "الكرملين"),
    ("Turkey", "تركيا"), ("Iran", "إيران"), ("Peskov", "بيسكوف"), ("Mistura", "ميستورا"),
    ("Kalibr", "كالبير"), ("Damascus", "دمشق"),
])
def test_transliterated_names_share_a_skeleton(latin, arabic):
    assert skeletons_match(latin_skeleton(latin), arabic_skeleton(arabic.replace("ال", "", 1)
                                                                  if arabic.startswith("ال") else arabic))


@pytest.mark.parametrize(("latin", "arabic"), [("Moscow", "سوتشي"), ("Tehran", "تركيا"), ("Kalibr", "بوتين")])
def test_different_names_do_not_match(latin, arabic):
    assert not skeletons_match(latin_skeleton(latin), arabic_skeleton(arabic))


def test_numbers_include_digits_and_number_words():
    assert numbers_in("الجولة التاسعة ونحو ١٠٢ سفينة عام 2015 [3]") == {"9", "102", "2015"}
    assert numbers_in("the ninth round and 1,000 ships [2]") == {"9", "1000"}


def test_markers_are_normalised_and_sentences_split():
    text = normalise_markers("It was for security reasons. [2] Putin met Assad [1, 3]؟ [١]")
    assert text == "It was for security reasons [2]. Putin met Assad [1] [3] [1]؟"
    assert answer_sentences(text) == ["It was for security reasons [2].", "Putin met Assad [1] [3] [1]؟"]
    assert normalise_markers("لدواع أمنية [المقطع ٢] [Passage 1 and 3]") == "لدواع أمنية [2] [1] [3]"


# --- verification ----------------------------------------------------------------------------------------
def test_citations_to_passages_not_given_are_dropped():
    result = verify("The meeting was in Sochi [1] [7].", GIVEN, "en")
    assert result.ok
    assert result.dropped == [7]
    assert "[7]" not in result.text
    assert result.text == "The meeting was in Sochi [1]."


def test_citations_are_renumbered_in_order_of_use():
    result = verify("Moscow plans 102 ships [3]. Putin met Assad in Sochi [1].", GIVEN, "en")
    assert result.ok, result.reason
    assert result.text == "Moscow plans 102 ships [1]. Putin met Assad in Sochi [2]."
    assert result.cited == [3, 1]


def test_invented_number_is_rejected():
    result = verify("Moscow plans to deploy 120 warships [3].", GIVEN, "en")
    assert not result.ok
    assert "120" in result.reason


def test_number_words_are_checked_across_languages():
    assert verify("It came a day after the ninth round of the Astana talks [2].", GIVEN, "en").ok
    wrong = verify("It came a day after the tenth round of the Astana talks [2].", GIVEN, "en")
    assert not wrong.ok and "10" in wrong.reason
    assert not verify("جاء اللقاء بعد الجولة العاشرة لمحادثات استانا [2].", GIVEN, "ar").ok


def test_names_must_be_in_the_cited_passage():
    assert verify("Vladimir Putin met Bashar al-Assad in Sochi [1].", GIVEN, "en").ok
    # Moscow is in passage 1 and 3, not in the cited passage 2: the wrong city.
    wrong = verify("The guarantors met in Moscow [2].", GIVEN, "en")
    assert not wrong.ok and "Moscow" in wrong.reason
    assert not verify("The talks were held under the auspices of Egypt [2].", GIVEN, "en").ok


def test_translated_names_use_the_lexicon():
    assert verify("Representatives of the United States were absent [2].", GIVEN, "en").ok
    wrong = verify("Representatives of the United States were absent [1].", GIVEN, "en")
    assert not wrong.ok and "united states" in wrong.reason


def test_arabic_sentence_must_be_supported_by_its_passage():
    assert verify("لم يعلن عن اللقاء مسبقا لدواع أمنية [2].", GIVEN, "ar", question=AR_FLAGSHIP).ok
    # Words of passage 3 (the warships) cited as passage 2: a fact from the wrong passage.
    borrowed = verify("لم يعلن عن اللقاء مسبقا بسبب نشر سفن حربية [2].", GIVEN, "ar", question=AR_FLAGSHIP)
    assert not borrowed.ok and "another passage" in borrowed.reason
    # Invented words that no passage has.
    unsupported = verify("أجلت القمة بسبب عاصفة ثلجية ضربت البلاد [2].", GIVEN, "ar")
    assert not unsupported.ok and "too few words" in unsupported.reason


def test_answer_without_valid_citation_is_rejected():
    result = verify("The visit was kept secret for security reasons [9].", GIVEN, "en")
    assert not result.ok
    assert "cites none" in result.reason


@pytest.mark.parametrize(("answer", "language"), [
    ("The article does not answer this question.", "en"),
    ("لا يجيب المقال عن هذا السؤال.", "ar"),
    ("The passages do not mention why.", "en"),
])
def test_decline_is_a_failure_only_when_retrieval_is_confident(answer, language):
    confident = verify(answer, GIVEN, language, confident=True)
    assert not confident.ok and confident.declined
    unsure = verify(answer, GIVEN, language, confident=False)
    assert unsure.ok and unsure.declined


@pytest.mark.parametrize(("text", "expected"), [
    ("The passages do not mention why.", True),
    ("لم يذكر المقال سبب الزيارة.", True),
    ("لا يجيب المقال عن هذا السؤال.", True),
    # Negations about the story are facts to verify, not refusals.
    ("Moscow did not give a reason for the delay [3].", False),
    ("لم يقدم الكرملين المزيد من التفاصيل [2].", False),
])
def test_refusals_are_told_from_negative_facts(text, expected):
    assert is_decline(text) is expected


def test_cross_language_support_uses_the_embedder(make_settings, embedder):
    similarity = GenerativeAnswerer(make_settings(), embedder=embedder)._similarity
    good = verify("The meeting was not announced in advance, apparently for security reasons [2].", GIVEN,
                  "en", similarity=similarity)
    assert good.ok, good.reason
    # The same claim cited to the Ramadan greetings passage: numbers and names pass, meaning does not.
    given = [*GIVEN, scored(P_RAMADAN, 3)]
    wrong = verify("The meeting was not announced in advance, apparently for security reasons [4].", given,
                   "en", similarity=similarity)
    assert not wrong.ok and "does not support" in wrong.reason



# --- negation, reversal and empty answers ---------------------------------------------------------------
@pytest.mark.parametrize(("answer", "language"), [
    ("The guarantor states of the Astana talks are Turkey, Russia, Iran, and the United States [1].", "en"),
    ("الدول الضامنة هي تركيا وروسيا وإيران والولايات المتحدة [1].", "ar"),
    ("The Syrian opposition delegation announced that it would attend the talks in Sochi [2].", "en"),
    ("وفد المعارضة السورية أعلن مشاركته في محادثات سوتشي [2].", "ar"),
])
def test_a_claim_its_cited_words_negate_is_rejected(answer, language):
    checked = verify(answer, ASTANA, language, question="q")
    assert not checked.ok
    assert "«" in checked.reason and any(cue in checked.reason for cue in ("غياب", "مقاطعته"))


@pytest.mark.parametrize(("answer", "language"), [
    ("The guarantor states of the Astana talks are Turkey, Russia and Iran [1].", "en"),
    ("الدول الضامنة هي تركيا وروسيا وإيران [1].", "ar"),
    ("The United States was absent from the Astana talks [1].", "en"),
    ("The Syrian opposition delegation announced a boycott of the Sochi talks [2].", "en"),
    ("The UN mediator Staffan de Mistura attended [1].", "en"),
])
def test_the_same_words_stated_rightly_pass(answer, language):
    checked = verify(answer, ASTANA, language, question="q")
    assert checked.ok, checked.reason


ABSENT_AR = "أي دولة غابت عن الجولة التاسعة من محادثات أستانا؟"
ABSENT_EN = "Which country was not represented at the ninth round of the Astana talks?"


@pytest.mark.parametrize(("answer", "language", "question"), [
    ("Iran was not represented at the ninth round of the Astana talks [1].", "en", "q"),
    ("لم تشارك إيران في الجولة التاسعة من محادثات أستانا [1].", "ar", "q"),
    ("[1] تركيا", "ar", ABSENT_AR),  # a short answer takes its sense from the question: Turkey was absent
    ("Turkey [1].", "en", ABSENT_EN),
])
def test_denying_what_the_cited_words_affirm_is_rejected(answer, language, question):
    checked = verify(answer, ASTANA, language, question=question)
    assert not checked.ok
    assert "without any negation" in checked.reason


@pytest.mark.parametrize(("answer", "language", "question"), [
    ("The United States was not represented at the Astana talks [1].", "en", "q"),
    ("الولايات المتحدة [1]", "ar", ABSENT_AR),
    ("The United States [1].", "en", ABSENT_EN),
    ("The visit was not announced in advance, for security reasons [1].", "en", "q"),
])
def test_denying_what_the_cited_words_deny_passes(answer, language, question):
    checked = verify(answer, ASTANA, language, question=question)
    assert checked.ok, checked.reason


@pytest.mark.parametrize("answer", ["[1]", "[1] [2].", " [2] ", "[1]، [2]"])
def test_an_answer_that_is_only_markers_is_rejected(answer):
    checked = verify(answer, ASTANA, "en", question="q")
    assert not checked.ok and "nothing beyond its citation markers" in checked.reason


# --- places, dates, roles, causes and relations (the fourth session's checks) ---------------------------
P_INTERVENTION = ("وتسعى روسيا منذ تدخلها في الأزمة السورية في سبتمبر/ايلول 2015 لفك عزلة الأسد "
                  "ووفرت إلى جانب الغطاء العسكري الذي قلب موازين القوى لصالح القوات السورية، "
                  "غطاء سياسيا مهما للنظام السوري.")
P_S300 = ("وليس واضحا ما اذا كان الأسد سيبحث مع نظيره الروسي صفقة صواريخ اس 300 التي تراجعت عنها "
          "موسكو على اثر التصعيد العسكري بين إيران واسرائيل، دون تقديم تفسير واضح عن أسباب تأجيل تسليم "
          "دمشق تلك المنظومة من الصواريخ.")
P_MEDIATOR = ("ووجدت روسيا نفسها بحكم موقعها في سوريا وعلاقاتها الجيدة مع كل من إيران واسرائيل، وسيطا "
              "لتخفيف حدة التوتر بين الطرفين لضمان عدم ارباك خططها في الساحة السورية.")
# The Ramadan passage first, then the passages that say who «الرئيس الروسي» and «نظيره السوري» are.
GREETINGS = [scored(P_RAMADAN, 0), scored(P_KREMLIN, 1), scored(P_SHIPS, 2)]
SHIPS_FIRST = [scored(P_SHIPS, 0), scored(P_KREMLIN, 1)]


@pytest.fixture(scope="module")
def model_checks(make_settings, embedder):
    """verify() with the real embedding model's sentence and word similarities, as the answerer calls it."""
    answerer = GenerativeAnswerer(make_settings(), embedder=embedder)

    def check(answer, passages, language="en", question="q"):
        return verify(answer, passages, language, question=question, similarity=answerer._similarity,
                      word_similarity=answerer._word_similarity)

    return check


@pytest.mark.parametrize(("answer", "language"), [
    ("Assad met Putin in Moscow [1].", "en"),
    ("التقى بوتين الأسد في موسكو [1].", "ar"),
])
def test_the_dateline_is_not_where_things_happened(answer, language):
    checked = verify(answer, [scored(P_KREMLIN, 0)], language)
    assert not checked.ok and ("Moscow" in checked.reason or "موسكو" in checked.reason)


@pytest.mark.parametrize(("answer", "language"), [
    ("Assad met Putin in Sochi in southern Russia [1].", "en"),
    ("أجرى بوتين لقاء مع الأسد في مدينة سوتشي جنوب روسيا [1].", "ar"),
])
def test_the_place_in_the_story_passes(answer, language):
    checked = verify(answer, [scored(P_KREMLIN, 0)], language)
    assert checked.ok, checked.reason


def test_a_country_must_be_named_by_its_cldr_name_in_the_cited_words():
    # "Iran" used to pass through its shortened variant "Ira", a skeleton too short to check.
    wrong = verify("Moscow plans about 102 warships to protect Iran [1].", SHIPS_FIRST, "en")
    assert not wrong.ok and "Iran" in wrong.reason
    assert verify("Moscow plans about 102 warships to protect Syria [1].", SHIPS_FIRST, "en").ok


@pytest.mark.parametrize(("answer", "language", "ok"), [
    ("Russia intervened in the Syrian crisis in October 2015 [1].", "en", False),
    ("تدخلت روسيا في الأزمة السورية في أكتوبر 2015 [1].", "ar", False),
    ("Russia intervened in the Syrian crisis in September 2015 [1].", "en", True),
    ("تدخلت روسيا في الأزمة السورية في أيلول 2015 [1].", "ar", True),  # the Levantine name of September
])
def test_months_are_checked_with_every_arabic_name_cldr_gives(answer, language, ok):
    checked = verify(answer, [scored(P_INTERVENTION, 0)], language)
    assert checked.ok is ok, checked.reason
    if not ok:
        assert "October" in checked.reason or "أكتوبر" in checked.reason


@pytest.mark.parametrize(("answer", "ok"), [
    ("هنأ الأسد بوتين بحلول شهر رمضان [1].", False),  # Putin congratulated Assad on Ramadan
    ("هنأ بوتين الأسد بحلول شهر رمضان [1].", True),
    ("هنأ الرئيس الروسي نظيره السوري بحلول شهر رمضان [1].", True),
])
def test_arabic_who_congratulated_whom_follows_the_cited_word_order(answer, ok):
    checked = verify(answer, GREETINGS, "ar")
    assert checked.ok is ok, checked.reason
    if not ok:
        assert "بوتين" in checked.reason and "الأسد" in checked.reason


@pytest.mark.parametrize(("answer", "ok"), [
    # «…اعلان الرئيس الروسي فلاديمير بوتين نشر سفن حربية…»: Putin deploys, Assad only visits.
    ("نشر الأسد سفن حربية مزودة بصواريخ كالبير [1].", False),
    ("نشر بوتين سفن حربية مزودة بصواريخ كالبير [1].", True),
])
def test_arabic_agent_of_the_cited_verb_must_be_the_answers(answer, ok):
    checked = verify(answer, SHIPS_FIRST, "ar")
    assert checked.ok is ok, checked.reason
    if not ok:
        assert "الرئيس الروسي" in checked.reason


RAMADAN_Q = "Who congratulated whom on the start of Ramadan?"
ELECTION_Q = "Who congratulated whom on the election to a new term?"
SHIPS_Q = "Who announced the deployment of warships with Kalibr missiles?"
S300_Q = "Who backed away from the S-300 deal?"


# Each pair is asked the question a reader would ask, because the answer's other words are held to the
# cited ones or the question (test_every_english_word_needs_a_counterpart).
@pytest.mark.parametrize(("answer", "passages", "question", "ok"), [
    ("Assad congratulated Putin on the start of the month of Ramadan [1].", GREETINGS, RAMADAN_Q, False),
    ("Putin congratulated Assad on his election to a new term [1].", GREETINGS, ELECTION_Q, False),
    ("Putin congratulated Assad on the start of the month of Ramadan [1].", GREETINGS, RAMADAN_Q, True),
    ("Assad congratulated Putin on his election to a new term [1].", GREETINGS, ELECTION_Q, True),
    ("Assad announced the deployment of warships with Kalibr missiles in the Mediterranean [1].", SHIPS_FIRST,
     SHIPS_Q, False),
    ("Putin announced the deployment of warships with Kalibr missiles in the Mediterranean [1].", SHIPS_FIRST,
     SHIPS_Q, True),
    ("Damascus backed away from the S-300 missile deal [1].", [scored(P_S300, 0)], S300_Q, False),
    ("Moscow backed away from the S-300 missile deal [1].", [scored(P_S300, 0)], S300_Q, True),
])
def test_english_roles_are_read_off_the_cited_arabic_clause(model_checks, answer, passages, question, ok):
    checked = model_checks(answer, passages, question=question)
    assert checked.ok is ok, checked.reason
    if not ok:
        assert "reverses" in checked.reason or "give to" in checked.reason


@pytest.mark.parametrize(("answer", "language", "ok"), [
    ("The visit was not announced in advance for economic reasons [2].", "en", False),
    ("The visit was not announced in advance for security reasons [2].", "en", True),
    ("لم يعلن عن الزيارة مسبقا لأسباب اقتصادية [2].", "ar", False),
    ("لم يعلن عن الزيارة مسبقا لدواع أمنية [2].", "ar", True),
])
def test_a_cause_must_be_in_the_cited_words(model_checks, answer, language, ok):
    checked = model_checks(answer, GIVEN, language, question=AR_FLAGSHIP if language == "ar" else EN_FLAGSHIP)
    assert checked.ok is ok, checked.reason
    if not ok:
        assert "cause" in checked.reason and ("economic" in checked.reason or "اقتصادي" in checked.reason)


@pytest.mark.parametrize(("answer", "language", "ok"), [
    ("Russia is an ally of Israel against Iran [1].", "en", False),
    ("روسيا حليف لإسرائيل ضد إيران [1].", "ar", False),
    ("Russia acts as a mediator between Iran and Israel [1].", "en", True),
    ("روسيا وسيط لتخفيف حدة التوتر بين إيران واسرائيل [1].", "ar", True),
])
def test_an_alliance_or_hostility_must_be_stated_by_the_cited_words(model_checks, answer, language, ok):
    checked = model_checks(answer, [scored(P_MEDIATOR, 0)], language,
                           question="Does Russia act as a mediator between Iran and Israel?")
    assert checked.ok is ok, checked.reason
    if not ok:
        assert "relation" in checked.reason


P_DETAILS = ("ولم يقدم الكرملين المزيد من التفاصيل عن لقاء بوتين الأسد في سوتشي لكن زيارة الرئيس السوري تأتي "
             "فيما تحقق القوات السورية مكاسب ميدانية مهمة.")
P_SPOKESMAN = ("وقال دميتري بيسكوف المتحدث باسم الرئاسة الروسية إن الأسد قام الخميس بزيارة عمل إلى "
               "سوتشي، حيث أجرى مع بوتين \"مباحثات مفصلة\" حول التطورات الأخيرة في سوريا.")


@pytest.mark.parametrize(("answer", "language", "ok"), [
    ("يقدم الكرملين المزيد من التفاصيل عن لقاء بوتين الأسد [1].", "ar", False),
    ("لم يقدم الكرملين المزيد من التفاصيل عن لقاء بوتين الأسد [1].", "ar", True),
    ("The Kremlin gave many details about the meeting between Putin and Assad [1].", "en", False),
    ("The Kremlin gave no further details about the meeting between Putin and Assad [1].", "en", True),
])
def test_affirming_what_the_cited_words_negate_is_rejected(model_checks, answer, language, ok):
    checked = model_checks(answer, [scored(P_DETAILS, 0)], language)
    assert checked.ok is ok, checked.reason
    if not ok:
        assert "«ولم»" in checked.reason or "negate" in checked.reason


@pytest.mark.parametrize(("answer", "ok"), [
    ("Moscow explained clearly why it postponed the delivery of the missiles [1].", False),  # «دون … واضح»
    ("Moscow gave no clear explanation for postponing the delivery of the missiles [1].", True),
])
def test_an_english_word_restating_a_negated_arabic_one_is_rejected(model_checks, answer, ok):
    checked = model_checks(answer, [scored(P_S300, 0)])
    assert checked.ok is ok, checked.reason
    if not ok:
        assert "negate" in checked.reason and "clearly" in checked.reason


@pytest.mark.parametrize(("answer", "language", "ok"), [
    ("دميتري بيسكوف هو المتحدث باسم الرئاسة السورية [1].", "ar", False),
    ("دميتري بيسكوف هو المتحدث باسم الرئاسة الروسية [1].", "ar", True),
    ("Dmitry Peskov is the spokesman of the Syrian presidency [1].", "en", False),
    ("Dmitry Peskov is the spokesman of the Russian presidency [1].", "en", True),
])
def test_a_nisba_adjective_must_name_the_cited_country(model_checks, answer, language, ok):
    checked = model_checks(answer, [scored(P_SPOKESMAN, 0)], language, question="Whose spokesman is Peskov?")
    assert checked.ok is ok, checked.reason
    if not ok:
        assert "syria" in checked.reason.lower() or "السورية" in checked.reason


@pytest.mark.parametrize(("answer", "ok"), [
    ("أجرى الأسد مع بوتين مباحثات قصيرة حول التطورات الأخيرة في سوريا [1].", False),  # «مفصلة»: detailed
    ("أجرى الأسد مع بوتين مباحثات مفصلة حول التطورات الأخيرة في سوريا [1].", True),
])
def test_an_arabic_word_the_cited_words_do_not_have_is_rejected(answer, ok):
    checked = verify(answer, [scored(P_SPOKESMAN, 0)], "ar")
    assert checked.ok is ok, checked.reason
    if not ok:
        assert "«قصيرة»" in checked.reason


@pytest.mark.parametrize("answer", ["According to the article, [1].", "وفقا للمقال [1].",
                                    "As stated in [1] [2]."])
def test_an_answer_of_markers_and_framing_words_is_rejected(answer):
    checked = verify(answer, ASTANA, "en", question="q")
    assert not checked.ok and "frame" in checked.reason
    assert verify("According to the article, the talks had guarantors [1].", ASTANA, "en").ok


WHERE_Q = "Where did they meet?"


@pytest.mark.parametrize(("answer", "passages", "question", "ok"), [
    # One substituted ordinary word: no name, number, negation or cause for the other checks to see.
    ("Putin met Assad in Sochi in northern Russia [1].", [scored(P_KREMLIN, 0)], WHERE_Q, False),
    ("Putin met Assad in Sochi in southern Russia [1].", [scored(P_KREMLIN, 0)], WHERE_Q, True),
    ("Peskov said Assad had brief talks with Putin [1].", [scored(P_SPOKESMAN, 0)],
     "What did Peskov say about the talks?", False),
    ("Russia has been trying to deepen Assad's isolation since 2015 [1].", [scored(P_INTERVENTION, 0)],
     "What has Russia been trying to do since 2015?", False),
    # Measured and kept: the cost is recall. "Detailed" scores 0.49 against «مفصلة», so "Peskov said Assad
    # had detailed talks with Putin" is rejected too (bench/README.md, "Seventh session").
])
def test_every_english_word_needs_a_counterpart(model_checks, answer, passages, question, ok):
    checked = model_checks(answer, passages, question=question)
    assert checked.ok is ok, checked.reason
    if not ok:
        assert "has no counterpart in the cited words" in checked.reason
        assert any(word in checked.reason for word in ("'northern'", "'brief'", "'deepen'"))


def test_an_arabic_passage_word_check_needs_the_embedding_model():
    # Without word similarities the rule cannot judge, and says nothing (the other checks still run).
    assert unanchored_word("Putin met Assad in northern Russia [1].", [P_KREMLIN], "Where?", None) is None
