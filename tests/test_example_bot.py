"""The example Telegram bot against the real API server on loopback, without Telegram's network: the
Telegram side is python-telegram-bot itself with a stand-in transport that answers the Bot API calls."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import httpx
import pytest
from pydantic import SecretStr
from telegram import Update
from telegram.request import BaseRequest, RequestData

from assistant import Assistant
from assistant.api import create_api
from assistant.server import serve_in_thread
from tests.conftest import load_script

KEY = "khabar-bot-test-key-0c41e9"
WHY_SECRET = "لماذا لم يعلن عن الزيارة مسبقا؟"
GUARANTORS = "ما هي الدول الضامنة لمحادثات استانا؟"
WHO_WAS_ABSENT = "ومن غاب عنها؟"


def _load_bot():
    return load_script("examples/telegram_bot.py", "khabar_telegram_bot")


bot = _load_bot()


class FakeTelegram(BaseRequest):
    """Answers the Bot API methods the bot uses, recording every message it 'sends'."""

    def __init__(self) -> None:
        self.sent: list[dict] = []

    @property
    def read_timeout(self) -> float | None:
        return 5.0

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    async def do_request(self, url, method, request_data: RequestData | None = None, read_timeout=None,
                         write_timeout=None, connect_timeout=None, pool_timeout=None) -> tuple[int, bytes]:
        name = url.rsplit("/", 1)[-1]
        params = request_data.parameters if request_data else {}
        if name == "getMe":
            result = {"id": 1, "is_bot": True, "first_name": "Khabar", "username": "khabar_test_bot"}
        elif name == "sendMessage":
            self.sent.append(params)
            result = {"message_id": len(self.sent), "date": 1_700_000_000, "text": params["text"],
                      "chat": {"id": params["chat_id"], "type": "private"}}
        else:
            result = True
        return 200, json.dumps({"ok": True, "result": result}).encode()


def message_update(update_id: int, chat_id: int, text: str, language: str = "ar") -> dict:
    """A Telegram update carrying a user's text message (a command if it starts with '/')."""
    message = {"message_id": update_id, "date": 1_700_000_000, "text": text,
               "chat": {"id": chat_id, "type": "private"},
               "from": {"id": chat_id, "is_bot": False, "first_name": "Test", "language_code": language}}
    if text.startswith("/"):
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    return {"update_id": update_id, "message": message}


@pytest.fixture(scope="module")
def khabar_url(assistant) -> Iterator[str]:
    """The API alone, with a key, over the real assistant."""
    settings = assistant.settings.model_copy(update=dict(api_keys=[SecretStr(KEY)], rate_limit_per_minute=0))
    served = Assistant(settings, embedder=assistant.embedder, store=assistant.store, ingest_corpus=False)
    with serve_in_thread(create_api(served)) as url:
        yield url


def stored_turns(url: str, chat_id: int) -> int | None:
    """How many turns the server keeps for the chat, None if no conversation."""
    response = httpx.get(f"{url}/api/v1/conversations/telegram:{chat_id}",
                         headers={"Authorization": f"Bearer {KEY}"}, timeout=60)
    return len(response.json()["messages"]) if response.status_code == 200 else None


def test_reply_quotes_the_answer_and_lists_sources(khabar_url):
    async def run() -> tuple[str, str]:
        client = bot.KhabarClient(khabar_url, KEY)
        try:
            first = await bot.reply_for(client, 501, GUARANTORS)
            follow = await bot.reply_for(client, 501, WHO_WAS_ABSENT)  # same chat: same conversation
            return first, follow
        finally:
            await client.aclose()

    first, follow = asyncio.run(run())
    assert "تركيا وروسيا وإيران" in first
    assert "<b>المصادر</b>" in first and "\n[1] <i>" in first
    assert "الولايات المتحدة" in follow  # understood only with the chat's earlier question
    assert stored_turns(khabar_url, 501) == 4


def test_a_chat_whose_conversation_the_server_forgot_is_told_so(khabar_url):
    async def run() -> tuple[str, str, str]:
        client = bot.KhabarClient(khabar_url, KEY)
        try:
            first = await bot.reply_for(client, 502, GUARANTORS)
            # The server forgets the conversation behind the bot's back (as it does after the idle time).
            httpx.delete(f"{khabar_url}/api/v1/conversations/telegram:502",
                         headers={"Authorization": f"Bearer {KEY}"}, timeout=60)
            after = await bot.reply_for(client, 502, WHO_WAS_ABSENT)
            again = await bot.reply_for(client, 502, GUARANTORS)
            return first, after, again
        finally:
            await client.aclose()

    first, after, again = asyncio.run(run())
    expired = bot.LABELS["ar"]["expired"]
    assert expired not in first  # a chat's first question is no news
    assert after.startswith(expired)
    assert expired not in again


def test_telegram_handlers_answer_and_reset_through_python_telegram_bot(khabar_url):
    telegram = FakeTelegram()

    async def run() -> None:
        client = bot.KhabarClient(khabar_url, KEY)
        application = bot.build_application("123456:TEST-TOKEN", client, request=telegram,
                                            get_updates_request=FakeTelegram())
        async with application:  # initialize ... shutdown, without polling Telegram
            await application.process_update(Update.de_json(message_update(1, 4242, WHY_SECRET),
                                                            application.bot))
            assert stored_turns(khabar_url, 4242) == 2
            await application.process_update(Update.de_json(message_update(2, 4242, "/reset"),
                                                            application.bot))
            assert stored_turns(khabar_url, 4242) is None
            await application.process_update(Update.de_json(message_update(3, 4242, "/reset", "en"),
                                                            application.bot))
        await client.aclose()  # post_shutdown, which closes it, only runs with run_polling()

    asyncio.run(run())
    answer, reset, nothing = telegram.sent
    assert answer["chat_id"] == 4242 and answer["parse_mode"] == "HTML"
    assert "لدواع أمنية" in answer["text"] and "<b>المصادر</b>" in answer["text"]
    assert reset["text"] == bot.LABELS["ar"]["reset"]
    assert nothing["text"] == bot.LABELS["en"]["nothing"]


def test_api_errors_become_friendly_replies(khabar_url, assistant):
    async def wrong_key() -> str:
        client = bot.KhabarClient(khabar_url, "not-the-key")
        try:
            return await bot.reply_for(client, 7, WHY_SECRET)
        finally:
            await client.aclose()

    reply = asyncio.run(wrong_key())
    assert reply.startswith("⚠️ تعذّرت الإجابة") and "not valid" in reply

    settings = assistant.settings.model_copy(update=dict(api_keys=[], rate_limit_per_minute=1))
    limited = Assistant(settings, embedder=assistant.embedder, store=assistant.store, ingest_corpus=False)

    async def too_fast(url: str) -> list[str]:
        client = bot.KhabarClient(url)
        try:
            return [await bot.reply_for(client, 8, "Why was the visit not announced?") for _ in range(2)]
        finally:
            await client.aclose()

    with serve_in_thread(create_api(limited)) as url:
        answered, refused = asyncio.run(too_fast(url))
    assert "<b>Sources</b>" in answered
    assert refused.startswith("⚠️ No answer") and "Try again in" in refused
