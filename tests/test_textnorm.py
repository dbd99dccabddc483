"""Arabic normalisation, tokenising and language detection."""

import pytest

from assistant.textnorm import (
    clean_question,
    detect_language,
    fold_for_match,
    normalize_arabic,
    plain_text,
    tokenize,
    written_language,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("أستانا", "استانا"),  # hamza above alef
        ("إيران", "ايران"),  # hamza below alef
        ("آسيا", "اسيا"),  # madda
        ("مؤتمر", "موتمر"),  # hamza on waw
        ("رئيس", "رييس"),  # hamza on ya
        ("إلى", "الي"),  # alef maqsura
        ("العاصمة", "العاصمه"),  # ta marbuta
        ("مُحَادَثَاتٌ", "محادثات"),  # diacritics
        ("روســـيا", "روسيا"),  # tatweel
        ("عام ٢٠١٥", "عام 2015"),  # Arabic-Indic digits
    ],
)
def test_normalize_arabic_folds_spelling_variants(raw, expected):
    assert normalize_arabic(raw) == expected


def test_spelling_variants_share_tokens():
    assert set(tokenize("أستانا")) & set(tokenize("استانا"))
    assert set(tokenize("الدول الضامنة")) & set(tokenize("الدول الضامنه"))
    # The article and attached prepositions do not hide the word.
    assert set(tokenize("محادثات")) & set(tokenize("للمحادثات"))


def test_tokenize_drops_stop_words_and_stems_english():
    assert tokenize("Who are the guarantor states of the Astana talks?") == ["guarantor", "state", "astana",
                                                                            "talk"]
    assert "في" not in tokenize("في سوتشي")


def test_fold_for_match_ignores_case_space_and_hamza():
    assert fold_for_match("  تركيا   وروسيا\nوإيران ") == fold_for_match("تركيا وروسيا وايران")
    assert fold_for_match("Astana") == "astana"


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("لماذا لم يعلن عن الزيارة مسبقا؟", "ar"),
        ("Why was the visit not announced in advance?", "en"),
        ("ما هي صواريخ S-300؟", "ar"),  # Arabic with a Latin name stays Arabic
        ("What does لدواع أمنية mean in this article?", "en"),
        ("ما هو ChatGPT؟", "ar"),  # more Latin letters than Arabic ones, but two Arabic words to one
        ("Who is «بوتين»?", "en"),
    ],
)
def test_detect_language(text, language):
    assert detect_language(text) == language


def test_detect_language_defaults_without_letters():
    assert detect_language("2015 ?!", default="ar") == "ar"
    assert written_language("2019 – 2021") is None
    assert written_language("ما هو ChatGPT؟") == "ar"


def test_clean_question_removes_control_and_bidi_characters():
    assert clean_question("من\x00 هي\u202e الدول\t\tالضامنة؟\x07") == "من هي الدول الضامنة؟"
    assert clean_question("\x00\x01 \n") == ""


def test_stems_are_cached_once_for_all_threads_and_bounded():
    import threading

    from assistant import textnorm

    textnorm.stem.cache_clear()
    words = [f"كلمة{i}" for i in range(300)] + [f"walking{i}" for i in range(300)]

    own_cache_sizes: list[int] = []

    def work() -> None:
        for word in words:
            textnorm.tokenize(word)
        # The thread's own stemmers keep no cache of their own (PyStemmer's is per object, per thread).
        own_cache_sizes.extend(textnorm._stemmer(language).maxCacheSize for language in ("arabic", "english"))

    threads = [threading.Thread(target=work) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert own_cache_sizes == [0] * 12
    info = textnorm.stem.cache_info()
    # Six threads, one cache: each distinct form is stemmed once, later threads hit it.
    assert info.maxsize == textnorm.STEM_CACHE_SIZE
    assert 600 <= info.currsize <= 3 * 600
    assert info.hits >= 5 * info.currsize
    # The stems are those of the uncached stemmer.
    assert textnorm.stem("arabic", "للمحادثات") == textnorm._stemmer("arabic").stemWord("للمحادثات")


@pytest.mark.parametrize(("raw", "expected"), [
    ("لِمَاذَا لَمْ يُعْلَنْ عَنِ الزِّيَارَةِ مُسْبَقًا؟", "لماذا لم يعلن عن الزيارة مسبقا؟"),  # full vowel marks
    ("روســـيا", "روسيا"),  # tatweel
    ("ﻻ", "لا"),  # a presentation-form ligature
    ("Ｗｈｅｒｅ ｄｉｄ", "Where did"),  # full-width Latin
    # Spelling stays: hamza and ta marbuta are the writer's, and the embedding model reads them.
    ("أين الدولة الضامنة؟", "أين الدولة الضامنة؟"),
])
def test_plain_text_keeps_letters_and_drops_marks(raw, expected):
    assert plain_text(raw) == expected


def test_zero_width_characters_pasted_inside_words_are_read_as_absent_and_shown_as_typed():
    from assistant.questions import reading
    from assistant.textnorm import clean_question, plain_text

    assert reading("who is pes\u200bkov") == "Who is Peskov?"
    assert plain_text("من\u200c هو بيسكوف؟") == "من هو بيسكوف؟"
    assert plain_text("\ufeffWhere\u2060 did they meet\u00ad\u2063?") == "Where did they meet?"
    assert plain_text("\u200b\u200c\u200d") == ""  # nothing but invisible characters: empty
    # Shown as typed: a Persian half-space and an emoji joined by ZWJ stay; bidi marks go without splitting.
    assert clean_question("می\u200cخواهم 👨\u200d👩\u200d👧") == "می\u200cخواهم 👨\u200d👩\u200d👧"
    assert clean_question("pes\u200fkov \u061cمن\u202e هو") == "peskov من هو"
