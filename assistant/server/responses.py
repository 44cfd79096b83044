"""What the API's routes return, as pydantic models: FastAPI checks each response against its model and /docs
shows them. The shapes are those of `assistant ask --json` (types.Answer.to_dict) and of OpenAI's chat
completions, plus our extensions (citations, refused, notes, confidence, support, uncovered). A streamed reply is
server-sent events; its events carry these same objects (an `answer` event an AnswerResponse)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class CitationOut(BaseModel):
    marker: int = Field(description="The number in the answer's [n]")
    doc_id: str
    title: str
    paragraph: int = Field(description="¶n: 1-based, in reading order")
    text: str = Field(description="The cited paragraph")
    quote: str = Field(description="The span of the paragraph that supports the statement")
    score: float
    verified: bool | None = Field(description="LLM mode: whether the citation check found support; None offline")
    page: int | None = Field(description="PDFs: the paragraph's page")


class ContextOut(BaseModel):
    doc_id: str
    title: str
    paragraph: int
    page: int | None
    text: str
    score: float = Field(description="Reciprocal-rank-fusion score of the retrieved paragraph")


class SpanOut(BaseModel):
    text: str = Field(description="The exact answer the reader marked")
    doc_id: str
    paragraph: int
    start: int = Field(description="Character offsets in the paragraph's text")
    end: int
    marker: int | None = Field(description="The citation marker of that paragraph in the answer")


class AnswerResponse(BaseModel):
    answer: str
    refused: bool = Field(description="The documents do not say: the answer is the decline message")
    citations: list[CitationOut]
    contexts: list[ContextOut] = Field(description="The retrieved paragraphs the answer was chosen from")
    question: str = Field(description="The standalone question retrieved for (a follow-up with what it follows)")
    mode: Literal["offline", "llm"]
    notes: list[str]
    unsupported: bool = Field(description="LLM mode: no statement has a verified citation")
    usage: dict[str, Any] = Field(description="Tokens, requests and cost (offline: what an LLM would have read)")
    confidence: float | None = Field(description="Estimated probability that the documents answer the question")
    support: Literal["confident", "weak", "declined"]
    uncovered: list[str] = Field(description="Question words the cited paragraphs do not contain")
    span: SpanOut | None
    unsupported_sentences: list[str]


class DocumentOut(BaseModel):
    doc_id: str
    title: str
    paragraphs: int
    sha256: str
    uploaded: bool = Field(description="Indexed from an upload (removing it deletes the stored file too)")


class DocumentList(BaseModel):
    object: Literal["list"] = "list"
    data: list[DocumentOut]


class UploadResult(BaseModel):
    name: str = Field(description="The file's name as the client sent it")
    ok: bool
    message: str = Field(description="What happened: indexed, replaced, unchanged, or why it was refused")


class UploadResults(BaseModel):
    object: Literal["list"] = "list"
    results: list[UploadResult] = Field(description="One per file, in upload order")


class Deleted(BaseModel):
    id: str
    object: Literal["document"] = "document"
    deleted: bool


class ParagraphOut(BaseModel):
    paragraph: int
    page: int | None
    text: str
    cited: bool = Field(description="The paragraph asked for (the others are its neighbours)")


class ParagraphWindow(BaseModel):
    doc_id: str
    title: str
    paragraph: int
    context: int = Field(description="Neighbours on each side")
    paragraphs: list[ParagraphOut]


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


class ChatMessageOut(BaseModel):
    role: Literal["assistant"]
    content: str


class ChatChoice(BaseModel):
    index: int
    message: ChatMessageOut
    finish_reason: Literal["stop", "length"]
    logprobs: None = None


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class CitationBrief(BaseModel):
    marker: int
    doc_id: str
    title: str
    paragraph: int
    page: int | None
    quote: str
    verified: bool | None


class ChatCompletion(BaseModel):
    """OpenAI's chat.completion. The extensions are absent from a client's own side task (a chat title, tags)."""

    id: str
    object: Literal["chat.completion"]
    created: int
    model: str
    system_fingerprint: None = None
    choices: list[ChatChoice]
    usage: Usage
    citations: list[CitationBrief] | None = None
    refused: bool | None = None
    notes: list[str] | None = None
    confidence: float | None = None
    support: str | None = None
    uncovered: list[str] | None = None


class Health(BaseModel):
    status: Literal["ok", "error"]
    documents: int | None = Field(None, description="Indexed documents (when the index can be read)")
    message: str | None = Field(None, description="What is wrong (status 'error', HTTP 503)")


class ErrorDetail(BaseModel):
    message: str
    type: str
    param: str | None
    code: str | None


class ErrorResponse(BaseModel):
    """OpenAI's error shape, for every failed request."""

    error: ErrorDetail


SSE = {"content": {"text/event-stream": {"schema": {"type": "string"}}},
       "description": "With `stream: true`: server-sent events"}
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse, "description": what} for code, what in (
        (400, "Bad input"), (401, "A key is required"), (404, "Not found"), (409, "The index is locked"),
        (503, "The index cannot be used"))}
