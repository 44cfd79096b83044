"""One typed settings object for the whole product (pydantic-settings).

Values come from, in rising order of precedence: the defaults below, an `assistant.toml` file (the one named by
`ASSISTANT_CONFIG`, else `./assistant.toml`), environment variables `ASSISTANT_<FIELD>` (e.g. `ASSISTANT_TOP_K=8`),
and keyword arguments. The OpenAI client's own `OPENAI_API_KEY` / `OPENAI_BASE_URL` are honoured too. An empty
variable counts as unset; an unknown key in assistant.toml is an error that names it.

Where things live by default, so that an installed package never writes into site-packages: the index is found
as git finds its repository (`find_index`: `index/` here, else the nearest above, else the user's data folder);
the corpus indexed on first start is `seeds/` in the working directory when there is one, else the demo article
shipped inside the package; prompts are the package's own (`prompts/` at the top of a checkout, packaged as
`assistant/_prompts` in a wheel).
"""

from __future__ import annotations

import contextvars
import os
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, TomlConfigSettingsSource

PACKAGE = Path(__file__).resolve().parents[1]
PACKAGE_DATA = PACKAGE / "data"
_CONFIG_FILE: contextvars.ContextVar[Path | None] = contextvars.ContextVar("assistant_config_file", default=None)


def shipped(name: str) -> Path:
    """A folder shipped with the product: `prompts` or `seeds`. In a wheel it is package data
    (`assistant/_prompts`, mapped from the top-level folder by pyproject.toml); in a checkout or an editable
    install it is the top-level folder itself."""
    packaged = PACKAGE / f"_{name}"
    return packaged if packaged.is_dir() else PACKAGE.parent / name


def find_index() -> tuple[Path, str]:
    """Where the index is when ASSISTANT_INDEX_DIR (or assistant.toml, or an argument) does not say, found the way
    git finds its repository, as (folder, why): an `index/` folder in the working directory; else the nearest one
    above it that holds an index (or sits beside an assistant.toml); else `index` in the user's data folder
    (platformdirs), so that `assistant ask` run anywhere finds the same documents instead of starting afresh."""
    here = Path.cwd()
    if (here / "index").is_dir():
        return here / "index", "the index/ folder here"
    for folder in here.parents:
        index = folder / "index"
        if (folder / "assistant.toml").is_file():
            return index, f"beside {folder / 'assistant.toml'}"
        if (index / "chroma.sqlite3").is_file() or (index / ".write.lock").exists():
            return index, f"the nearest index/ folder above, in {folder}"
    import platformdirs

    return platformdirs.user_data_path("assistant") / "index", "none here or above: the one in your data folder"


def _default_index() -> Path:
    return find_index()[0]


def _default_corpus() -> Path:
    local = Path.cwd() / "seeds"
    return local if local.is_dir() else shipped("seeds")


def config_file() -> Path:
    """The assistant.toml in effect: the one `Settings.load(config_file=...)` names, else $ASSISTANT_CONFIG, else
    ./assistant.toml, else the nearest one above the working directory (none need exist)."""
    named = _CONFIG_FILE.get() or os.environ.get("ASSISTANT_CONFIG")
    if named:
        return Path(named)
    here = Path.cwd()
    return next((f / "assistant.toml" for f in (here, *here.parents) if (f / "assistant.toml").is_file()),
                here / "assistant.toml")


class _TomlSource(TomlConfigSettingsSource):
    """assistant.toml, with its relative folders taken from the file's own folder (it may be found above the
    working directory, see config_file)."""

    def __init__(self, settings_cls: type[BaseSettings], path: Path) -> None:
        super().__init__(settings_cls, toml_file=path)
        self._folder = Path(path).expanduser().resolve().parent

    def __call__(self) -> dict[str, Any]:
        data = super().__call__()
        for key in ("index_dir", "corpus_dir", "prompts_dir"):
            value = data.get(key)
            if isinstance(value, str) and value and not Path(value).expanduser().is_absolute():
                data[key] = str(self._folder / Path(value).expanduser())
        return data


def _none_if_blank(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


# One group of fields per concern. Settings is all of them at once (the names, the environment variables and the
# assistant.toml keys stay flat), and a part that reads only one concern can say so in its signature
# (`Limits.from_settings(settings: ReadingLimits)`). docs/configuration.md has one section per group, in the
# order of GROUPS.
class StorageSettings(BaseModel):
    """Where things live: the index, the documents indexed first, the prompts."""

    index_dir: Path = Field(default_factory=_default_index,
                            description="Folder of the persistent Chroma index. Default: index/ in the working "
                            "directory; else the nearest index/ above it (or the one beside an assistant.toml); else "
                            "index/ in the user's data folder. `assistant --index PATH` sets it for one command.")
    corpus_dir: Path = Field(default_factory=_default_corpus, description="Documents indexed when the index has never "
                             "been written (default: seeds/ in the working directory, else the shipped demo article).")
    collection: str = Field("paragraphs", description="Chroma collection name.")
    chroma_host: str | None = Field(None, description="Chroma server host; when set, index_dir is not used.")
    chroma_port: int = Field(8000, description="Chroma server port (with chroma_host).")
    prompts_dir: Path = Field(default_factory=lambda: shipped("prompts"), description="Folder of prompt templates "
                              "(*.txt); files it lacks fall back to the shipped ones.")
    eval_cache: Path | None = Field(
        None, description="Where `assistant eval` keeps an index per suite corpus (never your main index); default: "
        "assistant/eval in $XDG_CACHE_HOME, else in ~/.cache.")

    @field_validator("chroma_host", mode="before")
    @classmethod
    def _blank_host_is_none(cls, value: Any) -> Any:
        return _none_if_blank(value)

    @field_validator("index_dir", "corpus_dir", "prompts_dir", mode="after")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        """Relative folders are taken from the working directory once, when the settings are made."""
        return value.expanduser() if value.expanduser().is_absolute() else Path.cwd() / value.expanduser()


class RetrievalSettings(BaseModel):
    """Embeddings and retrieval: how paragraphs are embedded, ingested and found."""

    embedding: str = Field(
        "minilm",
        description="Embedding model: 'minilm' (offline ONNX all-MiniLM-L6-v2) or 'openai:<model>' "
        "(e.g. openai:text-embedding-3-small). Changing it needs a new index.",
    )
    embed_batch_size: int = Field(32, ge=1, description="Texts per embedding batch (sorted by length).")
    ingest_window: int = Field(
        4096, ge=1, description="Chunks an ingest sorts by length and embeds together (written in pieces of up to "
        "512 while the next are embedded): memory stays bounded for any file size.")
    local_chunks_warning: int = Field(
        100_000, ge=1, description="An ingest into a folder index (no chroma_host) that leaves more chunks than "
        "this says so: every process that opens a folder index holds its whole collection in memory, about 12 KB "
        "a chunk over some 330 MB, so 100,000 chunks is about 1.5 GB. A Chroma server (chroma_host) keeps the "
        "vector index out of the process.")
    follow_symlinks: bool = Field(
        False, description="Ingest: follow symbolic links that lead outside the ingested folder (off: they are "
        "reported and skipped). `assistant ingest --follow-symlinks` turns it on for one run.")
    top_k: int = Field(5, ge=1, le=50, description="Paragraphs handed to the answerer.")
    candidates: int = Field(30, ge=1, description="Candidates taken from each retriever before fusion.")
    hnsw_ef_search: int = Field(
        400, ge=10, description="Chroma HNSW search breadth. Higher is closer to exact search (and repeatable "
        "from one process to the next: with a narrow search, Chroma's approximate neighbours vary), a little slower.")
    rrf_k: int = Field(60, ge=1, description="Reciprocal-rank-fusion constant.")
    max_question_chars: int = Field(2000, ge=10, description="Longer questions are cut to this for retrieval.")


class AnsweringSettings(BaseModel):
    """Answering: the offline answerer's length and its decline and confidence thresholds."""

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


class LLMSettings(BaseModel):
    """LLM (answer_mode = 'llm'): the OpenAI-compatible server, its limits, prices and citation check."""

    openai_api_key: SecretStr | None = Field(
        None, validation_alias=AliasChoices("openai_api_key", "OPENAI_API_KEY"),
        description="API key (from OPENAI_API_KEY). Never logged.")
    openai_base_url: str | None = Field(
        None, validation_alias=AliasChoices("openai_base_url", "OPENAI_BASE_URL"), description="OpenAI-compatible server, e.g. http://localhost:11434/v1 for Ollama (OPENAI_BASE_URL)."
    )
    llm_model: str = Field("gpt-4o-mini", description="Chat model name.")
    llm_temperature: float = Field(0.0, ge=0.0, le=2.0, description="Sampling temperature.")
    llm_timeout: float = Field(60.0, gt=0, description="Seconds before one LLM request is abandoned; a stream that "
                               "sends nothing for this long has stalled.")
    llm_retries: int = Field(2, ge=0, le=10, description="Retries on timeouts, 429 and 5xx, with backoff.")
    llm_deadline: float | None = Field(
        None, gt=0, description="Seconds one question may spend on the LLM in all: every request, attempt and wait "
        "between retries, from its first LLM request (default: llm_timeout x (llm_retries + 1)). A server's "
        "Retry-After never extends it: a retry that could not start before the deadline is not made, each attempt's "
        "timeout is cut to the time left, and a stream still running at the deadline is stopped.")
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
        "(default: the value fitted by training/tune_citation_check.py)."
    )
    chat_history_file: Path | None = Field(
        None, description="Where `assistant chat` keeps the lines you typed (readline history; default: "
        "chat_history in the user's data folder, e.g. ~/.local/share/assistant/). Never inside the repository.")
    chat_max_turns: int = Field(
        6, ge=1, le=50, description="Most recent conversation turns used to rewrite a follow-up question."
    )

    @field_validator("openai_base_url", mode="before")
    @classmethod
    def _blank_url_is_none(cls, value: Any) -> Any:
        return _none_if_blank(value)

    @property
    def llm_deadline_seconds(self) -> float:
        """The question's LLM deadline in seconds (see llm_deadline)."""
        return self.llm_deadline or self.llm_timeout * (self.llm_retries + 1)


class ReadingLimits(BaseModel):
    """Reading files (every file, from the CLI, the Python API and uploads): what a file may cost."""

    max_file_mb: float = Field(200.0, gt=0, description="Largest file read, in MB on disk; larger files are "
                               "skipped with a reason. Uploads have their own, smaller max_upload_mb.")
    max_text_mb: float = Field(
        50.0, gt=0, description="Largest plain-text file (.txt .md .csv .tsv .html) read, in MB, and the most text "
        "one PDF may give (reading stops at the page that passes it). One such file is one document, held whole "
        "while it is indexed, and its chunks all go into the vector index that chromadb keeps in memory: a 50 MB "
        "text file peaked at 1.34 GB before the embedding arena was cut (now about 0.54 GB plus 2.7 MB per 1,000 chunks, "
        "i.e. ~0.8 GB; README 'Memory'). JSON Lines corpora (many documents) are "
        "bounded by max_file_mb only (see local_chunks_warning).")
    max_document_paragraphs: int = Field(
        100_000, gt=0, description="Most paragraphs one document may have (a file, or one JSON Lines record); "
        "more is refused with a reason. Every paragraph is a chunk in the vector index chromadb keeps in memory: "
        "about 2.7 KB each, after some 0.54 GB for the process (README 'Memory').")
    max_expanded_mb: float = Field(
        200.0, gt=0, description="Most a .docx/.pptx/.xlsx/.epub (a zip package) may expand to, all its parts "
        "together (pictures and media included), and most one compressed stream of a PDF may inflate to, in MB; "
        "checked before parsing.")
    max_xml_mb: float = Field(
        50.0, gt=0, description="Most the XML parts of a .docx/.pptx/.xlsx/.epub may expand to, in MB; checked "
        "before parsing. Parsed XML takes about 15x its size in memory (50 MB: about 0.8 GB at worst).")
    max_compression_ratio: float = Field(
        100.0, ge=1.0, description="Highest compression ratio of a part (1 MB or more) of a zip package, or of a "
        "PDF's compressed stream. Office XML and page contents compress about 3-30x; a zip or deflate bomb "
        "hundreds of times.")

    max_reader_mb: float = Field(
        768.0, gt=0, description="Memory a PDF's reader may use, in MB: PDFs are read in a child process capped "
        "at this much beyond its own start (about 200 MB), because pdfminer decodes every stream and the "
        "cross-reference table whole. A PDF that needs more is skipped with a reason. Reading one costs about "
        "5 MB per MB of text (max_text_mb's 50 MB: some 330 MB), laying out the fullest page allowed (100,000 "
        "characters) about 450 MB; with the ingest process beside it (~0.6 GB) the two stay under 1.5 GB.")
    max_read_seconds: float = Field(
        1800.0, gt=0, description="Longest a PDF may take to be read, in seconds; its reader is then stopped and "
        "the file skipped with a reason. pdfminer lays out some 20-60 KB of text a second on 2 cores, so a PDF "
        "near max_text_mb takes 15-40 minutes.")


class ServerSettings(BaseModel):
    """The server (page and API): where it listens, who may use it, uploads."""

    ui_host: str = Field("127.0.0.1", description="Address the server (page and API) binds to "
                         "(GRADIO_SERVER_NAME also works).")
    ui_port: int = Field(7860, description="Server port (GRADIO_SERVER_PORT also works).")
    ui_auth: str | None = Field(None, description="'user:password' to require a login for the web UI.")
    max_upload_mb: float = Field(20.0, gt=0, description="Largest file the web UI and POST /v1/documents accept.")
    orphan_upload_minutes: float = Field(
        10.0, gt=0, description="A file sent to the page's upload route that no upload handler took (a client "
        "talking to gradio directly) is deleted after this many minutes; it is never served in the meantime.")
    api_key: SecretStr | None = Field(
        None, description="Key the REST API (/v1) requires as `Authorization: Bearer <key>` (ASSISTANT_API_KEY); "
        "the page then asks for it as its login password, unless ui_auth sets the page's own login. Unset: /v1 is "
        "open, unless the page requires a login (ui_auth), in which case /v1 is closed. Never logged.")

    @field_validator("ui_auth", "api_key", mode="before")
    @classmethod
    def _blank_login_is_none(cls, value: Any) -> Any:
        return _none_if_blank(value)


GROUPS = (StorageSettings, RetrievalSettings, AnsweringSettings, LLMSettings, ReadingLimits, ServerSettings)


class Settings(BaseSettings, ServerSettings, ReadingLimits, LLMSettings, AnsweringSettings, RetrievalSettings,
               StorageSettings):
    """Everything a user can configure: the groups above, in one object. Every field says what it does."""

    model_config = SettingsConfigDict(env_prefix="ASSISTANT_", env_ignore_empty=True, extra="forbid",
                                      validate_assignment=True, populate_by_name=True)

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
                                   env_settings: PydanticBaseSettingsSource, dotenv_settings: PydanticBaseSettingsSource,
                                   file_secret_settings: PydanticBaseSettingsSource):
        """Arguments > environment > assistant.toml > defaults."""
        return init_settings, env_settings, _TomlSource(settings_cls, config_file())

    @classmethod
    def load(cls, config_file: str | Path | None = None, **overrides: Any) -> "Settings":
        """Defaults < assistant.toml (`config_file`, else $ASSISTANT_CONFIG, else ./assistant.toml) < environment <
        keyword arguments (None means "not given")."""
        token = _CONFIG_FILE.set(Path(config_file) if config_file else None)
        try:
            return cls(**{k: v for k, v in overrides.items() if v is not None})
        finally:
            _CONFIG_FILE.reset(token)

    @property
    def uses_chroma_server(self) -> bool:
        return bool(self.chroma_host)
