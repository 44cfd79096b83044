"""Request bodies of the REST API (what /docs shows). Unknown fields are accepted and ignored, as OpenAI clients
send many we do not use (temperature, user, ...)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Message(BaseModel):
    """One chat message, as OpenAI clients send it. `content` may be text or a list of content parts."""

    model_config = ConfigDict(extra="allow")
    role: str = Field(description="'user', 'assistant' or 'system' (system messages are ignored)")
    content: str | list[dict[str, Any]] | None = None


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    question: str = Field(description="The question, in any words")
    history: list[Message] | None = Field(None, description="The conversation so far, oldest first, for follow-ups")
    top_k: int | None = Field(None, ge=1, le=50, description="Paragraphs handed to the answerer (default: top_k)")
    mode: Literal["offline", "llm"] | None = Field(None, description="Answer mode (default: answer_mode)")
    stream: bool = Field(False, description="Server-sent events: `delta` text pieces, then `answer`")


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="allow")
    model: str = Field("assistant", description="'assistant' (see GET /v1/models)")
    messages: list[Message] = Field(min_length=1, description="The conversation; the last message is the question")
    stream: bool = False
    top_k: int | None = Field(None, ge=1, le=50, description="Extension: paragraphs handed to the answerer")
    mode: Literal["offline", "llm"] | None = Field(None, description="Extension: answer mode for this request")
    stream_options: dict[str, Any] | None = Field(None, description="{'include_usage': true} adds a usage chunk")


def text_of(message: Message) -> str:
    """The text of a message whose content may be a list of parts (only the text parts count)."""
    if isinstance(message.content, list):
        return " ".join(str(p.get("text", "")) for p in message.content if isinstance(p, dict))
    return message.content or ""
