"""Generative mode: prompt wiring, verification of generated answers, the extractive fallback, and the
local GGUF model served by xllamacpp (``-m slow``).

Fast tests use a fake chat model (the only fake here) behind the real Assistant, embedding model and
Chroma store; the slow ones run the real Qwen model on this CPU.
"""

from __future__ import annotations

import socket
import threading
import urllib.error
import urllib.request

import pytest
from article_passages import GIVEN, P_KREMLIN, P_RAMADAN, P_SECURITY, P_SHIPS, scored
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, BaseMessage

from assistant import Assistant, Message
from assistant.answer.base import Generated, Rejected
from assistant.answer.generative import GenerativeAnswerer, number_documents
from assistant.retrieve.hybrid import to_document
from assistant.textnorm import detect_language

SECURITY = "لدواع أمنية"
EN_FLAGSHIP = "Why was the visit not announced in advance?"
AR_FLAGSHIP = "لماذا لم يعلن عن الزيارة مسبقا؟"



class RecordingFakeChat(GenericFakeChatModel):
    """LangChain's fake chat model, also keeping the prompts it was sent (to check the wiring)."""

    prompts: list[list[BaseMessage]]

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        self.prompts.append(list(messages))
        return super()._generate(messages, stop=stop, run_manager=run_manager, **kwargs)


def fake(*replies: str) -> RecordingFakeChat:
    return RecordingFakeChat(messages=iter(AIMessage(content=r) for r in replies), prompts=[])


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def with_llm(make_settings, embedder, assistant):
    """An Assistant on the shared index whose generative answerer uses the given chat model."""

    def make(llm) -> Assistant:
        settings = make_settings()
        answerer = GenerativeAnswerer(settings, llm=llm, embedder=embedder)
        return Assistant(settings, embedder=embedder, store=assistant.store, generator=answerer,
                         ingest_corpus=False)

    return make


def number_of(assistant: Assistant, question: str, needle: str) -> int:
    """The prompt number [n] the passage containing ``needle`` gets for ``question``."""
    ranked = assistant.retriever.retrieve(question).passages
    return next(n for n, s in enumerate(ranked[:5], 1) if needle in s.passage.text)


def streamed(assistant: Assistant, question: str, **kwargs):
    chunks, final = [], None
    for item in assistant.stream(question, mode="generative", **kwargs):
        if isinstance(item, str):
            chunks.append(item)
        else:
            final = item
    return "".join(chunks), final


# --- the answerer on its own -------------------------------------------------------------------------------
def test_answerer_is_lazy_and_builds_a_numbered_prompt(make_settings):
    answerer = GenerativeAnswerer(make_settings())
    assert answerer._server is None and answerer._llm is None  # nothing started by construction
    history = [Message(role="user", content="أين التقى الأسد بوتين؟")]
    values = {"passages": number_documents([to_document(p) for p in GIVEN]), "question": AR_FLAGSHIP,
              "history": answerer._history_block(history, "ar")}
    messages = answerer.prompt("ar").format_messages(**values)
    assert messages[0].type == "system" and "[2]" in messages[0].content
    assert f"[2] {P_SECURITY}" in messages[1].content
    assert "أين التقى الأسد بوتين؟" in messages[1].content
    assert AR_FLAGSHIP in messages[1].content
    english = answerer.prompt("en").format_messages(
        passages=number_documents([to_document(p) for p in GIVEN]), question=EN_FLAGSHIP, history="")
    assert "English" in english[0].content and f"[3] {P_SHIPS}" in english[1].content


def test_stream_yields_the_model_text_then_one_verified_result(make_settings):
    answerer = GenerativeAnswerer(make_settings(), llm=fake("Putin met Assad in Sochi [1]. Sochi [9]."))
    items = list(answerer.stream("Where did they meet?", "en", [], GIVEN))
    final = items[-1]
    assert isinstance(final, Generated) and all(isinstance(i, str) for i in items[:-1])
    assert "".join(items[:-1]) == "Putin met Assad in Sochi [1]. Sochi [9]."  # as written, token by token
    assert final.text == "Putin met Assad in Sochi [1]. Sochi."  # verified: the marker to no passage goes
    assert "generate" in final.timings and "verify" in final.timings
    assert final.citations[0].passage_id == "t#p0"
    assert final.citations[0].quote == P_KREMLIN


# --- through the real Assistant --------------------------------------------------------------------------
def test_arabic_flagship_with_generated_answer(with_llm, assistant):
    n = number_of(assistant, AR_FLAGSHIP, SECURITY)
    llm = fake(f"لم يعلن عن الزيارة مسبقا لدواع أمنية على ما يبدو [{n}].")
    helper = with_llm(llm)
    text, answer = streamed(helper, AR_FLAGSHIP)
    assert answer.mode == "generative", answer.note
    assert text == answer.answer == "لم يعلن عن الزيارة مسبقا لدواع أمنية على ما يبدو [1]."
    assert len(answer.citations) == 1 and SECURITY in answer.citations[0].text
    # The supporting span is the passage sentence with the answer, at its offsets in the article.
    article = helper.article(answer.citations[0].article_id)
    citation = answer.citations[0]
    assert SECURITY in citation.quote
    assert article.text[citation.span.start:citation.span.end] == citation.quote
    assert {"generate", "verify"} <= answer.timings.keys()
    # The model saw the passages numbered, in Arabic instructions.
    prompt = llm.prompts[0][1].content
    assert f"[{n}] " in prompt and SECURITY in prompt and "السؤال" in prompt


def test_citation_to_a_passage_not_given_is_dropped(with_llm, assistant):
    n = number_of(assistant, EN_FLAGSHIP, SECURITY)
    reply = f"The visit was not announced in advance, apparently for security reasons [{n}] [9]."
    helper = with_llm(fake(reply))
    answer = helper.ask(EN_FLAGSHIP, mode="generative")
    assert answer.mode == "generative", answer.note
    assert answer.answer == "The visit was not announced in advance, apparently for security reasons [1]."
    assert "[9]" in answer.note
    assert SECURITY in answer.citations[0].text


def test_cancel_stops_the_model_and_falls_back(with_llm, assistant):
    n = number_of(assistant, AR_FLAGSHIP, SECURITY)
    helper = with_llm(fake(f"لم يعلن عن الزيارة مسبقا لدواع أمنية على ما يبدو [{n}]."))
    cancel = threading.Event()
    cancel.set()  # the client left before the first token
    text, answer = streamed(helper, AR_FLAGSHIP, cancel=cancel)
    assert answer.mode == "fallback"
    assert answer.note.startswith("cancelled")
    assert text == answer.answer == assistant.ask(AR_FLAGSHIP).answer


def test_invented_number_falls_back_to_the_extractive_answer(with_llm, assistant):
    question = "How many warships does Moscow plan to deploy?"
    n = number_of(assistant, question, "102")
    helper = with_llm(fake(f"Moscow plans to deploy about 120 warships [{n}]."))
    answer = helper.ask(question, mode="generative")
    extractive = assistant.ask(question, mode="extractive")
    assert answer.mode == "fallback"
    assert "120" in answer.note
    assert answer.answer == extractive.answer
    assert [c.passage_id for c in answer.citations] == [c.passage_id for c in extractive.citations]


@pytest.mark.parametrize(("question", "decline"), [
    (EN_FLAGSHIP, "The article does not answer this question."),
    (AR_FLAGSHIP, "لا يجيب المقال عن هذا السؤال."),
])
def test_decline_although_retrieval_is_confident_falls_back(with_llm, question, decline):
    answer = with_llm(fake(decline)).ask(question, mode="generative")
    assert answer.mode == "fallback"
    assert "does not answer" in answer.note
    assert SECURITY in answer.answer  # the extractive answer quotes the article
    assert answer.language == detect_language(question)


@pytest.mark.parametrize(("closeness", "passes"), [(None, True), (0.5, False)])
def test_decline_is_judged_by_closeness_when_given(make_settings, embedder, closeness, passes):
    # The passage alone is far (0.2, under the 0.33 threshold), so a decline passes; when its closest
    # sentence brought the question over the threshold (closeness 0.5), the answerer may not decline.
    answerer = GenerativeAnswerer(make_settings(), embedder=embedder,
                                  llm=fake("The article does not answer this question."))
    final = list(answerer.stream("Where did they meet?", "en", [], [scored(P_KREMLIN, 0, dense=0.2)],
                                 closeness=closeness))[-1]
    if passes:
        assert isinstance(final, Generated) and not final.citations
    else:
        assert isinstance(final, Rejected) and final.reason == "rejected"


def test_model_server_down_falls_back_with_a_note(make_settings, embedder, assistant):
    settings = make_settings(llm_base_url=f"http://127.0.0.1:{closed_port()}/v1", llm_timeout=5)
    helper = Assistant(settings, embedder=embedder, store=assistant.store, ingest_corpus=False)
    text, answer = streamed(helper, EN_FLAGSHIP)
    assert answer.mode == "fallback"
    assert answer.fallback_reason == "llm_unavailable"
    assert answer.note.startswith("the language model is unavailable")
    assert text == answer.answer and SECURITY in answer.answer
    # A follow-up cannot be condensed either: the previous question supplies the context instead.
    history = [Message(role="user", content="Where did Assad meet Putin?"),
               Message(role="assistant", content="In Sochi [1].")]
    follow = helper.ask("And which round of talks had just ended there?", history, mode="generative")
    assert follow.mode == "fallback"
    assert follow.search_query == "Where did Assad meet Putin? And which round of talks had just ended there?"
    helper.close()


def test_follow_up_is_condensed_by_the_model(with_llm, assistant):
    n = number_of(assistant, "Which round of the Astana talks had just ended?", "التاسعة")
    llm = fake("Which round of the Astana talks had just ended?",
               f"The ninth round of the Astana talks had just ended [{n}].")
    history = [Message(role="user", content="Where were the Astana talks held?"),
               Message(role="assistant", content="In Astana [1].")]
    answer = with_llm(llm).ask("Which round had just ended there?", history, mode="generative")
    assert answer.search_query == "Which round of the Astana talks had just ended?"
    assert "Where were the Astana talks held?" in llm.prompts[0][0].content
    assert answer.mode == "generative", answer.note
    assert "التاسعة" in answer.citations[0].text


# --- the real local model (xllamacpp) -----------------------------------------------------------------------
@pytest.fixture(scope="session")
def local_assistant(make_settings, embedder, assistant):
    """An Assistant whose generative answerer starts the local GGUF itself (one server per session)."""
    settings = make_settings(llm_max_tokens=64)
    helper = Assistant(settings, embedder=embedder, store=assistant.store, ingest_corpus=False)
    yield helper
    server = helper.generator()._server
    address = server.base_url.removesuffix("/v1") if server is not None and server.running else None
    helper.close()
    if address:
        with pytest.raises(urllib.error.URLError):
            urllib.request.urlopen(address + "/health", timeout=5)


@pytest.mark.slow
@pytest.mark.parametrize("question", [EN_FLAGSHIP, AR_FLAGSHIP])
def test_local_model_answers_the_flagship_question(local_assistant, question):
    text, answer = streamed(local_assistant, question)
    server = local_assistant.generator()._server
    assert server is not None and server.running and server.base_url.startswith("http://127.0.0.1:")
    assert answer.mode in ("generative", "fallback")
    assert text == answer.answer
    assert answer.language == detect_language(question)
    assert any(SECURITY in c.text for c in answer.citations), (answer.mode, answer.answer, answer.note)
    assert answer.fallback_reason != "llm_unavailable"  # the local model really answered
    if question == AR_FLAGSHIP:
        # Measured: the local model answers the Arabic flagship with a verified, cited sentence.
        assert answer.mode == "generative", answer.note
    if answer.mode == "generative":
        assert detect_language(answer.answer) == answer.language
        assert "generate" in answer.timings
    else:
        assert answer.note


@pytest.mark.slow
def test_local_model_answer_rejected_by_verification(local_assistant):
    # Retrieval claims confidence, but none of the passages says how many warships Moscow plans: whatever
    # the model does (a number, a name, a refusal, no citation), the answer must not pass as generative.
    given = [scored(P_SECURITY, 0, dense=0.6), scored(P_RAMADAN, 1, dense=0.55)]
    items = list(local_assistant.generator().stream(
        "How many warships does Moscow plan to deploy in the Mediterranean?", "en", [], given))
    final = items[-1]
    assert isinstance(final, Rejected), final
    assert final.reason == "rejected" and final.detail  # rejected by verification, not unreachable


@pytest.mark.parametrize(("every_word", "mode"), [(True, "rejected"), (False, "verified")])
def test_every_word_setting_decides_whether_an_unmatched_english_word_passes(make_settings, embedder,
                                                                             every_word, mode):
    # "northern" for «جنوب»: no name, number or negation differs, only the word-by-word check sees it.
    answerer = GenerativeAnswerer(make_settings(verify_every_word=every_word), embedder=embedder,
                                  llm=fake("Putin met Assad in Sochi in northern Russia [1]."))
    final = list(answerer.stream("Where did they meet?", "en", [], [scored(P_KREMLIN, 0)]))[-1]
    if mode == "rejected":
        assert isinstance(final, Rejected) and "'northern'" in final.detail
    else:
        assert isinstance(final, Generated) and "northern" in final.text
