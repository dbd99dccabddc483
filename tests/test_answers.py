"""End-to-end answers in extractive mode with the real model and a real embedded Chroma store."""

from __future__ import annotations

import pytest

from assistant import Answer, InvalidQuestion, Message

SECURITY = "لدواع أمنية"
GUARANTORS = "تركيا وروسيا وإيران"


def cited_passage_texts(answer: Answer) -> list[str]:
    return [c.text for c in answer.citations]


@pytest.mark.parametrize(
    ("question", "language", "prefix"),
    [
        ("Why was the visit not announced in advance?", "en", "According to the article [1]"),
        ("لماذا لم يعلن عن الزيارة مسبقا؟", "ar", "بحسب المقال [1]"),
    ],
)
def test_flagship_unannounced_visit(assistant, question, language, prefix):
    answer = assistant.ask(question)
    assert answer.mode == "extractive"
    assert answer.language == language
    assert answer.answer.startswith(prefix)
    assert SECURITY in answer.answer
    assert any(SECURITY in text for text in cited_passage_texts(answer))
    # The supporting span is the article's own words, at the offsets it claims.
    article = assistant.article(answer.citations[0].article_id)
    first = answer.citations[0]
    assert article.text[first.span.start:first.span.end] == first.quote
    assert first.quote in answer.answer


@pytest.mark.parametrize(
    "question",
    ["Who are the guarantor states of the Astana talks?", "من هي الدول الضامنة لمحادثات أستانا؟",
     "ما هي الدول الضامنه لمحادثات استانا"],
)
def test_flagship_astana_guarantors(assistant, question):
    answer = assistant.ask(question)
    assert answer.mode == "extractive"
    assert GUARANTORS in answer.answer
    assert any(GUARANTORS in c.text for c in answer.citations)


@pytest.mark.parametrize(
    ("question", "language", "phrase"),
    [("What is the population of Sochi?", "en", "The article does not answer"),
     ("كم عدد سكان سوتشي؟", "ar", "لا يجيب المقال"),
     ("Who won the football world cup?", "en", "The article does not answer")],
)
def test_question_not_in_article(assistant, question, language, phrase):
    answer = assistant.ask(question)
    assert answer.mode == "not_found"
    assert answer.language == language
    assert phrase in answer.answer
    assert 1 <= len(answer.citations) <= 2  # the closest passages are offered


@pytest.mark.parametrize(
    ("first", "follow_up", "passage_words"),
    [("What did the Astana participants agree on?", "Who boycotted them?", "وفد المعارضة السورية"),
     ("ما هي صفقة صواريخ اس 300؟", "لماذا تراجعت موسكو عنها؟", "التي تراجعت عنها موسكو")],
)
def test_follow_up_uses_history(assistant, first, follow_up, passage_words):
    alone = assistant.ask(follow_up)
    assert not any(passage_words in c.quote for c in alone.citations if alone.mode == "extractive")
    history = [Message(role="user", content=first),
               Message(role="assistant", content=assistant.ask(first).answer)]
    answer = assistant.ask(follow_up, history)
    assert answer.mode == "extractive"
    assert passage_words in answer.citations[0].text
    assert first in answer.search_query


def test_stream_yields_chunks_then_the_answer(assistant):
    items = list(assistant.stream("لماذا لم يعلن عن الزيارة مسبقا؟"))
    *chunks, final = items
    assert isinstance(final, Answer)
    assert len(chunks) > 1 and all(isinstance(c, str) for c in chunks)
    assert "".join(chunks) == final.answer
    assert {"embed", "retrieve", "extract", "total"} <= set(final.timings)


@pytest.mark.parametrize("question", ["", "   \n\t ", "\x00\x01\x02"])
def test_empty_question_is_refused(assistant, question):
    with pytest.raises(InvalidQuestion, match="empty"):
        assistant.ask(question)


def test_huge_question_is_refused_naming_the_limit(assistant):
    with pytest.raises(InvalidQuestion, match=f"limit is {assistant.settings.max_question_chars}"):
        assistant.ask("لماذا " * 20_000)  # ~120 kB


def test_control_characters_are_removed_not_fatal(assistant):
    answer = assistant.ask("لماذا\x00 لم يعلن\u202e عن الزيارة\x07 مسبقا؟")
    assert answer.question == "لماذا لم يعلن عن الزيارة مسبقا؟"
    assert SECURITY in answer.answer


def test_language_can_be_forced(assistant):
    answer = assistant.ask("Astana guarantors?", language="ar")
    assert answer.language == "ar"
    assert answer.answer.startswith("بحسب المقال")


@pytest.mark.parametrize(
    ("question", "sentence", "expected"),
    [("Why was the visit secret?", "لم يعلن عنه مسبقا لدواع أمنية", True),
     ("لماذا لم يعلن عن الزيارة؟", "لم يعلن عنه مسبقا لدواع أمنية", True),
     ("For what reason was the meeting kept secret?", "لم يعلن عنه مسبقا لدواع أمنية", True),
     ("ما الداعي إلى إبقاء الزيارة سرية؟", "لم يعلن عنه مسبقا لدواع أمنية", True),
     ("When did Russia intervene?", "منذ تدخلها في الأزمة السورية في سبتمبر/ايلول 2015", True),
     ("كم عدد السفن؟", "نحو 102 سفينة", True),
     ("Who are the guarantors?", "تركيا وروسيا وإيران", False),
     ("Why was the visit secret?", "التقى الرئيسان في سوتشي", False)],
)
def test_answer_type_cues(question, sentence, expected):
    from assistant.questions import answer_type_bonus

    assert (answer_type_bonus(question, sentence) > 0) is expected


def test_two_files_with_one_article_id_are_refused(assistant, tmp_path):
    from assistant import KhabarError

    for name in ("story.ar.txt", "story.en.txt"):
        (tmp_path / name).write_text("Title\n\nA paragraph of text for the story.\n", encoding="utf-8")
    with pytest.raises(KhabarError, match="would both be article 'story'"):
        assistant.ingest([tmp_path / "story.ar.txt", tmp_path / "story.en.txt"])
    assert "story" not in [a.id for a in assistant.articles()]  # nothing half-ingested


def test_zero_history_turns_means_no_history(assistant):
    from assistant import Assistant

    forgetful = Assistant(assistant.settings.model_copy(update={"max_history_turns": 0}),
                          embedder=assistant.embedder, store=assistant.store, ingest_corpus=False)
    history = [Message(role="user", content="What did the Astana participants agree on?"),
               Message(role="assistant", content="…")]
    answer = forgetful.ask("Who boycotted them?", history)
    assert answer.search_query == "Who boycotted them?"


@pytest.mark.parametrize(("kind", "text", "kept"), [
    ("phrase", "السورية مكاسب ميدانية مهمة مستفيدة من اتفاق خفض التصعيد في",
     "السورية مكاسب ميدانية مهمة مستفيدة من اتفاق خفض التصعيد"),
    ("phrase", "the guarantor states of the Astana talks and of", "the guarantor states of the Astana talks"),
    # A leading preposition stays: it can be the answer to "where".
    ("phrase", "في مدينة سوتشي جنوب روسيا", "في مدينة سوتشي جنوب روسيا"),
    ("sentence", "ولم يقدم الكرملين المزيد من التفاصيل عن", "ولم يقدم الكرملين المزيد من التفاصيل عن"),
    # Nouns working as prepositions need what follows them too, with their clitics.
    ("phrase", "صفقة صواريخ اس 300 التي تراجعت عنها موسكو على اثر",
     "صفقة صواريخ اس 300 التي تراجعت عنها موسكو"),
    ("phrase", "وإيران وغياب ممثلين عن الولايات المتحدة وبحضور", "وإيران وغياب ممثلين عن الولايات المتحدة"),
    ("phrase", "the warships were deployed permanently amid", "the warships were deployed permanently"),
])
def test_a_phrase_window_does_not_end_on_a_function_word(kind, text, kept):
    from assistant.answer.extractive import _ends_on_content_word
    from assistant.schemas import Sentence, Span

    article = "مقدمة. " + text + " خاتمة."
    start = article.index(text)
    unit = Sentence(id="u", passage_id="a#p0", article_id="a", text=text, kind=kind,
                    span=Span(start=start, end=start + len(text)))
    trimmed = _ends_on_content_word(unit)
    assert trimmed.text == kept
    assert article[trimmed.span.start:trimmed.span.end] == trimmed.text  # still a span of the article


def test_the_answering_words_take_the_words_that_follow_a_phrase():
    from assistant.answer.extractive import FOLLOWING_WORDS, _with_what_follows
    from assistant.schemas import Sentence, Span

    sentence = "هنأ الرئيس الروسي نظيره السوري بحلول شهر رمضان، ورد الأخير بتهنئة بوتين بانتخابه."
    article = "مقدمة. " + sentence + " خاتمة."

    def unit(text: str, kind: str) -> Sentence:
        at = article.index(text)
        return Sentence(id=kind, passage_id="a#p0", article_id="a", text=text, kind=kind,
                        span=Span(start=at, end=at + len(text)))

    holder = unit(sentence, "sentence")
    phrase = unit("هنأ الرئيس الروسي نظيره السوري", "phrase")
    longer = _with_what_follows(phrase, holder)
    assert longer.text == "هنأ الرئيس الروسي نظيره السوري بحلول شهر رمضان، ورد الأخير"
    assert len(longer.text.split()) == len(phrase.text.split()) + FOLLOWING_WORDS
    assert article[longer.span.start:longer.span.end] == longer.text  # still a span of the article
    # At the sentence's end there is nothing to add, and its final full stop stays out.
    tail = unit("بتهنئة بوتين بانتخابه", "phrase")
    assert _with_what_follows(unit("ورد الأخير", "phrase"), holder).text == "ورد الأخير بتهنئة بوتين بانتخابه"
    assert _with_what_follows(tail, holder).text == tail.text
    # A clause or a sentence is a unit of its own: it is not extended.
    assert _with_what_follows(holder, holder) == holder


#: A paragraph written for these tests: it names Marie Curie in most sentences and her chemistry prize in one.
CURIE = ["ماري كوري عالمة فيزياء وكيمياء بولندية المولد.", "ولدت ماري كوري في وارسو عام 1867.",
         "أما جائزة نوبل في الكيمياء فقد نالتها عام 1911.", "درّست ماري كوري في جامعة السوربون."]
CURIE_QUESTION = "متى نالت ماري كوري جائزة نوبل في الكيمياء؟"


def test_sentence_idf_weighs_the_ask_above_the_name_every_sentence_repeats():
    from assistant.retrieve.hybrid import sentence_idf, weighted_share
    from assistant.textnorm import tokenize

    weights = sentence_idf(set(tokenize(CURIE_QUESTION)), CURIE)
    (curie,) = tokenize("كوري")
    (nobel,) = tokenize("نوبل")
    assert weights[nobel] > weights[curie] > 0  # a word in 3 of 4 sentences still weighs a little
    assert weighted_share(weights, CURIE[2]) > weighted_share(weights, CURIE[1])
    # No candidates: every word weighs the same.
    assert len(set(sentence_idf(set(tokenize(CURIE_QUESTION)), []).values())) == 1


def test_the_quote_is_the_sentence_with_the_ask_not_the_one_repeating_the_name():
    """With equal similarity, the sentence holding the question's rare words among the candidates is quoted,
    although over a corpus of many articles the name is the rarer word (``Unit.lexical``, computed by
    retrieval over passages, says so): the choice is weighed over the candidate sentences."""
    import numpy as np

    from assistant.answer.extractive import select_quotes
    from assistant.retrieve.base import RetrievalResult, Unit
    from assistant.schemas import Passage, ScoredPassage, Sentence, Span

    text = " ".join(CURIE)
    passage = Passage(id="curie#p0", article_id="curie", index=0, role="body", text=text,
                      span=Span(start=0, end=len(text)))
    vector = np.ones(4, dtype=np.float32) / 2  # every unit as close to the question as the others
    units = []
    for n, sentence in enumerate(CURIE):
        at = text.index(sentence)
        unit = Sentence(id=f"s{n}", passage_id=passage.id, article_id="curie", text=sentence,
                        span=Span(start=at, end=at + len(sentence)))
        # Over passages "Curie" is rare and the prize common: the name sentences get the larger share.
        units.append(Unit(unit, vector, lexical=0.2 if n == 2 else 0.8))
    result = RetrievalResult(query=CURIE_QUESTION, vector=vector, coverage=1.0, units=units,
                             passages=[ScoredPassage(passage=passage, score=1.0, dense_score=1.0)])
    (quote, *_) = select_quotes(result)
    assert quote.sentence.text == CURIE[2]


def test_a_sentence_two_passages_repeat_is_quoted_once():
    """Near-duplicate paragraphs (two versions of a story, encyclopaedia paragraphs that open alike) used to
    give «X»، و[2]: «X»: the repeat is skipped and the next sentence within the margin is quoted instead."""
    import numpy as np

    from assistant.answer.extractive import select_quotes
    from assistant.retrieve.base import RetrievalResult, Unit
    from assistant.schemas import Passage, ScoredPassage, Sentence, Span

    opening = "ماري كوري عالمة فيزياء وكيمياء بولندية المولد."
    # One article's three passages (quotes of two articles are never put side by side).
    texts = {"a#p0": opening, "a#p1": opening + " درّست في جامعة السوربون.", "a#p2": CURIE[2]}
    question = np.array([1.0, 0.0, 0.0, 0.0], dtype=np.float32)
    # Similarities chosen around the passages' rank prior: the repeat (2nd) and the new sentence (3rd) are
    # both within the second quote's margin, the repeat first.
    closeness = {"a#p0": 0.99, "a#p1": 1.0, "a#p2": 1.008}
    passages, units = [], []
    for pid, text in texts.items():
        article = pid.split("#")[0]
        passage = Passage(id=pid, article_id=article, index=0, role="body", text=text,
                          span=Span(start=0, end=len(text)))
        passages.append(ScoredPassage(passage=passage, score=1.0, dense_score=1.0))
        first = text.split(". ")[0].rstrip(".") + "."
        units.append(Unit(Sentence(id=f"{pid}s", passage_id=pid, article_id=article, text=first,
                                   span=Span(start=0, end=len(first))), question * closeness[pid]))
    result = RetrievalResult(query="من هي ماري كوري؟", vector=question, passages=passages, units=units)
    quotes = select_quotes(result)
    assert [q.sentence.text for q in quotes] == [opening, CURIE[2]]
    assert [q.passage.passage.id for q in quotes] == ["a#p0", "a#p2"]


@pytest.mark.parametrize(("stories", "quoted"), [
    ({"a": "ماري كوري", "b": "ماري كوري"}, ["a#p0", "b#p0"]),   # two paragraphs of one entry (SQuAD)
    ({"a": "ماري كوري", "b": "إضراب القطارات"}, ["a#p0"]),      # two stories: one is quoted
    ({}, ["a#p0"]),                                             # titles unknown: each article its own
])
def test_a_second_quote_comes_from_the_same_story(stories, quoted):
    import numpy as np

    from assistant.answer.extractive import select_quotes
    from assistant.retrieve.base import RetrievalResult, Unit
    from assistant.schemas import Passage, ScoredPassage, Sentence, Span

    question = np.array([1.0, 0.0, 0.0, 0.0], dtype=np.float32)
    passages, units = [], []
    # Within the second quote's margin, the rank prior included.
    for pid, text, close in (("a#p0", CURIE[1], 1.0), ("b#p0", CURIE[2], 1.005)):
        article = pid.split("#")[0]
        passages.append(ScoredPassage(passage=Passage(id=pid, article_id=article, index=0, role="body",
                                                      text=text, span=Span(start=0, end=len(text))),
                                      score=1.0, dense_score=1.0))
        units.append(Unit(Sentence(id=f"{pid}s", passage_id=pid, article_id=article, text=text,
                                   span=Span(start=0, end=len(text))), question * close))
    result = RetrievalResult(query=CURIE_QUESTION, vector=question, passages=passages, units=units,
                             stories=stories)
    assert [q.passage.passage.id for q in select_quotes(result)] == quoted


def test_repeats_compares_whole_words_of_the_folded_text():
    from assistant.answer.extractive import _repeats
    from assistant.schemas import Sentence, Span

    def unit(text: str) -> Sentence:
        return Sentence(id="u", passage_id="a#p0", article_id="a", text=text,
                        span=Span(start=0, end=len(text)))

    opening = "ماري كوري عالمة فيزياء وكيمياء بولندية المولد."
    assert _repeats(unit(opening), unit(opening))
    # One holds the other, with a different end of sentence, hamza forms or diacritics.
    assert _repeats(unit(opening), unit("ماري كوري عالمة فيزياء وكيمياء بولندية المولد، عاشت في فرنسا."))
    assert _repeats(unit("ماري كوري عالِمة فيزياء"), unit(opening))
    # Part of a word is not a repeat, nor is an empty unit.
    assert not _repeats(unit("كوري عالم"), unit(opening))
    assert not _repeats(unit("«»"), unit(opening))
    assert not _repeats(unit(CURIE[2]), unit(opening))


def _curie_result(lexical_first: float, coverage: float, extra_units=()):
    """A retrieval result over the Curie paragraph whose units are all as close to the question."""
    import numpy as np

    from assistant.retrieve.base import RetrievalResult, Unit
    from assistant.schemas import Passage, ScoredPassage, Sentence, Span

    text = " ".join(CURIE)
    passage = Passage(id="curie#p0", article_id="curie", index=0, role="body", text=text,
                      span=Span(start=0, end=len(text)))
    vector = np.ones(4, dtype=np.float32) / 2
    units = []
    for n, sentence in enumerate(CURIE):
        at = text.index(sentence)
        unit = Sentence(id=f"s{n}", passage_id=passage.id, article_id="curie", text=sentence,
                        span=Span(start=at, end=at + len(sentence)))
        units.append(Unit(unit, vector * (1.001 if n == 1 else 1.0), lexical=lexical_first))
    for n, sentence in enumerate(extra_units):  # unit-search hits of passages that were not retrieved
        hit = Sentence(id=f"x{n}", passage_id=f"other{n}#p0", article_id=f"other{n}", text=sentence,
                       span=Span(start=0, end=len(sentence)))
        units.append(Unit(hit, vector))
    return RetrievalResult(query=CURIE_QUESTION, vector=vector, coverage=coverage, units=units,
                           passages=[ScoredPassage(passage=passage, score=1.0, dense_score=1.0)])


def test_an_english_question_is_not_scored_by_arabic_words():
    """Coverage 0 (the corpus knows none of the question's words, as for an English question about an
    Arabic article): the words weigh nothing and the closest unit is quoted."""
    from assistant.answer.extractive import select_quotes

    (quote, *_) = select_quotes(_curie_result(0.0, coverage=0.0))
    assert quote.sentence.text == CURIE[1]  # the closest, not the one holding the prize
    (quote, *_) = select_quotes(_curie_result(0.0, coverage=1.0))
    assert quote.sentence.text == CURIE[2]


def test_units_of_passages_not_retrieved_do_not_weigh_the_words():
    """Unit-search hits of passages outside the ranking cannot be quoted, so they do not count among the
    sentences the question's words are weighed over: many hits naming the prize leave it the rare word."""
    from assistant.answer.extractive import select_quotes

    hits = [f"نال عالم آخر جائزة نوبل في الكيمياء عام {year}." for year in range(1950, 1960)]
    (quote, *_) = select_quotes(_curie_result(0.0, coverage=1.0, extra_units=hits))
    assert quote.sentence.text == CURIE[2]
