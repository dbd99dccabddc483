"""The chat page's pieces without a browser: HTML rendering (escaping, markers, directions, highlights), the
feedback store, the UI strings, and the chat handler (over the fake embedder: the handler's wiring is tested
here; what the model finds is tested in test_answers and the browser tests)."""

from __future__ import annotations

import re
import threading
import time
from types import SimpleNamespace

import gradio as gr
import pytest

from assistant.schemas import Answer, Article, Citation, Replace, Span
from assistant.web.feedback import FeedbackStore
from assistant.web.handlers import ChatPage
from assistant.web.history import PageHistory, new_id, valid_id
from assistant.web.render import (
    PanelData,
    esc,
    render_answer,
    render_error,
    render_history,
    render_partial,
    render_sources,
    render_user,
)
from assistant.web.session import ChatSession, Turn, chat_messages
from assistant.web.strings import STRINGS, t, ui_language

TEXT = "العنوان\n\nقال المتحدث إن اللقاء لم يعلن عنه لدواع أمنية على ما يبدو. وأضاف أن الزيارة قصيرة."
QUOTE = "لم يعلن عنه لدواع أمنية"


def citation(n: int, quote: str = QUOTE, text: str = TEXT) -> Citation:
    passage_start = text.index("قال")
    start = text.index(quote)
    return Citation(n=n, passage_id=f"a#p{n}", article_id="a", text=text[passage_start:],
                    span=Span(start=start, end=start + len(quote)), quote=quote,
                    passage_span=Span(start=passage_start, end=len(text)), score=0.5)


def answer(text: str, language: str = "ar", citations: list[Citation] | None = None, **extra) -> Answer:
    return Answer(question="لماذا؟", answer=text, language=language, mode="extractive",
                  citations=citations if citations is not None else [citation(1)],
                  timings={"embed": 12.3, "total": 20.0}, **extra)


ARTICLE = Article(id="a", title="العنوان", language="ar", text=TEXT, source="a.txt", sha256="0")


def test_user_text_is_escaped_and_laid_out_in_its_own_direction():
    html = render_user("<img src=x onerror=alert(1)>")
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert 'dir="ltr"' in html
    assert 'dir="rtl"' in render_user("لماذا لم يعلن عن الزيارة؟")
    assert "\n" not in render_user("سطر\n\nسطر")  # a blank line would end the HTML block in Markdown


def test_answer_markers_link_to_their_sources_only_when_cited():
    html = render_answer(answer("بحسب المقال [1] و[7]: «نص»"), turn=3, ui="ar")
    assert '<a class="khabar-cite" href="#khabar-src-3-1"' in html
    assert 'href="#khabar-src-3-7"' not in html and '<span class="khabar-cite-pending">[7]</span>' in html
    assert html.startswith('<div class="khabar-msg khabar-answer" dir="rtl" lang="ar"')
    assert t("ar", "mode_extractive") in html and "<details" in html and "12 " in html
    assert "\n" not in html


def test_a_long_quote_in_the_other_direction_is_its_own_block():
    quote = "ويأتي اللقاء الذي لم يعلن عنه مسبقا لدواع أمنية على ما يبدو بعد يوم من انتهاء الجولة التاسعة"
    html = render_answer(answer(f"According to the article [1]: «{quote}»", language="en"), 0, "en")
    assert 'dir="ltr" lang="en"' in html
    assert re.search(r'<bdi class="khabar-quote khabar-quote-block" dir="rtl" lang="ar">«ويأتي', html)
    # Short quotes stay inline.
    assert 'class="khabar-quote" dir="rtl"' in render_answer(answer("It says «نعم» [1]", "en"), 0, "en")


def test_streaming_and_error_messages():
    assert "khabar-cite-pending" in render_partial("بحسب المقال [1]", "ar")
    assert "<a " not in render_partial("بحسب المقال [1]", "ar")
    error = render_error("the limit is <2000>", "en")
    assert "&lt;2000&gt;" in error and 'role="alert"' in error


def test_sources_panel_highlights_the_supporting_span_and_the_article():
    data = PanelData(turn=2, answer=answer("[1]"), articles=[ARTICLE], active=1)
    html = render_sources(data, "en")
    assert '<li id="khabar-src-2-1" class="khabar-source khabar-active"' in html
    assert f"<mark>{QUOTE}</mark>" in html
    assert f'<mark id="khabar-art-2-1" data-n="1">{QUOTE}</mark>' in html
    assert '<article class="khabar-article-text" dir="rtl" lang="ar"' in html
    assert "Passage 2" in html  # from the passage id, when the passage is not among the retrieved


def test_overlapping_citations_each_keep_an_anchor_in_the_article():
    inner = "لدواع أمنية"
    data = PanelData(turn=0, answer=answer("[1] [2]", citations=[citation(1), citation(2, inner)]),
                     articles=[ARTICLE])
    html = render_sources(data, "ar")
    assert 'id="khabar-art-0-1"' in html and 'id="khabar-art-0-2"' in html
    assert html.count("<mark id=") == 1  # one merged mark in the article


def test_article_text_and_quotes_are_escaped():
    text = "<script>alert(1)</script> قال ${x} {{y}}"
    art = Article(id="b", title="<b>t</b>", language="ar", text=text, source="b.txt", sha256="0")
    html = render_sources(PanelData(articles=[art]), "ar")
    assert "<script>" not in html and "<b>t</b>" not in html
    assert "${" not in html and "{{" not in html  # gr.HTML reads its value as a template
    assert esc("`$") == "&#96;&#36;"


def test_every_string_exists_in_both_languages():
    assert STRINGS["ar"].keys() == STRINGS["en"].keys()
    assert ui_language("ar-EG,ar;q=0.9") == "ar" and ui_language("fr") == "en" and ui_language(None) == "en"


def test_feedback_store_keeps_one_rating_per_answer_with_its_comment(tmp_path):
    store = FeedbackStore(tmp_path / "runtime" / "feedback.sqlite3")
    assert store.records() == []
    the_answer = answer("بحسب المقال [1]")
    row = store.rate("conv1", 0, "down", the_answer)
    assert store.rate("conv1", 0, "up", the_answer) == row  # rating again replaces
    assert store.comment(row, "  دقيق  ") is True
    assert store.comment(row, "   ") is False and store.comment(row + 99, "x") is False
    store.rate("conv1", 1, None, the_answer)
    records = store.records()
    assert [(r.turn, r.rating, r.comment) for r in records] == [(0, "up", "دقيق"), (1, None, None)]
    assert records[0].citations[0].quote == QUOTE and records[0].question == "لماذا؟"


def test_a_rating_row_is_rewritten_with_the_answer_it_rates(tmp_path):
    # Even if two answers ever came under one key, the row never pairs a rating with another answer's text.
    store = FeedbackStore(tmp_path / "feedback.sqlite3")
    first = Answer(question="Who won the 2018 World Cup?", answer="The article does not say.",
                   language="en", mode="not_found", citations=[])
    second = answer("بحسب المقال [1]")
    row = store.rate("same", 0, "up", first)
    store.comment(row, "fine")
    assert store.rate("same", 0, "down", second) == row
    [record] = store.records()
    assert (record.rating, record.question, record.answer) == ("down", "لماذا؟", "بحسب المقال [1]")
    assert record.comment is None  # the comment was about the other answer


def test_every_page_session_starts_its_own_conversation(fake_assistant):
    from assistant.web.page import build_page

    demo = build_page(fake_assistant)
    states = [b for b in demo.blocks.values() if isinstance(b, gr.State)]
    [conv] = [s for s in states if callable(s.value)]
    # Gradio calls a callable state value once per session; an instance would be copied with its id.
    assert conv.value().id != conv.value().id


# --- the chat handler (wiring only: over the fake embedder) ----------------------------------------------
@pytest.fixture(scope="module")
def chat_page(fake_assistant, tmp_path_factory):
    return ChatPage(fake_assistant, feedback=FeedbackStore(tmp_path_factory.mktemp("fb") / "f.sqlite3"))


def test_an_empty_question_changes_nothing(chat_page):
    updates = list(chat_page.respond("  \n ", ChatSession(), "en"))
    assert len(updates) == 1 and all(isinstance(u, type(gr.skip())) for u in updates[0])


def test_a_too_long_question_is_refused_in_the_chat(chat_page):
    limit = chat_page.assistant.settings.max_question_chars
    conv = ChatSession()
    *_, (_, chat, _, conv, *_) = chat_page.respond("س" * (limit + 5), conv, "ar")
    assert conv.turns[0].error and str(limit) in conv.turns[0].error
    assert "khabar-error" in chat[-1]["content"] and len(chat) == 2


def test_answers_stream_and_follow_ups_carry_the_history(chat_page):
    conv = ChatSession()
    updates = list(chat_page.respond("لماذا لم يعلن عن الزيارة مسبقا؟", conv, "ar"))
    assert len(updates) >= 3  # the question shown, streamed pieces, the final answer
    assert updates[0][0] == ""  # the question box is emptied once the question is in the chat
    _, chat, panel, conv, *_ = updates[-1]
    first = conv.turns[0].answer
    assert first.mode == "extractive" and first.citations[0].quote in first.answer
    assert "khabar-source" in panel and first.citations[0].quote[:20] in panel
    assert conv.history()[0].content == "لماذا لم يعلن عن الزيارة مسبقا؟"
    *_, (_, chat, _, conv, *_) = chat_page.respond("ومن كان الوسيط فيها؟", conv, "ar")
    assert conv.turns[1].answer.search_query.startswith("لماذا لم يعلن")
    assert len(chat) == 4 and chat_messages(conv, "en")[3]["content"].count("khabar-cite") >= 1


def test_a_failing_assistant_gives_a_short_message_not_a_trace(chat_page, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("/secret/path.py line 3")
        yield  # pragma: no cover

    monkeypatch.setattr(chat_page.assistant, "stream", broken)
    *_, (_, chat, _, conv, *_) = chat_page.respond("Why?", ChatSession(), "en")
    assert conv.turns[0].error == t("en", "error_generic")
    assert "secret" not in chat[-1]["content"]


def test_page_answers_take_the_apis_answer_slots_and_say_when_the_server_is_busy(fake_assistant, tmp_path):
    import anyio

    from assistant.api.admission import Admissions

    bounds = {"max_answers_in_flight": 1, "max_answers_queued": 0}
    settings = fake_assistant.settings.model_copy(update=bounds)
    admissions = Admissions(settings)
    page = ChatPage(fake_assistant, settings, feedback=FeedbackStore(tmp_path / "f.sqlite3"),
                    admissions=admissions)
    question = "Where did Assad and Putin meet?"

    async def scenario():
        ask = lambda: list(page.respond(question, ChatSession(), "en"))  # noqa: E731
        release = await admissions.answers.acquire()  # a bot's answer holds the only slot
        busy = await anyio.to_thread.run_sync(ask)
        assert admissions.answers.running == 1
        release()
        answered = await anyio.to_thread.run_sync(ask)
        return busy, answered, admissions.answers.running

    busy, answered, running_after = anyio.run(scenario)
    box, chat, _, conv, *_ = busy[-1]
    assert box == question  # the question stays in the box, to be sent again
    assert conv.turns[0].answer is None and "busy" in conv.turns[0].error
    assert "khabar-error" in chat[-1]["content"]
    assert answered[-1][3].turns[0].answer is not None
    assert running_after == 0  # the page gave its slot back


def test_page_history_is_kept_per_browser_with_whole_answers(tmp_path):
    store = PageHistory(tmp_path / "h.sqlite3", max_conversations=2)
    mine, theirs = new_id(), new_id()
    conv = ChatSession(turns=[Turn(question="  لماذا\nلم يعلن؟ ", answer=answer("بحسب المقال [1]")),
                              Turn(question="still coming")])
    store.save(mine, conv)
    assert [(s.id, s.title) for s in store.list(mine)] == [(conv.id, "لماذا لم يعلن؟")]
    assert store.list(theirs) == [] and store.load(theirs, conv.id) is None
    loaded = store.load(mine, conv.id)
    # The unfinished turn is not kept.
    assert loaded is not None and len(loaded.turns) == 1 and loaded.shown == 0
    assert loaded.turns[0].answer == conv.turns[0].answer  # citations and spans survive the round trip
    assert not store.delete(theirs, conv.id) and store.load(mine, conv.id) is not None
    for question in ("second", "third"):  # beyond max_conversations the least recent is dropped
        store.save(mine, ChatSession(turns=[Turn(question=question, error="x")]))
    assert [s.title for s in store.list(mine)] == ["third", "second"]
    assert store.delete(mine, store.list(mine)[0].id) and len(store.list(mine)) == 1
    assert valid_id(mine) and not valid_id("../../etc") and not valid_id(None)


def test_history_list_lays_out_each_title_in_its_own_direction_and_escapes_it():
    html = render_history([("a" * 32, "لماذا لم يعلن؟"), ("b" * 32, "<b>Why?</b>")], "a" * 32, "en")
    assert 'class="khabar-conv khabar-conv-current" data-id="' + "a" * 32 in html
    assert 'dir="rtl" lang="ar" aria-current="true" title="لماذا لم يعلن؟">لماذا لم يعلن؟' in html
    assert "<b>Why" not in html and "&lt;b&gt;Why?&lt;/b&gt;" in html
    assert t("ar", "no_conversations") in render_history([], None, "ar")


def test_rating_and_comment_handlers(chat_page):
    conv = ChatSession(turns=[Turn(question="q", answer=answer("بحسب المقال [1]"))])
    liked = gr.LikeData(None, {"index": 1, "value": ["x"], "liked": True})
    conv, row, status, comment = chat_page.rate(liked, conv, "en")
    assert conv.feedback_id is not None and row.visible is True and comment == ""
    _, row, status = chat_page.add_comment("good", conv, "en")
    assert status == t("en", "feedback_saved")
    assert chat_page.feedback.records()[-1].comment == "good"
    # The rating changed: the comment box opens with the comment left with the earlier rating.
    disliked = gr.LikeData(None, {"index": 1, "value": ["x"], "liked": False})
    _, row, _, comment = chat_page.rate(disliked, conv, "en")
    assert row.visible is True and comment == "good"


def test_related_passages_of_a_not_found_answer_are_not_shown_as_support():
    related = citation(1).model_copy(update={"kind": "related"})
    refused = Answer(question="What did Erdogan say?", answer="The article does not answer this question. "
                     "The closest passages are [1].", language="en", mode="not_found", citations=[related])
    html = render_sources(PanelData(turn=0, answer=refused, articles=[ARTICLE]), "en")
    assert t("en", "related_note") in html and "khabar-source-list khabar-related" in html
    assert "<mark" not in html  # nothing highlighted, neither in the passage nor in the article
    supported = render_sources(PanelData(turn=0, answer=answer("[1]"), articles=[ARTICLE]), "en")
    assert t("en", "related_note") not in supported and "<mark>" in supported


def test_generative_availability_is_checked_without_loading_a_model(tmp_path):
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from assistant.answer.availability import check_generative
    from assistant.settings import Settings

    class Models(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200 if self.path == "/v1/models" else 500)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Models)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        up = Settings(_env_file=None, llm_base_url=f"http://127.0.0.1:{server.server_port}/v1")
        assert check_generative(up).available
        failing = Settings(_env_file=None, llm_base_url=f"http://127.0.0.1:{server.server_port}/broken")
        assert check_generative(failing).reason == "unreachable"
    finally:
        server.shutdown()
    down = check_generative(Settings(_env_file=None, llm_base_url="http://127.0.0.1:9/v1"))
    assert (down.available, down.reason) == (False, "unreachable")
    missing = check_generative(Settings(_env_file=None, models_dir=tmp_path))
    assert (missing.available, missing.reason) == (False, "not_installed")
    for reason in ("unreachable", "not_installed", "failed"):
        assert t("ar", f"mode_off_{reason}") and t("en", f"mode_off_{reason}")


class WordsGenerator:
    """A stand-in model for the facade's live stream: writes fixed words, then the given outcome."""

    def __init__(self, outcome: str) -> None:
        self.outcome = outcome

    def condense(self, question, history, language):
        return question

    def stream(self, question, language, history, passages, cancel=None, *, closeness=None):
        from assistant.answer.base import Generated, Rejected
        from assistant.answer.citations import make_citation

        yield from ("Written ", "words [1]")
        if self.outcome == "rejected":
            yield Rejected(reason="rejected", detail="not supported")
        else:
            yield Generated(text=self.outcome, citations=[make_citation(1, passages[0])])

    def close(self):
        pass


@pytest.mark.parametrize("outcome", ["Written words [1]", "Written words, cleaned [1]", "rejected"])
def test_a_live_stream_shows_the_model_text_and_replaces_it_only_when_it_changed(fake_assistant, outcome):
    from assistant import Assistant
    from assistant.schemas import Replace

    live = Assistant(fake_assistant.settings, embedder=fake_assistant.embedder, store=fake_assistant.store,
                     generator=WordsGenerator(outcome), ingest_corpus=False)
    question = "لماذا لم يعلن عن الزيارة مسبقا؟"
    items = list(live.stream(question, mode="generative", live=True))
    answer = items[-1]
    assert items[:2] == ["Written ", "words [1]"]  # as the model wrote them, before verification
    replaced = [i for i in items if isinstance(i, Replace)]
    if outcome == "Written words [1]":
        assert replaced == [] and answer.mode == "generative"
    elif outcome == "rejected":
        assert answer.mode == "fallback"
        assert replaced == [Replace(text=answer.answer, reason="rejected")]
    else:
        assert replaced == [Replace(text=outcome)]
    # Without live, the model's text is held back: the chunks add up to the final answer.
    held = list(live.stream(question, mode="generative"))
    assert "".join(i for i in held if isinstance(i, str)) == held[-1].answer


def test_a_read_only_data_folder_costs_the_stored_conversations_not_the_page(fake_assistant, tmp_path):
    from assistant.web.history import browser_secret

    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    folder = blocker / "runtime"  # cannot be created, whoever runs the tests (root included)
    assert browser_secret(folder) is None
    page = ChatPage(fake_assistant, feedback=FeedbackStore(tmp_path / "f.sqlite3"),
                    history=PageHistory(folder / "h.sqlite3"))
    conv = ChatSession(browser=new_id())
    assert t("en", "no_conversations") in page.history_list(conv, "en")
    *_, last = page.respond("لماذا لم يعلن عن الزيارة مسبقا؟", conv, "ar")
    assert last[3].turns[0].answer is not None  # answered, though it could not be stored
    secret = browser_secret(tmp_path / "fresh")
    assert secret and browser_secret(tmp_path / "fresh") == secret  # made once, then the same key


def test_two_tabs_of_one_browser_keep_both_their_turns_and_their_ratings(chat_page, tmp_path):
    # Both tabs reopened the same stored conversation; each then asked its own question.
    store = chat_page.history = PageHistory(tmp_path / "h.sqlite3")
    browser = new_id()
    first = ChatSession(browser=browser, turns=[Turn(question="Where did they meet?", answer=answer("[1]"))])
    store.save(browser, first)
    tab1, tab2 = store.load(browser, first.id), store.load(browser, first.id)
    tab1.browser = tab2.browser = browser
    tab1.turns.append(Turn(question="who is peskov", answer=answer("بيسكوف [1]")))
    assert store.save(browser, tab1) is None  # it goes on from what was stored
    tab2.turns.append(Turn(question="How many warships?", answer=answer("102 [1]")))
    fork = store.save(browser, tab2)  # the other tab asked meanwhile: kept apart
    assert fork is not None and fork.source == tab1.id and fork.shared == 1 and tab2.id != tab1.id
    kept = {s.id: [t.question for t in store.load(browser, s.id).turns] for s in store.list(browser)}
    assert kept == {tab1.id: ["Where did they meet?", "who is peskov"],
                    tab2.id: ["Where did they meet?", "How many warships?"]}
    # Ratings are kept by conversation and turn: each tab's second answer keeps its own.
    for conv, liked in ((tab1, True), (tab2, False)):
        chat_page.rate(gr.LikeData(None, {"index": 3, "value": ["x"], "liked": liked}), conv, "en")
    rows = {(r.conversation_id, r.turn): (r.rating, r.answer) for r in chat_page.feedback.records()}
    assert rows[(tab1.id, 1)] == ("up", "بيسكوف [1]") and rows[(tab2.id, 1)] == ("down", "102 [1]")


def test_a_reopened_conversation_shows_its_thumbs_as_left(chat_page):
    conv = ChatSession(turns=[Turn(question="a", answer=answer("[1]")), Turn(question="b", error="x"),
                              Turn(question="c", answer=answer("[1]"))])
    chat_page.rate(gr.LikeData(None, {"index": 5, "value": ["x"], "liked": False}), conv, "en")
    assert chat_page.chat(conv, "en").feedback_value == [None, None, "Dislike"]
    chat_page.rate(gr.LikeData(None, {"index": 1, "value": ["x"], "liked": True}), conv, "en")
    chat_page.rate(gr.LikeData(None, {"index": 5, "value": ["x"], "liked": None}), conv, "en")  # withdrawn
    assert chat_page.chat(conv, "en").feedback_value == ["Like", None, None]
    # An error message's thumbs store nothing, and say so.
    before = len(chat_page.feedback.records())
    error_liked = gr.LikeData(None, {"index": 3, "value": ["x"], "liked": True})
    _, _, status, _ = chat_page.rate(error_liked, conv, "en")
    assert status == t("en", "feedback_not_answer") and len(chat_page.feedback.records()) == before


def test_stop_is_not_logged_as_a_failure(chat_page, caplog, monkeypatch):
    def stoppable(question, history, *, cancel, **kwargs):
        yield "Partly "
        cancel.wait(5)  # a model writing until Stop; then the stream ends without an answer
    monkeypatch.setattr(chat_page.assistant, "stream", stoppable)
    conv = ChatSession()
    answers = chat_page.respond("Why was the visit not announced?", conv, "en")
    next(answers), next(answers)  # the question is in the chat, the answer is coming
    chat_page.stop(conv, "en")
    with caplog.at_level("ERROR"):
        rest = list(answers)
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
    assert rest == [] and conv.turns == []  # nothing of the stopped answer is kept or shown


def test_a_stopped_answer_draws_nothing_more_whatever_still_asks_for_it(chat_page, monkeypatch):
    """review16: after a send right after Stop, Gradio may go on iterating the stopped handler; the model's
    fallback (what a cancelled generative answer ends with) must not come back into the chat."""
    def cancelled_then_fallback(question, history, *, cancel, **kwargs):
        yield "Partly "
        cancel.wait(5)
        yield Replace(text="FALLBACK TEXT", reason="cancelled")
        yield answer("FALLBACK TEXT")

    monkeypatch.setattr(chat_page.assistant, "stream", cancelled_then_fallback)
    conv = ChatSession()
    answers = chat_page.respond("Why was the visit not announced?", conv, "en")
    next(answers), next(answers)
    waiting = {}
    asking = threading.Thread(target=lambda: waiting.setdefault("rest", list(answers)))
    asking.start()  # Gradio asks for more while the model is inside a step
    time.sleep(0.2)
    chat_page.stop(conv, "en")
    asking.join(10)
    assert waiting["rest"] == [] and conv.turns == []
    # The conversation is free again: the next question is answered.
    monkeypatch.undo()
    *_, (_, chat, _, conv, *_) = chat_page.respond("لماذا لم يعلن عن الزيارة مسبقا؟", conv, "ar")
    assert conv.turns[-1].answer is not None and "FALLBACK" not in chat[-1]["content"]


def test_two_sends_at_once_give_one_answer(chat_page, monkeypatch):
    def slow(question, history, *, cancel, **kwargs):
        yield "Partly "
        cancel.wait(0.5)
        yield answer("بحسب المقال [1]")

    monkeypatch.setattr(chat_page.assistant, "stream", slow)
    conv = ChatSession()
    results: list[list] = []
    sends = [threading.Thread(target=lambda: results.append(list(chat_page.respond("Why?", conv, "en"))))
             for _ in range(2)]
    for send in sends:
        send.start()
    for send in sends:
        send.join(10)
    assert len(conv.turns) == 1 and conv.turns[0].answer is not None
    assert sorted(len(r) for r in results)[0] == 1  # the second send changed nothing


def test_the_page_language_picked_is_remembered_by_the_browser(chat_page):
    english_browser = SimpleNamespace(query_params={}, headers={"accept-language": "en-US,en;q=0.9"})
    ui, *_, saved, _ = chat_page.start({}, english_browser)
    assert ui == "en"
    saved = chat_page.remember_language("ar", saved)  # the reader picks «العربية»
    assert chat_page.start(saved, english_browser)[0] == "ar"  # a reload keeps it
    asked = SimpleNamespace(query_params={"lang": "en"}, headers={"accept-language": "ar"})
    assert chat_page.start(saved, asked)[0] == "en"  # ?lang= still wins
    assert chat_page.remember_language("fr", {"ui": "ar"}) == {"ui": "ar"}


def test_a_forked_tab_is_reopened_on_reload_and_keeps_its_ratings_of_the_shared_turns(chat_page, tmp_path):
    chat_page.history = PageHistory(tmp_path / "h.sqlite3")
    browser = new_id()
    saved = {"browser": browser}
    tab1 = ChatSession(browser=browser)
    *_, last = chat_page.respond("Where did they meet?", tab1, "en", None, saved)
    assert last[-1] == gr.skip()  # nothing to change in the browser
    tab2 = chat_page.history.load(browser, tab1.id)
    tab2.browser = browser
    chat_page.rate(gr.LikeData(None, {"index": 1, "value": ["x"], "liked": True}), tab2, "en")  # shared turn
    list(chat_page.respond("Who is Peskov?", tab1, "en", None, saved))
    *_, last = chat_page.respond("How many warships?", tab2, "en", None, saved)
    state = last[-1]
    assert tab2.id != tab1.id and state == {"browser": browser, "current": tab2.id}
    assert chat_page.start(state, SimpleNamespace(query_params={}, headers={}))[1].id == tab2.id
    assert chat_page.chat(tab2, "en").feedback_value == ["Like", None]


def test_a_second_question_waits_for_the_answer_still_coming_and_its_thumbs_say_so(chat_page, monkeypatch):
    def slow(question, history, *, cancel, **kwargs):
        yield "Partly "
        cancel.wait(5)
    monkeypatch.setattr(chat_page.assistant, "stream", slow)
    conv = ChatSession()
    first = chat_page.respond("Why was the visit not announced?", conv, "en")
    next(first), next(first)  # the first answer is coming
    second = list(chat_page.respond("Who is Peskov?", conv, "en"))  # an example clicked meanwhile
    assert len(second) == 1 and all(u == gr.skip() for u in second[0]) and len(conv.turns) == 1
    _, _, status, _ = chat_page.rate(gr.LikeData(None, {"index": 1, "value": ["x"], "liked": True}), conv,
                                     "en")
    assert status == t("en", "feedback_wait")
    chat_page.stop(conv, "en")
    list(first)


def test_the_heading_names_three_articles_and_counts_the_rest():
    from assistant.web.render import render_header

    titles = ["الأسد يلتقي بوتين في سوتشي", "Rail strike", "ألبرت أينشتاين", "ألبرت أينشتاين", "Suez"]
    english = render_header("en", titles)
    assert "الأسد يلتقي بوتين في سوتشي" in english and "and 2 more" in english and "Suez" not in english
    assert english.count("ألبرت أينشتاين") == 1
    assert "و2 غيرها" in render_header("ar", titles)
    assert "more" not in render_header("en", titles[:1])
