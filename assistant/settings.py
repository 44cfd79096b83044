"""One typed settings object for the whole product.

Values come from, in rising order of precedence: the defaults below, an `assistant.toml` file (the one named by
`ASSISTANT_CONFIG`, else `./assistant.toml`), environment variables `ASSISTANT_<FIELD>` (e.g. `ASSISTANT_TOP_K=8`),
and keyword arguments. The OpenAI client's own `OPENAI_API_KEY` / `OPENAI_BASE_URL` are honoured too.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, SecretStr, field_validator

PROJECT_ROOT = Path(__file__).resolve().parents[1]
PACKAGE_DATA = Path(__file__).resolve().parent / "data"

# Settings read from variables that other tools already define, not from ASSISTANT_*.
_FOREIGN_ENV = {"openai_api_key": "OPENAI_API_KEY", "openai_base_url": "OPENAI_BASE_URL"}


class Settings(BaseModel):
    """Everything a user can configure. Every field says what it does."""

    model_config = {"validate_assignment": True, "extra": "forbid"}

    # --- where things live -------------------------------------------------------------------------
    index_dir: Path = Field(PROJECT_ROOT / "index", description="Folder of the persistent Chroma index.")
    corpus_dir: Path = Field(PROJECT_ROOT / "seeds", description="Documents indexed when the index is empty.")
    collection: str = Field("paragraphs", description="Chroma collection name.")
    chroma_host: str | None = Field(None, description="Chroma server host; when set, index_dir is not used.")
    chroma_port: int = Field(8000, description="Chroma server port (with chroma_host).")
    prompts_dir: Path = Field(PROJECT_ROOT / "prompts", description="Folder of prompt templates (*.txt).")

    # --- embeddings and retrieval ---------------------------------------------------------------------
    embedding: str = Field(
        "minilm",
        description="Embedding model: 'minilm' (offline ONNX all-MiniLM-L6-v2) or 'openai:<model>' "
        "(e.g. openai:text-embedding-3-small). Changing it needs a new index.",
    )
    embed_batch_size: int = Field(32, ge=1, description="Texts per embedding batch (sorted by length).")
    top_k: int = Field(5, ge=1, le=50, description="Paragraphs handed to the answerer.")
    candidates: int = Field(30, ge=1, description="Candidates taken from each retriever before fusion.")
    hnsw_ef_search: int = Field(
        400, ge=10, description="Chroma HNSW search breadth. Higher is closer to exact search (and repeatable "
        "from one process to the next: with a narrow search, Chroma's approximate neighbours vary), a little slower.")
    rrf_k: int = Field(60, ge=1, description="Reciprocal-rank-fusion constant.")
    max_question_chars: int = Field(2000, ge=10, description="Longer questions are cut to this for retrieval.")

    # --- answering ------------------------------------------------------------------------------------
    answer_mode: Literal["offline", "llm"] = Field(
        "offline", description="'offline': extractive answers from the documents; 'llm': an OpenAI-compatible model."
    )
    max_answer_sentences: int = Field(3, ge=1, le=10, description="Offline answerer: most sentences quoted.")
    decline_threshold: float | None = Field(
        None, ge=0.0, le=1.0, description="Offline answerer: decline when the confidence (the estimated probability "
        "that the documents answer the question) is below this. Default: the operating point fitted with the "
        "answerer's weights (assistant/data/answerer.json). Higher declines more, and more answerable questions too."
    )
    confident_threshold: float | None = Field(
        None, ge=0.0, le=1.0, description="Answers with a confidence below this (and above the decline threshold) "
        "are labelled 'weakly supported'. Default: the value fitted with the answerer's weights."
    )

    # --- LLM (answer_mode = 'llm') ---------------------------------------------------------------------
    openai_api_key: SecretStr | None = Field(None, description="API key (from OPENAI_API_KEY). Never logged.")
    openai_base_url: str | None = Field(
        None, description="OpenAI-compatible server, e.g. http://localhost:11434/v1 for Ollama (OPENAI_BASE_URL)."
    )
    llm_model: str = Field("gpt-4o-mini", description="Chat model name.")
    llm_temperature: float = Field(0.0, ge=0.0, le=2.0, description="Sampling temperature.")
    llm_timeout: float = Field(60.0, gt=0, description="Seconds before one LLM request is abandoned.")
    llm_retries: int = Field(2, ge=0, le=10, description="Retries on timeouts, 429 and 5xx, with backoff.")
    llm_context_window: int = Field(16000, ge=512, description="Model context window in tokens.")
    llm_max_answer_tokens: int = Field(600, ge=16, description="Tokens reserved for the answer.")
    llm_backoff: float = Field(
        0.5, ge=0.0, le=30.0, description="Seconds before the first retry; doubles each retry (Retry-After wins)."
    )
    llm_tokenizer: str | None = Field(
        None, description="tiktoken encoding for counting prompt tokens (default: the model's own, else "
        "cl100k_base, an estimate for non-OpenAI models). Offline: cl100k_base or o200k_base."
    )
    llm_input_price: float | None = Field(
        None, ge=0.0, description="USD per million prompt tokens; default: the built-in price list (else no cost)."
    )
    llm_output_price: float | None = Field(
        None, ge=0.0, description="USD per million completion tokens; default: the built-in price list."
    )
    citation_policy: Literal["flag", "drop"] = Field(
        "flag", description="LLM answers: 'flag' keeps unsupported citations marked verified=False; 'drop' "
        "removes them from the text and the list."
    )
    citation_threshold: float | None = Field(
        None, ge=0.0, le=1.0, description="Support probability a citation needs to count as verified "
        "(default: the value fitted by benchmarks/citation_check.py --tune)."
    )
    chat_max_turns: int = Field(
        6, ge=1, le=50, description="Most recent conversation turns used to rewrite a follow-up question."
    )

    # --- UI -------------------------------------------------------------------------------------------
    ui_host: str = Field("127.0.0.1", description="Address the web UI binds to (GRADIO_SERVER_NAME also works).")
    ui_port: int = Field(7860, description="Web UI port (GRADIO_SERVER_PORT also works).")
    ui_auth: str | None = Field(None, description="'user:password' to require a login for the web UI.")
    max_upload_mb: float = Field(20.0, gt=0, description="Largest file the web UI accepts.")

    @field_validator("chroma_host", "openai_base_url", "ui_auth", mode="before")
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @classmethod
    def load(cls, config_file: str | Path | None = None, **overrides: Any) -> "Settings":
        """Defaults < assistant.toml < environment < keyword arguments."""
        values: dict[str, Any] = {}
        path = Path(config_file or os.environ.get("ASSISTANT_CONFIG", "assistant.toml"))
        if path.is_file():
            with path.open("rb") as fh:
                values.update(tomllib.load(fh))
        for name in cls.model_fields:
            env_name = _FOREIGN_ENV.get(name, f"ASSISTANT_{name.upper()}")
            if os.environ.get(env_name) not in (None, ""):
                values[name] = os.environ[env_name]
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    @property
    def uses_chroma_server(self) -> bool:
        return bool(self.chroma_host)
