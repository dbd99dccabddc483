"""The chat page's layout (Gradio 6): streaming answers, each message in its own direction, citations that
open the cited passage in a sources panel beside the chat, feedback for evaluators, Arabic or English chrome.

``build_page(assistant)`` lays out the components and wires them to the handlers of
:mod:`assistant.web.handlers` (per-session state: :mod:`assistant.web.session`) and returns the
``gr.Blocks``; ``assistant.server.create_app`` mounts it at ``/``. The page's behaviour is on its event
handlers (concurrency included) and its CSS/JS travel inside the sources panel (``gr.HTML(head=...,
js_on_load=...)``), so nothing depends on ``launch()`` or on the arguments the page is mounted with.

Layout::

    [‹] earlier conversations (sidebar: open, delete)   header (name, article title)   [العربية | English]
    chat (gr.Chatbot, thumbs up/down)             |  sources panel (gr.HTML):
      comment box, placed under the rated message |    cited passages, supporting span <mark>ed,
    question box  [Send | Stop]                   |    place in the article; the whole article
    examples (gr.Dataset)                         |    (details) with the cited spans marked
    answer mode (extractive | generative)  [New conversation]

On a phone (<= 480 px, static/khabar.css) the header is one line, the sources panel is a sheet over the chat
and the sidebar stays closed. A browser's id, its current conversation and its mode live in its local storage
(``gr.BrowserState``); its conversations are stored by :mod:`assistant.web.history`.
"""

# No `from __future__ import annotations` here: Gradio reads the API function's type hints at runtime.

from functools import lru_cache
from pathlib import Path
from typing import Any

import gradio as gr

from assistant.api.admission import Admissions
from assistant.facade import Assistant
from assistant.settings import Settings
from assistant.web.feedback import FEEDBACK_OPTIONS
from assistant.web.handlers import ChatPage
from assistant.web.history import browser_secret
from assistant.web.session import new_session
from assistant.web.strings import EXAMPLES, LANGUAGES, t

STATIC_DIR = Path(__file__).resolve().parent / "static"
#: Answers computed at once, page and API together (Gradio's default would serve one person at a time).
ANSWER_CONCURRENCY = 4
#: Shared by the chat handler and the API endpoint so that together they stay within ANSWER_CONCURRENCY.
ANSWER_POOL = "khabar-answer"

# Sets the page's own direction and language when the chrome language changes (Gradio has no API for it).
SET_PAGE_DIRECTION_JS = """(lang) => {
  document.documentElement.setAttribute('dir', lang === 'ar' ? 'rtl' : 'ltr');
  document.documentElement.setAttribute('lang', lang === 'ar' ? 'ar' : 'en');
}"""
# On load, a screen wide enough for the conversation list beside the chat opens it (Gradio's own toggle).
# The last step of the load chain; it marks the page loaded (``data-khabar-loaded`` on <html>), which browser
# tests wait for so that nothing moves under a click (the sidebar opening shifted the chat under one).
OPEN_SIDEBAR_JS = """() => {
  if (window.matchMedia('(min-width: 1000px)').matches) {
    const toggle = document.querySelector('#khabar-sidebar:not(.open) .toggle-button');
    if (toggle) toggle.click();
  }
  document.documentElement.dataset.khabarLoaded = 'true';
}"""


# The side list's clicks become its "pick" (open) and "drop" (delete) events, with the conversation's id.
HISTORY_JS = """element.addEventListener('click', function (ev) {
  const button = ev.target && ev.target.closest ? ev.target.closest('button') : null;
  const item = button ? button.closest('li[data-id]') : null;
  if (!item) return;
  trigger(button.classList.contains('khabar-conv-delete') ? 'drop' : 'pick', {id: item.dataset.id});
});"""


@lru_cache(maxsize=4)
def static_text(name: str) -> str:
    """A file of ``static/`` (the page's CSS and JS)."""
    return (STATIC_DIR / name).read_text(encoding="utf-8")


def build_page(assistant: Assistant, settings: Settings | None = None,
               admissions: Admissions | None = None) -> gr.Blocks:
    """The chat page as Gradio Blocks bound to ``assistant`` (mount it, or ``.launch()`` it); with the
    API's ``admissions`` its answers share the API's bounds."""
    page = ChatPage(assistant, settings, admissions=admissions)
    ui = "en"  # the chrome is built in English; the load event switches it to the reader's language
    private: dict[str, Any] = {"api_visibility": "private"}
    quick: dict[str, Any] = {"concurrency_limit": None, **private}

    with gr.Blocks(title="Khabar", analytics_enabled=False, fill_width=True) as demo:
        # A callable, not an instance: Gradio deep-copies an instance into every session, which gave every
        # browser the same conversation id (and mixed their feedback rows); a callable runs per session.
        conv = gr.State(new_session)
        # This browser's id and the conversation it is in, kept in its local storage (encrypted with a key
        # kept in the data folder, so that a restart does not forget them).
        saved = gr.BrowserState({}, storage_key="khabar", secret=browser_secret(page.settings.runtime_dir))
        # Closed at first: the load event opens it on a wide screen (on a phone it would cover the chat).
        with gr.Sidebar(open=False, elem_id="khabar-sidebar", width=280):
            history = gr.HTML(page.history_list(new_session(), ui), elem_id="khabar-history",
                              js_on_load=HISTORY_JS, autoscroll=False)
        with gr.Row(equal_height=False, elem_id="khabar-top"):
            header = gr.HTML(page.header(ui), elem_id="khabar-header", scale=5, js_on_load=None)
            lang = gr.Radio(LANGUAGES, value=ui, label=t(ui, "language"), elem_id="khabar-lang", scale=1,
                            min_width=200)
        with gr.Row(equal_height=False, elem_id="khabar-main"):
            with gr.Column(scale=3, min_width=360, elem_id="khabar-chat-column"):
                chatbot = gr.Chatbot(
                    value=[], label=t(ui, "chat_label"), elem_id="khabar-chat", height=560,
                    placeholder=t(ui, "chat_placeholder"), latex_delimiters=[], buttons=["copy"],
                    layout="bubble", feedback_options=FEEDBACK_OPTIONS, sanitize_html=True,
                    autoscroll=True,
                )
                with gr.Row(equal_height=False, elem_id="khabar-ask-row"):
                    question = gr.Textbox(label=t(ui, "question_label"),
                                          placeholder=t(ui, "question_placeholder"), lines=1, max_lines=6,
                                          scale=5, elem_id="khabar-question", autofocus=True)
                    send = gr.Button(t(ui, "send"), variant="primary", scale=1, min_width=90,
                                     elem_id="khabar-send")
                    # Takes Send's place while an answer is coming.
                    stop = gr.Button(t(ui, "stop"), variant="stop", scale=1, min_width=90, visible=False,
                                     elem_id="khabar-stop")
                examples = gr.Dataset(components=[question], samples=[[q] for q in EXAMPLES],
                                      label=t(ui, "examples"), elem_id="khabar-examples",
                                      samples_per_page=len(EXAMPLES))
                with gr.Row(visible=False, elem_id="khabar-feedback") as feedback_row:
                    # One line that grows: Enter sends, as in the question box (Shift+Enter: a new line).
                    comment = gr.Textbox(label=t(ui, "feedback_prompt"),
                                         placeholder=t(ui, "feedback_placeholder"), lines=1, max_lines=4,
                                         scale=4,
                                         elem_id="khabar-feedback-comment")
                    comment_send = gr.Button(t(ui, "feedback_send"), scale=1, elem_id="khabar-feedback-send")
                    comment_close = gr.Button(t(ui, "close"), scale=0, min_width=70, variant="secondary",
                                              elem_id="khabar-feedback-close")
                status = gr.Markdown("", elem_id="khabar-status")
                with gr.Row(equal_height=False, elem_id="khabar-tools"):
                    # Set on load: enabled only when a generative model is reachable, else saying why.
                    mode = gr.Radio([(t(ui, "mode_choice_extractive"), "extractive"),
                                     (t(ui, "mode_choice_generative"), "generative")],
                                    value="extractive", interactive=False, label=t(ui, "mode_label"),
                                    elem_id="khabar-mode-choice", scale=3)
                    new = gr.Button(t(ui, "new_conversation"), variant="secondary", elem_id="khabar-new",
                                    scale=1)
            with gr.Column(scale=2, min_width=320, elem_id="khabar-sources-column"):
                panel = gr.HTML(page.panel(None, ui), elem_id="khabar-sources-panel",
                                head=f"<style>{static_text('khabar.css')}</style>",
                                js_on_load=static_text("khabar.js"), autoscroll=False)

        answer_flow = dict(fn=page.respond, inputs=[question, conv, lang, mode, saved],
                           outputs=[question, chatbot, panel, conv, history, send, stop, saved],
                           concurrency_limit=ANSWER_CONCURRENCY, concurrency_id=ANSWER_POOL,
                           # Gradio's default ("once") ignores a send until the previous answer's event has
                           # ended, and a stopped generative answer's event ends only when the model pauses
                           # (up to half a minute): the reader's next question was silently dropped. The
                           # handler keeps one answer per conversation itself.
                           trigger_mode="multiple", show_progress="hidden", **private)
        asked = gr.on([question.submit, send.click], **answer_flow)
        # An example is put in the question box (so the reader sees what is asked), then asked.
        example_asked = examples.click(lambda sample: sample[0], examples, question, queue=False,
                                       **private).then(**answer_flow)
        panel.cite(page.show_source, [conv, lang], [panel, conv], show_progress="hidden", **quick)
        chatbot.like(page.rate, [conv, lang], [conv, feedback_row, status, comment], show_progress="hidden",
                     **quick)
        gr.on([comment.submit, comment_send.click], page.add_comment, [comment, conv, lang],
              [comment, feedback_row, status], show_progress="hidden", **quick)
        comment_close.click(lambda: gr.Row(visible=False), None, feedback_row, queue=False, **private)
        # The chat's own trash button empties the chat: it starts a new conversation too.
        # Starting over stops an answer still streaming (it would otherwise refill the emptied chat).
        stop.click(page.stop, [conv, lang], [question, chatbot, conv, send, stop, status],
                   cancels=[asked, example_asked], show_progress="hidden", **quick)
        shown = [question, chatbot, panel, conv, feedback_row, status, history, saved, send, stop]
        gr.on([new.click, chatbot.clear], page.new_conversation, [lang, conv, saved], shown,
              show_progress="hidden", cancels=[asked, example_asked], **quick)
        history.pick(page.open_conversation, [conv, lang, saved], shown, show_progress="hidden",
                     cancels=[asked, example_asked], **quick)
        history.drop(page.delete_conversation, [conv, lang, saved], shown, show_progress="hidden", **quick)
        mode.input(page.remember_mode, [mode, saved], [saved], show_progress="hidden", **quick)
        lang.input(page.remember_language, [lang, saved], [saved], show_progress="hidden", **quick)
        lang.change(page.switch_language, [lang, conv, mode],
                    [header, chatbot, question, send, stop, new, examples, comment, comment_send,
                     comment_close, lang, panel, history, mode],
                    show_progress="hidden", **quick).then(None, [lang], None, js=SET_PAGE_DIRECTION_JS,
                                                          **private)
        # The load event picks the reader's language (a change re-labels the page); the page's own direction
        # is set in any case, as the chrome may already be in the language picked.
        # It also restores the browser's current conversation from the server.
        demo.load(page.start, [saved], [lang, conv, chatbot, panel, history, saved, mode],
                  show_progress="hidden", **quick).then(
            None, [lang], None, js=SET_PAGE_DIRECTION_JS, **private).then(None, None, None,
                                                                         js=OPEN_SIDEBAR_JS, **private)
        # Gradio's API knows nothing of the HTTP API's keys and rate limits: when keys are configured,
        # programs must go through /api/v1, so this open endpoint is not offered.
        if not page.settings.api_keys:
            gr.api(page.ask, api_name="ask", concurrency_limit=ANSWER_CONCURRENCY,
                   concurrency_id=ANSWER_POOL)
    return demo
