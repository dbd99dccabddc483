"""The LangChain seams are real: the assistant's retriever composes into a chain of one's own, and the
embedding model serves as LangChain ``Embeddings`` in any vector store."""

from __future__ import annotations

from langchain_core.documents import Document
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnablePassthrough
from langchain_core.vectorstores import InMemoryVectorStore


def test_the_retriever_composes_into_a_users_own_chain(fake_assistant):
    seen: dict[str, str] = {}

    def context(documents: list[Document]) -> str:
        seen["context"] = "\n".join(d.page_content for d in documents)
        return seen["context"]

    prompt = ChatPromptTemplate.from_messages([("human", "Context:\n{context}\n\nQuestion: {question}")])
    llm = GenericFakeChatModel(messages=iter([AIMessage(content="Turkey, Russia and Iran.")]))
    chain = ({"context": fake_assistant.retriever | context, "question": RunnablePassthrough()}
             | prompt | llm | StrOutputParser())
    assert chain.invoke("الدول الضامنة لمحادثات أستانا") == "Turkey, Russia and Iran."
    assert "تركيا وروسيا وإيران" in seen["context"]  # the retriever's passages reached the prompt

    documents = fake_assistant.retriever.invoke("الدول الضامنة لمحادثات أستانا")
    assert len(documents) == fake_assistant.settings.top_k
    top = documents[0]
    assert top.id == top.metadata["id"] and top.metadata["article_id"] == "assad-putin-sochi"
    assert top.metadata["score"] >= documents[-1].metadata["score"]


def test_the_embedding_model_is_a_langchain_embeddings(embedder):
    store = InMemoryVectorStore(embedding=embedder)
    store.add_texts(["قالت الحكومة إن الزيارة لم يعلن عنها لدواع أمنية.",
                     "سجل الفريق ثلاثة أهداف في المباراة."])
    [hit] = store.similarity_search("Why was the visit kept secret?", k=1)
    assert "لدواع أمنية" in hit.page_content  # cross-language: English question, Arabic sentence
