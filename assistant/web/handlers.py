"""The page's event handlers: what happens when a reader asks, clicks a citation, rates an answer, starts
over or switches the page language. The layout that wires them to components is in
:mod:`assistant.web.page`; an answer's slot and stopping it are in :mod:`assistant.web.running`.

Over 300 lines on purpose: the handlers of one page share the per-browser state (the conversation being
shown, the answer running in it, the page language); split, each would reach into the others' state.
"""

# No `from __future__ import annotations` here: Gradio reads the API function's type hints at runtime.

import logging
import threading
from typing import Any

import gradio as gr
from pydantic import ValidationError

from assistant.api.admission import Admissions
from assistant.api.errors import ApiError
from assistant.errors import KhabarError
from assistant.facade import Assistant
from assistant.schemas import Answer, Article, Message, Replace
from assistant.settings import ANSWER_MODES, Settings
from assistant.textnorm import clean_question, plain_text
from assistant.web.feedback import FEEDBACK_OPTIONS, FeedbackStore, feedback_store
from assistant.web.history import PageHistory, new_id, page_history, valid_id
from assistant.web.render import PanelData, render_header, render_history, render_sources
from assistant.web.running import Running, admit, admitted, stop_and_release
from assistant.web.session import ChatSession, Turn, chat_messages
from assistant.web.strings import t, ui_language

log = logging.getLogger(__name__)

#: Characters of a refused (too long) question echoed back in the chat.
PREVIEW_CHARS = 280


class ChatPage:
    """The page's event handlers, bound to one assistant and one feedback store."""

    def __init__(self, assistant: Assistant, settings: Settings | None = None,
                 feedback: FeedbackStore | None = None, history: PageHistory | None = None,
                 admissions: Admissions | None = None) -> None:
        self.assistant = assistant
        self.settings = settings or assistant.settings
        #: The API's answer bounds, shared when the page is mounted in the API's app: readers and bots then
        #: queue for the same slots, and the page's excess is told to retry like the API's.
        self.admissions = admissions
        self.feedback = feedback or feedback_store(self.settings.runtime_dir)
        self.history = history or page_history(self.settings.runtime_dir)
        #: The answer each conversation is waiting for (by conversation id), for Stop.
        self._running: dict[str, Running] = {}
        #: Taken to check and claim a conversation's answer in one step: the page lets a question be sent
        #: while a stopped answer winds down, so two sends may race.
        self._claim = threading.Lock()

    # -- rendering helpers -------------------------------------------------------------------------------
    def _articles(self, ids: list[str]) -> list[Article]:
        found = []
        for article_id in dict.fromkeys(ids):
            try:
                found.append(self.assistant.article(article_id))
            except KhabarError:
                log.warning("cited article %r is not in the index", article_id)
        return found

    def panel(self, conv: ChatSession | None, ui: str, active: int | None = None) -> str:
        """The sources panel for the turn ``conv.shown`` (or the empty panel with the article to read)."""
        infos = self.assistant.articles()
        turn = conv.turns[conv.shown] if conv and conv.shown is not None and conv.shown < len(conv.turns) \
            else None
        main = self.assistant.main_article()
        if turn is None or turn.answer is None:
            first = self._articles([main] if main else [])
            return render_sources(PanelData(articles=first, infos=infos), ui)
        answer = turn.answer
        articles = self._articles([c.article_id for c in answer.citations] or ([main] if main else []))
        return render_sources(PanelData(turn=conv.shown, answer=answer, articles=articles, infos=infos,
                                        active=active), ui)

    def header(self, ui: str) -> str:
        """The page heading in ``ui``."""
        infos = self.assistant.articles()
        main = self.assistant.main_article()
        return render_header(ui, [i.title for i in sorted(infos, key=lambda i: i.id != main)])

    def history_list(self, conv: ChatSession, ui: str) -> str:
        """The side list of the browser's stored conversations, the current one marked."""
        try:
            items = [(s.id, s.title) for s in self.history.list(conv.browser)] if conv.browser else []
        except Exception:  # an unreadable store costs the list, not the page
            log.exception("listing the stored conversations failed")
            items = []
        return render_history(items, conv.id, ui)

    def _load(self, browser: str, conversation_id: str | None) -> ChatSession | None:
        if not browser or not valid_id(conversation_id):
            return None
        try:
            return self.history.load(browser, conversation_id)  # type: ignore[arg-type]
        except Exception:
            log.exception("reading a stored conversation failed")
            return None

    def _save(self, conv: ChatSession) -> bool:
        """Store ``conv``; True when it was kept under a new id, with this tab's ratings of the turns it
        shares with the conversation it forked from."""
        if not conv.browser:
            return False
        try:
            fork = self.history.save(conv.browser, conv)
        except Exception:  # a full or read-only disk must not cost the reader the answer on screen
            log.exception("storing the conversation failed")
            return False
        if fork is None:
            return False
        try:
            self.feedback.copy_ratings(fork.source, conv.id, fork.shared)
        except Exception:
            log.exception("copying the ratings of a forked conversation failed")
        return True

    def chat(self, conv: ChatSession, ui: str, **labels: str) -> gr.Chatbot:
        """The chat showing ``conv``, its thumbs as the reader left them (a reopened or reloaded
        conversation looked unrated, though its ratings were stored)."""
        try:
            ratings = self.feedback.ratings(conv.id) if conv.turns else {}
        except Exception:  # the thumbs are a courtesy: an unreadable store must not cost the conversation
            log.exception("reading the conversation's ratings failed")
            ratings = {}
        shown = dict(zip(("up", "down"), FEEDBACK_OPTIONS, strict=True))
        return gr.Chatbot(value=chat_messages(conv, ui), **labels,
                          feedback_value=[shown.get(ratings.get(i, "")) for i in range(len(conv.turns))])

    def _switch_to(self, conv: ChatSession, ui: str, saved: Any, left: Running | None = None):
        """Outputs (question, chat, panel, conversation, comment row, status, list, browser state, Send,
        Stop) showing ``conv``. ``left``: the answer the reader walked away from; its question is put back
        in the box (as Stop does), to be sent here or cleared, rather than lost."""
        state = _pointing_at(conv, saved)
        question, status = (left.question, t(ui, "stopped")) if left is not None else ("", "")
        return (question, self.chat(conv, ui), self.panel(conv, ui), conv, gr.Row(visible=False), status,
                self.history_list(conv, ui), state, gr.Button(visible=True), gr.Button(visible=False))

    def mode_control(self, ui: str, chosen: object, relabel: bool = False) -> gr.Radio:
        """The answer-mode choice: enabled with the reader's choice when a generative model is reachable,
        else fixed on extractive and saying why. ``relabel``: only its words change (the value it shows may
        be newer than the one this event was sent)."""
        status = self.assistant.generative_status()
        choices = [(t(ui, "mode_choice_extractive"), "extractive"),
                   (t(ui, "mode_choice_generative"), "generative")]
        if not status.available:
            log.info("generative answers not offered on the page: %s", status.detail)
            return gr.Radio(choices=choices, value="extractive", interactive=False, label=t(ui, "mode_label"),
                            info=t(ui, f"mode_off_{status.reason}"))
        labels = dict(choices=choices, interactive=True, label=t(ui, "mode_label"), info=t(ui, "mode_on"))
        if relabel:
            return gr.Radio(**labels)
        return gr.Radio(value=chosen if chosen in ANSWER_MODES else self.settings.mode, **labels)

    def remember_mode(self, mode: str, saved: Any) -> dict:
        """The reader picked a mode: keep it in the browser."""
        state = _browser_state(saved)
        if mode in ANSWER_MODES:
            state["mode"] = mode
        return state

    def remember_language(self, ui: str, saved: Any) -> dict:
        """The reader picked the page's language: keep it in the browser (a reload keeps it)."""
        state = _browser_state(saved)
        if ui in ("ar", "en"):
            state["ui"] = ui
        return state

    # -- handlers ----------------------------------------------------------------------------------------
    def respond(self, question: str | None, conv: ChatSession | None, ui: str, mode: str | None = None,
                saved: Any = None):
        """Ask ``question`` in the conversation; yields (question box, chat, panel, conversation, list,
        Send, Stop, browser state) updates: while the answer is coming Send is hidden and Stop shown. The
        browser state changes only when the conversation was kept under a new id (another tab of the
        browser had gone on with it: :meth:`PageHistory.save`)."""
        skip = gr.skip()
        question = question or ""
        if not plain_text(clean_question(question)).strip():
            # An empty question (spaces, or only invisible characters) is ignored, as if nothing was sent.
            yield (skip,) * 8
            return
        conv = conv if conv is not None else ChatSession()
        if conv.id in self._running:
            # An example clicked while an answer is coming: one answer at a time per conversation (a later
            # answer finishing first would store the turns out of order).
            yield (skip,) * 8
            return
        try:
            cleaned = self.assistant.validate(question)
        except KhabarError as exc:
            # Refused (e.g. too long): say why in the chat and leave the text in the box to be shortened.
            shown = question if len(question) <= PREVIEW_CHARS else question[:PREVIEW_CHARS] + "…"
            limit = self.assistant.settings.max_question_chars
            message = (t(ui, "too_long", length=len(question), limit=limit) if len(question) > limit
                       else str(exc))
            conv.turns.append(Turn(question=shown, error=message))
            yield skip, chat_messages(conv, ui), skip, conv, skip, skip, skip, skip
            return

        history = conv.history()
        turn = Turn(question=cleaned)
        # Stop sets this event: the pipeline stops a model that is still writing at its next token.
        cancel = threading.Event()
        running = Running(cancel=cancel, question=question, turn=turn)
        with self._claim:
            claimed = conv.id not in self._running  # else a second send of the same moment
            if claimed:
                self._running[conv.id] = running
        if not claimed:
            yield (skip,) * 8
            return
        conv.turns.append(turn)
        try:
            yield from self._answer(conv, running, history, ui, mode, saved)
        finally:  # however it ends (a client gone at a yield included), the conversation is free again
            self._forget(conv, running)

    def _answer(self, conv: ChatSession, running: Running, history: list[Message], ui: str,
                mode: str | None, saved: Any):
        """The claimed answer of :meth:`respond`: the same outputs. The cancel event is the authority:
        once Stop (or leaving the conversation) set it, nothing more is drawn, whatever Gradio still asks
        of this generator (a send right after Stop can leave the stopped event running in Gradio)."""
        skip = gr.skip()
        turn, cancel, question = running.turn, running.cancel, running.question
        number = len(conv.turns) - 1
        busy = (gr.Button(visible=False), gr.Button(visible=True))
        # The question shows at once, before a slot is free: a generative answer stopped a moment ago may
        # hold the model's slot until the model pauses.
        yield ("", chat_messages(conv, ui), skip, conv, skip, *busy, skip)
        if mode not in ANSWER_MODES:
            mode = None  # the server's default
        elif mode == "generative" and not self.assistant.generative_status().available:
            mode = "extractive"  # the control was disabled: a request saying otherwise is not obeyed
        try:
            slot = admit(self.admissions, mode, self.settings.allow_generative)
        except ApiError as exc:  # the server is busy: say so, keep the question in the box to resend
            if not self._forget(conv, running):
                return  # stopped meanwhile: Stop has put the question back
            conv.turns.remove(turn)
            conv.turns.append(Turn(question=turn.question, error=t(ui, "busy", seconds=_retry_after(exc))))
            yield (question, chat_messages(conv, ui), skip, conv, skip, gr.Button(visible=True),
                   gr.Button(visible=False), skip)
            return
        try:
            if cancel.is_set():  # stopped while waiting for the slot
                return
            if slot is not None:
                mode = slot.admission.mode  # generative not allowed here (KHABAR_ALLOW_GENERATIVE)
            # Live: a generated answer shows as the model writes it; a Replace swaps in the verified (or
            # fallback) text.
            stream = self.assistant.stream(turn.question, history, cancel=cancel, mode=mode,  # type: ignore
                                           live=True)
            running.stream, running.slot = stream, slot
            text = ""
            try:
                for item in stream:
                    if cancel.is_set():
                        return
                    if isinstance(item, Answer):
                        turn.answer = item
                    else:
                        text = item.text if isinstance(item, Replace) else text + item
                        yield (skip, chat_messages(conv, ui, text, number), skip, conv, skip, *busy, skip)
                if turn.answer is None and not cancel.is_set():
                    raise RuntimeError("the answer stream ended without an answer")
            except KhabarError as exc:
                turn.error = str(exc)
            except Exception:
                log.exception("answering %r failed", turn.question)
                turn.error = t(ui, "error_generic")
        finally:
            if slot is not None:
                slot.release()
        if cancel.is_set() or (turn.answer is None and turn.error is None):
            return  # stopped by the reader: Stop has already put the question back in the box
        self._forget(conv, running)  # done: a Stop from now on has nothing to stop
        panel: Any = skip
        if turn.answer is not None:
            conv.shown = number
            panel = self.panel(conv, ui)
        state: Any = skip
        if self._save(conv):  # kept under a new id: a reload must reopen this tab's conversation
            state = _pointing_at(conv, saved)
        yield (skip, chat_messages(conv, ui), panel, conv, self.history_list(conv, ui),
               gr.Button(visible=True), gr.Button(visible=False), state)

    def _forget(self, conv: ChatSession, running: Running) -> bool:
        """The answer ``running`` no longer holds ``conv``; False if Stop had already taken it off."""
        with self._claim:
            if self._running.get(conv.id) is running:
                del self._running[conv.id]
                return True
        return False

    def _cancel(self, conv: ChatSession | None) -> Running | None:
        """Stop the answer ``conv`` is waiting for, if any (the event handler is cancelled by Gradio; this
        stops the work it started on the server)."""
        with self._claim:  # taken off and told at once: an answer that still holds it is not stopped
            running = self._running.pop(conv.id, None) if conv is not None else None
            if running is not None:
                running.cancel.set()
        if running is not None:
            threading.Thread(target=stop_and_release, args=(running,), daemon=True,
                             name="khabar-stop").start()
        return running

    def stop(self, conv: ChatSession | None, ui: str):
        """Stop: the answer being written is dropped, its question goes back in the box to be edited or
        sent again; outputs (question box, chat, conversation, Send, Stop, status)."""
        running = self._cancel(conv)
        if conv is None or running is None:
            return gr.skip(), gr.skip(), gr.skip(), gr.Button(visible=True), gr.Button(visible=False), ""
        if running.turn in conv.turns:
            conv.turns.remove(running.turn)
        return (running.question, chat_messages(conv, ui), conv, gr.Button(visible=True),
                gr.Button(visible=False), t(ui, "stopped"))

    def show_source(self, evt: gr.EventData, conv: ChatSession | None, ui: str):
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

    def rate(self, evt: gr.LikeData, conv: ChatSession | None, ui: str):
        """Thumbs up/down on an answer: store it and offer the optional comment box (holding the comment
        stored with an earlier rating of that answer); outputs (conversation, comment row, status,
        comment)."""
        index = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
        number = int(index) // 2
        if conv is None or not (0 <= number < len(conv.turns)):
            return conv, gr.skip(), gr.skip()
        if conv.turns[number].answer is None:
            # Gradio puts thumbs under error messages, and under an answer still coming.
            message = "feedback_not_answer" if conv.turns[number].error is not None else "feedback_wait"
            return conv, gr.Row(visible=False), t(ui, message), gr.skip()
        rating = "up" if evt.liked is True else "down" if evt.liked is False else None
        try:
            conv.feedback_id = self.feedback.rate(conv.id, number, rating, conv.turns[number].answer)
            comment = self.feedback.comment_of(conv.feedback_id) or ""
        except Exception:
            log.exception("storing feedback failed")
            return conv, gr.Row(visible=False), t(ui, "feedback_failed"), gr.skip()
        # A rating changed shows the comment left with it, to keep or edit.
        return conv, gr.Row(visible=rating is not None), "", comment

    def add_comment(self, comment: str | None, conv: ChatSession | None, ui: str):
        """Attach the optional comment to the last rating."""
        if conv is None or conv.feedback_id is None or not (comment or "").strip():
            return gr.skip(), gr.skip(), gr.skip()
        try:
            saved = self.feedback.comment(conv.feedback_id, comment or "")
        except Exception:
            log.exception("storing a feedback comment failed")
            saved = False
        return "", gr.Row(visible=not saved), t(ui, "feedback_saved" if saved else "feedback_failed")

    def new_conversation(self, ui: str, conv: ChatSession | None, saved: Any):
        """Start over: empty chat, empty panel, fresh id (the previous conversation stays in the list)."""
        left = self._cancel(conv)  # an answer still coming would otherwise refill the emptied chat
        browser = conv.browser if conv is not None else ""
        return self._switch_to(ChatSession(browser=browser), ui, saved, left)

    def _picked(self, evt: gr.EventData) -> str | None:
        data = getattr(evt, "_data", None) or {}
        picked = data.get("id") if isinstance(data, dict) else None
        return picked if valid_id(picked) else None

    def open_conversation(self, evt: gr.EventData, conv: ChatSession | None, ui: str, saved: Any):
        """A conversation of the side list was clicked: show it, with its latest answer's sources."""
        picked = self._picked(evt)
        stored = self._load(conv.browser, picked) if conv is not None else None
        if stored is None:
            return (gr.skip(),) * 10
        left = self._cancel(conv)
        stored.browser = conv.browser  # type: ignore[union-attr]
        return self._switch_to(stored, ui, saved, left)

    def delete_conversation(self, evt: gr.EventData, conv: ChatSession | None, ui: str, saved: Any):
        """The side list's delete button: forget that conversation; deleting the one shown starts anew."""
        picked = self._picked(evt)
        if conv is None or not conv.browser or picked is None:
            return (gr.skip(),) * 10
        try:
            self.history.delete(conv.browser, picked)
        except Exception:
            log.exception("deleting a stored conversation failed")
        if picked == conv.id:
            left = self._cancel(conv)
            return self._switch_to(ChatSession(browser=conv.browser), ui, saved, left)
        return (gr.skip(),) * 6 + (self.history_list(conv, ui),) + (gr.skip(),) * 3

    def start(self, saved: Any, request: gr.Request):
        """Page load: the reader's language, this browser's id (made on its first visit) and the
        conversation it was in, restored from the server; outputs (language, conversation, chat, panel,
        list, browser state, mode control)."""
        state = _browser_state(saved)
        ui = self.initial_language(request, state.get("ui"))
        browser = state.get("browser") if valid_id(state.get("browser")) else new_id()
        current = state.get("current")
        conv = self._load(browser, current)
        conv = conv or ChatSession()
        conv.browser = browser
        state.update(browser=browser, current=conv.id)
        return (ui, conv, self.chat(conv, ui), self.panel(conv, ui), self.history_list(conv, ui),
                state, self.mode_control(ui, state.get("mode")))

    def initial_language(self, request: gr.Request, remembered: object = None) -> str:
        """The chrome language: ``?lang=ar|en`` if given, else the one the reader picked last in this
        browser, else the browser's preferred language."""
        params = getattr(request, "query_params", None) or {}
        headers = getattr(request, "headers", None) or {}
        accepted = headers.get("accept-language", "") if hasattr(headers, "get") else ""
        default = ui_language(remembered, default=ui_language(accepted, default="en"))
        return ui_language(params.get("lang"), default=default)

    def switch_language(self, ui: str, conv: ChatSession | None, mode: str | None = None):
        """Every label, button and rendered message in the chosen language."""
        ui = ui_language(ui)
        conv = conv if conv is not None else ChatSession()
        return (
            self.header(ui),
            self.chat(conv, ui, label=t(ui, "chat_label"), placeholder=t(ui, "chat_placeholder")),
            gr.Textbox(label=t(ui, "question_label"), placeholder=t(ui, "question_placeholder")),
            gr.Button(value=t(ui, "send")),
            gr.Button(value=t(ui, "stop")),
            gr.Button(value=t(ui, "new_conversation")),
            gr.Dataset(label=t(ui, "examples")),
            gr.Textbox(label=t(ui, "feedback_prompt"), placeholder=t(ui, "feedback_placeholder")),
            gr.Button(value=t(ui, "feedback_send")),
            gr.Button(value=t(ui, "close")),
            gr.Radio(label=t(ui, "language")),
            self.panel(conv, ui),
            self.history_list(conv, ui),
            self.mode_control(ui, mode, relabel=True),
        )

    def ask(self, question: str, history: list[dict] | None = None) -> dict:
        """Answer ``question`` (with earlier ``{role, content}`` turns) and return the whole structured
        answer: answer text, language, mode, citations with their spans, retrieved passages, timings."""
        try:
            turns = [Message.model_validate(m) for m in (history or [])]
        except ValidationError as exc:
            raise gr.Error("history must be a list of {role: user|assistant, content: text} turns",
                           print_exception=False) from exc
        try:
            with admitted(self.admissions, None, self.settings.allow_generative):
                return self.assistant.ask(question, turns).model_dump(mode="json")
        except ApiError as exc:
            # An expected refusal (busy, too long): the caller is told; no traceback in the server's log.
            raise gr.Error(exc.message, print_exception=False) from exc
        except KhabarError as exc:
            raise gr.Error(str(exc), print_exception=False) from exc
        except Exception as exc:
            log.exception("API answer to %r failed", question)
            raise gr.Error(t("en", "error_generic"), print_exception=False) from exc  # logged just above


def _browser_state(saved: Any) -> dict:
    """A copy of what the page keeps in the browser's local storage (anything else from a browser: empty)."""
    return dict(saved) if isinstance(saved, dict) else {}


def _pointing_at(conv: ChatSession, saved: Any) -> dict:
    """The browser state with ``conv`` as the browser's current conversation."""
    return {**_browser_state(saved), "browser": conv.browser, "current": conv.id}


def _retry_after(exc: ApiError) -> int:
    return int((exc.headers or {}).get("Retry-After", "1"))
