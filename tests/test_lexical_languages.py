"""BM25 searches the passages written in the question's language: an English word in an Arabic paragraph
(the subject's English name) is a gloss, not evidence for an English question."""

from __future__ import annotations

from assistant.retrieve.hybrid import LexicalIndexes
from assistant.schemas import Passage, Span
from assistant.textnorm import tokenize


def _passage(index: int, text: str) -> Passage:
    return Passage(id=f"a#p{index}", article_id="a", index=index, role="body", text=text,
                   span=Span(start=1000 * index, end=1000 * index + len(text)))


GLOSSED = _passage(0, "صراع العروش (بالإنجليزية: Game of Thrones) مسلسل تلفزيوني أمريكي من نوع الخيال.")
ANSWERS = _passage(1, "تدور أحداث المسلسل في قارتين خياليتين هما ويستروس وإيسوس.")
ENGLISH = _passage(2, "Game of Thrones is set on the fictional continents of Westeros and Essos.")


def test_an_english_question_does_not_search_the_english_words_of_arabic_passages():
    indexes = LexicalIndexes([GLOSSED, ANSWERS])
    question = "Where does the Game of Thrones series take place?"
    lexical = indexes.for_question(question)
    assert lexical.search(tokenize(question), 5) == []
    assert lexical.coverage(tokenize(question)) == 0.0
    # An Arabic question still finds the Arabic passages, English gloss and all.
    arabic_question = "أين تدور أحداث المسلسل؟"
    arabic = indexes.for_question(arabic_question)
    assert arabic.search(tokenize(arabic_question), 5)[0][0].id == "a#p1"
    assert [p.id for p, _ in arabic.search(tokenize("ما هو Game of Thrones؟"), 5)] == ["a#p0"]


def test_an_arabic_question_with_a_long_latin_name_searches_the_arabic_passages():
    indexes = LexicalIndexes([_passage(0, "أطلقت شركة OpenAI برنامج ChatGPT عام 2022."), ANSWERS])
    question = "متى أطلق ChatGPT؟"  # more Latin letters than Arabic ones
    assert indexes.for_question(question).search(tokenize(question), 5)[0][0].id == "a#p0"


def test_a_passage_without_letters_is_searched_in_every_language():
    dates = _passage(3, "2019 – 2020 – 2021")
    indexes = LexicalIndexes([ANSWERS, ENGLISH, dates])
    for question in ("What happened in 2020?", "ماذا حدث في 2020؟"):
        assert "a#p3" in {p.id for p, _ in indexes.for_question(question).search(tokenize(question), 5)}
    assert set(indexes.by_language) == {"ar", "en"}


def test_in_a_corpus_of_both_languages_each_language_keeps_its_bm25():
    indexes = LexicalIndexes([GLOSSED, ANSWERS, ENGLISH])
    question = "Where is Game of Thrones set?"
    lexical = indexes.for_question(question)
    assert [p.id for p, _ in lexical.search(tokenize(question), 5)] == ["a#p2"]
    assert lexical.coverage(tokenize(question)) == 1.0
    assert set(indexes.by_language) == {"ar", "en"}


def test_an_empty_corpus_has_an_empty_index_for_every_language():
    lexical = LexicalIndexes([]).for_question("Who?")
    assert lexical.search(["who"], 5) == [] and lexical.coverage(["who"]) == 0.0
