"""Khabar on Telegram: each chat is a Khabar conversation, and every answer comes with its sources.

    export TELEGRAM_BOT_TOKEN=123456:ABC...          # from @BotFather
    export KHABAR_API_URL=http://127.0.0.1:7860      # a running Khabar server (python app.py)
    export KHABAR_API_KEY=...                        # only if the server sets KHABAR_API_KEYS
    python examples/telegram_bot.py

Needs ``python-telegram-bot`` (v22) and ``httpx``. The bot logic (:func:`reply_for`, :func:`reset_for`) is
plain async code over :class:`KhabarClient`; the Telegram handlers only pass messages in and replies out.
"""

from __future__ import annotations

import html
import logging
import os
import re
from typing import Any

import httpx
from telegram import Update
from telegram.constants import MessageLimit, ParseMode
from telegram.ext import Application, CommandHandler, ContextTypes, MessageHandler, filters
from telegram.request import BaseRequest

log = logging.getLogger("khabar.telegram")

#: Characters of each cited passage shown under an answer.
QUOTE_CHARS = 280

LABELS = {
    "ar": {"sources": "المصادر", "failed": "تعذّرت الإجابة", "retry": "حاول مجددا بعد {seconds} ثانية.",
           "reset": "بدأنا محادثة جديدة.", "nothing": "لا توجد محادثة سابقة.",
           "expired": "(انتهت محادثتنا السابقة بعد فترة من عدم النشاط، فهذا سؤال جديد.)",
           "start": "أرسل سؤالا عن المقال، بالعربية أو بالإنجليزية. /reset يبدأ محادثة جديدة."},
    "en": {"sources": "Sources", "failed": "No answer", "retry": "Try again in {seconds} s.",
           "reset": "Started a new conversation.", "nothing": "There was no conversation to forget.",
           "expired": "(Our earlier conversation expired after a while without use: this starts a new one.)",
           "start": "Send a question about the article, in Arabic or English. /reset starts over."},
}
_ARABIC = re.compile(r"[\u0600-\u06FF]")


def language_of(text: str) -> str:
    """``ar`` if the text has Arabic letters, else ``en`` (only for the bot's own labels)."""
    return "ar" if _ARABIC.search(text or "") else "en"


def conversation_id(chat_id: int | str) -> str:
    """The Khabar conversation of a Telegram chat."""
    return f"telegram:{chat_id}"


class KhabarApiError(Exception):
    """An error answer of the Khabar API (its ``error.code`` and ``error.message``)."""

    def __init__(self, status: int, code: str, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.retry_after = status, code, message, retry_after


class KhabarClient:
    """The calls the bot makes to the Khabar HTTP API."""

    def __init__(self, base_url: str, api_key: str | None = None, *, timeout: float = 120.0) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.http = httpx.AsyncClient(base_url=base_url.rstrip("/") + "/api/v1", headers=headers,
                                      timeout=timeout)
        #: Chats answered since the bot started: when the server starts a new conversation for one of them,
        #: the earlier turns were forgotten (idle too long), and the user is told.
        self.answered: set[str] = set()

    async def ask(self, chat_id: int | str, question: str) -> dict[str, Any]:
        """The answer to ``question`` in the chat's conversation (the server keeps the history)."""
        response = await self.http.post("/ask", json={"question": question,
                                                      "conversation_id": conversation_id(chat_id)})
        _raise_for_error(response)
        return response.json()

    async def forget(self, chat_id: int | str) -> bool:
        """Delete the chat's conversation; False if there was none."""
        self.answered.discard(conversation_id(chat_id))
        response = await self.http.delete(f"/conversations/{conversation_id(chat_id)}")
        if response.status_code == 404:
            return False
        _raise_for_error(response)
        return True

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        await self.http.aclose()


def _raise_for_error(response: httpx.Response) -> None:
    if response.is_success:
        return
    try:
        error = response.json()["error"]
        code, message = error["code"], error["message"]
    except (ValueError, KeyError, TypeError):
        code, message = f"http_{response.status_code}", response.reason_phrase
    retry = response.headers.get("Retry-After", "")
    raise KhabarApiError(response.status_code, code, message, int(retry) if retry.isdigit() else None)


def render_answer(answer: dict[str, Any]) -> str:
    """The answer as Telegram HTML: the text, then its numbered sources, within Telegram's length limit."""
    labels = LABELS.get(answer.get("language"), LABELS["en"])
    text = html.escape(answer["answer"])
    citations = answer.get("citations") or []
    if not citations:
        return text[:MessageLimit.MAX_TEXT_LENGTH]
    lines = [text, "", f"<b>{labels['sources']}</b>"]
    for citation in citations:
        quote = citation.get("quote") or citation["text"]
        if len(quote) > QUOTE_CHARS:
            quote = quote[:QUOTE_CHARS].rsplit(" ", 1)[0] + " …"
        line = f"[{citation['n']}] <i>{html.escape(quote)}</i>"
        if len("\n".join([*lines, line])) > MessageLimit.MAX_TEXT_LENGTH:
            break
        lines.append(line)
    return "\n".join(lines)[:MessageLimit.MAX_TEXT_LENGTH]


def render_error(error: KhabarApiError, language: str) -> str:
    """A short, friendly message for an API error."""
    labels = LABELS[language]
    message = f"⚠️ {labels['failed']}: {html.escape(error.message)}"
    if error.retry_after:
        message += "\n" + labels["retry"].format(seconds=error.retry_after)
    return message


async def reply_for(client: KhabarClient, chat_id: int | str, text: str) -> str:
    """The bot's reply (Telegram HTML) to a user's message."""
    try:
        answer = await client.ask(chat_id, text)
    except KhabarApiError as error:
        log.warning("Khabar API error %s for chat %s: %s", error.code, chat_id, error.message)
        return render_error(error, language_of(text))
    chat = conversation_id(chat_id)
    reply = render_answer(answer)
    if answer.get("new_conversation") and chat in client.answered:
        reply = f"{LABELS[language_of(text)]['expired']}\n\n{reply}"[:MessageLimit.MAX_TEXT_LENGTH]
    client.answered.add(chat)
    return reply


async def reset_for(client: KhabarClient, chat_id: int | str, language: str = "en") -> str:
    """Forget the chat's conversation; the reply says whether there was one."""
    try:
        forgotten = await client.forget(chat_id)
    except KhabarApiError as error:
        return render_error(error, language)
    return LABELS[language]["reset" if forgotten else "nothing"]


# --- Telegram glue ---------------------------------------------------------------------------------------
def _client(context: ContextTypes.DEFAULT_TYPE) -> KhabarClient:
    return context.bot_data["khabar"]


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A user's message: forward it to Khabar, answer with the reply."""
    message = update.effective_message
    reply = await reply_for(_client(context), update.effective_chat.id, message.text)
    await message.reply_text(reply, parse_mode=ParseMode.HTML, disable_web_page_preview=True)


async def on_reset(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/reset: start a new conversation."""
    user = update.effective_user
    language = "ar" if user and (user.language_code or "").startswith("ar") else "en"
    reply = await reset_for(_client(context), update.effective_chat.id, language)
    await update.effective_message.reply_text(reply)


async def on_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/start: say what the bot does, in both languages."""
    await update.effective_message.reply_text(f"{LABELS['ar']['start']}\n\n{LABELS['en']['start']}")


def build_application(token: str, client: KhabarClient, *, request: BaseRequest | None = None,
                      get_updates_request: BaseRequest | None = None) -> Application:
    """The Telegram application with the bot's handlers; ``request`` objects replace Telegram's network
    (tests pass stand-ins)."""
    builder = Application.builder().token(token)
    if request is not None:
        builder = builder.request(request)
    if get_updates_request is not None:
        builder = builder.get_updates_request(get_updates_request)

    async def close_client(_: Application) -> None:
        await client.aclose()

    application = builder.post_shutdown(close_client).build()
    application.bot_data["khabar"] = client
    application.add_handler(CommandHandler("start", on_start))
    application.add_handler(CommandHandler("reset", on_reset))
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, on_text))
    return application


def main() -> None:
    """Run the bot with long polling until interrupted."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # its request lines would show the bot token
    client = KhabarClient(os.environ.get("KHABAR_API_URL", "http://127.0.0.1:7860"),
                          os.environ.get("KHABAR_API_KEY") or None)
    build_application(os.environ["TELEGRAM_BOT_TOKEN"], client).run_polling()


if __name__ == "__main__":
    main()
