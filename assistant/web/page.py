"""The chat page (Gradio 6): streaming answers, each message in its own direction, citations that open
the cited passage in a sources panel beside the chat, feedback for evaluators, Arabic or English chrome.

``build_page(assistant)`` returns the ``gr.Blocks``; ``assistant.server.create_app`` mounts it at ``/``. The
page's behaviour is on its event handlers (concurrency included) and its CSS/JS travel inside the sources
panel (``gr.HTML(head=..., js_on_load=...)``), so nothing depends on ``launch()`` or on the arguments the page
is mounted with.

Layout::

    header (name, article title)                       [العربية | English]
    chat (gr.Chatbot, thumbs up/down)          |  sources panel (gr.HTML):
    question box  [Send]                        |    cited passages, supporting span <mark>ed,
    examples (gr.Dataset)   [New conversation]  |    place in the article; the whole article
    optional comment after a rating             |    (details) with the cited spans marked
"""

# No `from __future__ import annotations` here: Gradio reads the API function's type hints at runtime.

import logging
import uuid
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import gradio as gr
from pydantic import ValidationError

from assistant.errors import KhabarError
from assistant.facade import Assistant
from assistant.schemas import Answer, Article, Message
from assistant.settings import Settings
from assistant.textnorm import clean_question, detect_language
from assistant.web.feedback import FeedbackStore, feedback_store
from assistant.web.render import (
    PanelData,
    render_answer,
    render_error,
    render_header,
    render_partial,
    render_sources,
    render_user,
)
from assistant.web.strings import EXAMPLES, t, ui_language

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"
#: Answers computed at once, page and API together (Gradio's default would serve one person at a time).
ANSWER_CONCURRENCY = 4
#: Shared by the chat handler and the API endpoint so that together they stay within ANSWER_CONCURRENCY.
ANSWER_POOL = "khabar-answer"
#: Characters of a refused (too long) question echoed back in the chat.
PREVIEW_CHARS = 280
LANGUAGES = [("العربية", "ar"), ("English", "en")]

# Sets the page's own direction and language when the chrome language changes (Gradio has no API for it).
SET_PAGE_DIRECTION_JS = """(lang) => {
  document.documentElement.setAttribute('dir', lang === 'ar' ? 'rtl' : 'ltr');
  document.documentElement.setAttribute('lang', lang === 'ar' ? 'ar' : 'en');
}"""


@lru_cache(maxsize=4)
def static_text(name: str) -> str:
    """A file of ``static/`` (the page's CSS and JS)."""
    return (STATIC_DIR / name).read_text(encoding="utf-8")


@dataclass
class Turn:
    """One question and what came back: an answer, or an error message to show instead."""

    question: str
    answer: Answer | None = None
    error: str | None = None


@dataclass
class Conversation:
    """One browser session's conversation (kept in ``gr.State``)."""

    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    turns: list[Turn] = field(default_factory=list)
    shown: int | None = None  # the turn whose sources the panel shows
    feedback_id: int | None = None  # the last rating, which a comment attaches to

    def history(self) -> list[Message]:
        """Earlier answered turns, as the assistant takes them for follow-up questions."""
        messages: list[Message] = []
        for turn in self.turns:
            if turn.answer is not None:
                messages += [Message(role="user", content=turn.answer.question),
                             Message(role="assistant", content=turn.answer.answer)]
        return messages


def new_conversation() -> Conversation:
    """A fresh conversation with its own id (a function, so that Gradio calls it once per session)."""
    return Conversation()


def chat_messages(conv: Conversation, ui: str, partial: str = "", streaming: int | None = None
                  ) -> list[dict[str, str]]:
    """The chatbot's value: two messages per turn; a turn with neither answer nor error is still coming
    (turn ``streaming`` shows the ``partial`` text received so far)."""
    messages: list[dict[str, str]] = []
    for number, turn in enumerate(conv.turns):
        messages.append({"role": "user", "content": render_user(turn.question)})
        if turn.answer is not None:
            content = render_answer(turn.answer, number, ui)
        elif turn.error is not None:
            content = render_error(turn.error, ui)
        else:
            content = render_partial(partial if number == streaming else "", detect_language(turn.question))
        messages.append({"role": "assistant", "content": content})
    return messages


class ChatPage:
    """The page's event handlers, bound to one assistant and one feedback store."""

    def __init__(self, assistant: Assistant, settings: Settings | None = None,
                 feedback: FeedbackStore | None = None) -> None:
        self.assistant = assistant
        self.settings = settings or assistant.settings
        self.feedback = feedback or feedback_store(self.settings.runtime_dir)

    # -- rendering helpers -------------------------------------------------------------------------------
    def _articles(self, ids: list[str]) -> list[Article]:
        found = []
        for article_id in dict.fromkeys(ids):
            try:
                found.append(self.assistant.article(article_id))
            except KhabarError:
                log.warning("cited article %r is not in the index", article_id)
        return found

    def panel(self, conv: Conversation | None, ui: str, active: int | None = None) -> str:
        """The sources panel for the turn ``conv.shown`` (or the empty panel with the article to read)."""
        infos = self.assistant.articles()
        turn = conv.turns[conv.shown] if conv and conv.shown is not None and conv.shown < len(conv.turns) \
            else None
        if turn is None or turn.answer is None:
            first = self._articles([i.id for i in infos[:1]])
            return render_sources(PanelData(articles=first, infos=infos), ui)
        answer = turn.answer
        articles = self._articles([c.article_id for c in answer.citations] or [i.id for i in infos[:1]])
        return render_sources(PanelData(turn=conv.shown, answer=answer, articles=articles, infos=infos,
                                        active=active), ui)

    def header(self, ui: str) -> str:
        """The page heading in ``ui``."""
        return render_header(ui, [i.title for i in self.assistant.articles()])

    # -- handlers ----------------------------------------------------------------------------------------
    def respond(self, question: str | None, conv: Conversation | None, ui: str):
        """Ask ``question`` in the conversation; yields (question box, chat, panel, conversation) updates."""
        question = question or ""
        if not clean_question(question):  # an empty question is ignored, as if nothing was sent
            yield gr.skip(), gr.skip(), gr.skip(), gr.skip()
            return
        conv = conv if conv is not None else Conversation()
        try:
            cleaned = self.assistant.validate(question)
        except KhabarError as exc:
            # Refused (e.g. too long): say why in the chat and leave the text in the box to be shortened.
            shown = question if len(question) <= PREVIEW_CHARS else question[:PREVIEW_CHARS] + "…"
            limit = self.assistant.settings.max_question_chars
            message = (t(ui, "too_long", length=len(question), limit=limit) if len(question) > limit
                       else str(exc))
            conv.turns.append(Turn(question=shown, error=message))
            yield gr.skip(), chat_messages(conv, ui), gr.skip(), conv
            return

        history = conv.history()
        turn = Turn(question=cleaned)
        conv.turns.append(turn)
        number = len(conv.turns) - 1
        yield "", chat_messages(conv, ui), gr.skip(), conv
        text = ""
        try:
            for item in self.assistant.stream(cleaned, history):
                if isinstance(item, Answer):
                    turn.answer = item
                else:
                    text += item
                    yield gr.skip(), chat_messages(conv, ui, text, number), gr.skip(), conv
            if turn.answer is None:
                raise RuntimeError("the answer stream ended without an answer")
        except KhabarError as exc:
            turn.error = str(exc)
        except Exception:
            log.exception("answering %r failed", cleaned)
            turn.error = t(ui, "error_generic")
        panel: Any = gr.skip()
        if turn.answer is not None:
            conv.shown = number
            panel = self.panel(conv, ui)
        yield gr.skip(), chat_messages(conv, ui), panel, conv

    def show_source(self, evt: gr.EventData, conv: Conversation | None, ui: str):
        """A marker of an answer the panel is not showing was clicked: show that answer's sources."""
        data = getattr(evt, "_data", None) or {}
        try:
            number, n = int(data.get("turn")), int(data.get("n"))
        except (TypeError, ValueError):
            return gr.skip(), gr.skip()
        if conv is None or not (0 <= number < len(conv.turns)) or conv.turns[number].answer is None:
            return gr.skip(), gr.skip()
        conv.shown = number
        return self.panel(conv, ui, active=n), conv

    def rate(self, evt: gr.LikeData, conv: Conversation | None, ui: str):
        """Thumbs up/down on an answer: store it and offer the optional comment box."""
        index = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
        number = int(index) // 2
        if conv is None or not (0 <= number < len(conv.turns)) or conv.turns[number].answer is None:
            return conv, gr.skip(), gr.skip()
        rating = "up" if evt.liked is True else "down" if evt.liked is False else None
        try:
            conv.feedback_id = self.feedback.rate(conv.id, number, rating, conv.turns[number].answer)
        except Exception:
            log.exception("storing feedback failed")
            return conv, gr.Row(visible=False), t(ui, "feedback_failed")
        return conv, gr.Row(visible=rating is not None), ""

    def add_comment(self, comment: str | None, conv: Conversation | None, ui: str):
        """Attach the optional comment to the last rating."""
        if conv is None or conv.feedback_id is None or not (comment or "").strip():
            return gr.skip(), gr.skip(), gr.skip()
        try:
            saved = self.feedback.comment(conv.feedback_id, comment or "")
        except Exception:
            log.exception("storing a feedback comment failed")
            saved = False
        return "", gr.Row(visible=not saved), t(ui, "feedback_saved" if saved else "feedback_failed")

    def new_conversation(self, ui: str):
        """Forget the conversation: empty chat, empty panel, fresh id."""
        conv = Conversation()
        return "", [], self.panel(conv, ui), conv, gr.Row(visible=False), ""

    def initial_language(self, request: gr.Request) -> str:
        """The chrome language: ``?lang=ar|en`` if given, else the browser's preferred language."""
        params = getattr(request, "query_params", None) or {}
        headers = getattr(request, "headers", None) or {}
        accepted = headers.get("accept-language", "") if hasattr(headers, "get") else ""
        return ui_language(params.get("lang"), default=ui_language(accepted, default="en"))

    def switch_language(self, ui: str, conv: Conversation | None):
        """Every label, button and rendered message in the chosen language."""
        ui = ui_language(ui)
        conv = conv if conv is not None else Conversation()
        return (
            self.header(ui),
            gr.Chatbot(value=chat_messages(conv, ui), label=t(ui, "chat_label"),
                       placeholder=t(ui, "chat_placeholder")),
            gr.Textbox(label=t(ui, "question_label"), placeholder=t(ui, "question_placeholder")),
            gr.Button(value=t(ui, "send")),
            gr.Button(value=t(ui, "new_conversation")),
            gr.Dataset(label=t(ui, "examples")),
            gr.Textbox(label=t(ui, "feedback_prompt"), placeholder=t(ui, "feedback_placeholder")),
            gr.Button(value=t(ui, "feedback_send")),
            gr.Radio(label=t(ui, "language")),
            self.panel(conv, ui),
        )

    def ask(self, question: str, history: list[dict] | None = None) -> dict:
        """Answer ``question`` (with earlier ``{role, content}`` turns) and return the whole structured
        answer: answer text, language, mode, citations with their spans, retrieved passages, timings."""
        try:
            turns = [Message.model_validate(m) for m in (history or [])]
        except ValidationError as exc:
            raise gr.Error("history must be a list of {role: user|assistant, content: text} turns") from exc
        try:
            return self.assistant.ask(question, turns).model_dump(mode="json")
        except KhabarError as exc:
            raise gr.Error(str(exc)) from exc
        except Exception as exc:
            log.exception("API answer to %r failed", question)
            raise gr.Error(t("en", "error_generic")) from exc


def build_page(assistant: Assistant, settings: Settings | None = None) -> gr.Blocks:
    """The chat page as Gradio Blocks bound to ``assistant`` (mount it, or ``.launch()`` it)."""
    page = ChatPage(assistant, settings)
    ui = "en"  # the chrome is built in English; the load event switches it to the reader's language
    private: dict[str, Any] = {"api_visibility": "private"}
    quick: dict[str, Any] = {"concurrency_limit": None, **private}

    with gr.Blocks(title="Khabar", analytics_enabled=False, fill_width=True) as demo:
        # A callable, not an instance: Gradio deep-copies an instance into every session, which gave every
        # browser the same conversation id (and mixed their feedback rows); a callable runs per session.
        conv = gr.State(new_conversation)
        with gr.Row(equal_height=False, elem_id="khabar-top"):
            header = gr.HTML(page.header(ui), elem_id="khabar-header", scale=5, js_on_load=None)
            lang = gr.Radio(LANGUAGES, value=ui, label=t(ui, "language"), elem_id="khabar-lang", scale=1,
                            min_width=200)
        with gr.Row(equal_height=False, elem_id="khabar-main"):
            with gr.Column(scale=3, min_width=360, elem_id="khabar-chat-column"):
                chatbot = gr.Chatbot(
                    value=[], label=t(ui, "chat_label"), elem_id="khabar-chat", height=560,
                    placeholder=t(ui, "chat_placeholder"), latex_delimiters=[], buttons=["copy"],
                    layout="bubble", feedback_options=("Like", "Dislike"), sanitize_html=True,
                    autoscroll=True,
                )
                with gr.Row(equal_height=False, elem_id="khabar-ask-row"):
                    question = gr.Textbox(label=t(ui, "question_label"),
                                          placeholder=t(ui, "question_placeholder"), lines=1, max_lines=6,
                                          scale=5, elem_id="khabar-question", autofocus=True)
                    send = gr.Button(t(ui, "send"), variant="primary", scale=1, min_width=90,
                                     elem_id="khabar-send")
                examples = gr.Dataset(components=[question], samples=[[q] for q in EXAMPLES],
                                      label=t(ui, "examples"), elem_id="khabar-examples",
                                      samples_per_page=len(EXAMPLES))
                with gr.Row(visible=False, elem_id="khabar-feedback") as feedback_row:
                    comment = gr.Textbox(label=t(ui, "feedback_prompt"),
                                         placeholder=t(ui, "feedback_placeholder"), lines=2, scale=4,
                                         elem_id="khabar-feedback-comment")
                    comment_send = gr.Button(t(ui, "feedback_send"), scale=1, elem_id="khabar-feedback-send")
                status = gr.Markdown("", elem_id="khabar-status")
                new = gr.Button(t(ui, "new_conversation"), variant="secondary", elem_id="khabar-new")
            with gr.Column(scale=2, min_width=320, elem_id="khabar-sources-column"):
                panel = gr.HTML(page.panel(None, ui), elem_id="khabar-sources-panel",
                                head=f"<style>{static_text('khabar.css')}</style>",
                                js_on_load=static_text("khabar.js"), autoscroll=False)

        answer_flow = dict(fn=page.respond, inputs=[question, conv, lang],
                           outputs=[question, chatbot, panel, conv], concurrency_limit=ANSWER_CONCURRENCY,
                           concurrency_id=ANSWER_POOL, show_progress="hidden", **private)
        asked = gr.on([question.submit, send.click], **answer_flow)
        # An example is put in the question box (so the reader sees what is asked), then asked.
        example_asked = examples.click(lambda sample: sample[0], examples, question, queue=False,
                                       **private).then(**answer_flow)
        panel.cite(page.show_source, [conv, lang], [panel, conv], show_progress="hidden", **quick)
        chatbot.like(page.rate, [conv, lang], [conv, feedback_row, status], show_progress="hidden", **quick)
        gr.on([comment.submit, comment_send.click], page.add_comment, [comment, conv, lang],
              [comment, feedback_row, status], show_progress="hidden", **quick)
        # The chat's own trash button empties the chat: it starts a new conversation too.
        # Starting over stops an answer still streaming (it would otherwise refill the emptied chat).
        gr.on([new.click, chatbot.clear], page.new_conversation, [lang],
              [question, chatbot, panel, conv, feedback_row, status], show_progress="hidden",
              cancels=[asked, example_asked], **quick)
        lang.change(page.switch_language, [lang, conv],
                    [header, chatbot, question, send, new, examples, comment, comment_send, lang, panel],
                    show_progress="hidden", **quick).then(None, [lang], None, js=SET_PAGE_DIRECTION_JS,
                                                          **private)
        # The load event picks the reader's language (a change re-labels the page); the page's own direction
        # is set in any case, as the chrome may already be in the language picked.
        demo.load(page.initial_language, None, [lang], show_progress="hidden", **quick).then(
            None, [lang], None, js=SET_PAGE_DIRECTION_JS, **private)
        # Gradio's API knows nothing of the HTTP API's keys and rate limits: when keys are configured,
        # programs must go through /api/v1, so this open endpoint is not offered.
        if not page.settings.api_keys:
            gr.api(page.ask, api_name="ask", concurrency_limit=ANSWER_CONCURRENCY,
                   concurrency_id=ANSWER_POOL)
    return demo
