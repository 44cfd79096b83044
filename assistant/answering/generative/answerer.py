"""Generated answers: the prompt (numbered sources that fit the token budget), refusals, usage, and the answer
request through a chat model (assistant/answering/generative/llms: the built-in openai client, or any llama-index LLM).

Failure policy lives with the chat models (assistant/answering/generative/llms/base.py: the deadline rule); what they raise is an
`LLMError` whose message is meant for the user, and the caller answers offline with that message as a note.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from assistant.answering.generative.budget import Budget, cost_usd, count_messages, count_tokens, encoding_for, fit_sources
from assistant.answering.generative.llms.base import ChatModel, LLMError, Reply
from assistant.text.markers import has_marker
from assistant.types import Context
from assistant.answering.generative.prompts import render

__all__ = ["DECLINE_MARKER", "LLMError", "Reply", "Usage", "build_messages", "generate", "is_refusal"]

DECLINE_MARKER = "NOT_IN_SOURCES"
_REFUSAL = re.compile(
    r"\b(?:(?:the\s+)?(?:provided\s+|given\s+)?(?:sources?|documents?|context|paragraphs?|passages?)\s+"
    r"(?:do(?:es)?\s+not|don't|doesn't|did\s+not|never)\s+(?:contain|mention|say|state|include|provide|address|specify|"
    r"answer|cover|discuss|describe|explain|give|indicate|tell)"
    r"|not\s+(?:mentioned|stated|specified|found|covered|provided|given)\s+in\s+the\s+(?:provided\s+|given\s+)?"
    r"(?:sources?|documents?|context|paragraphs?|passages?)"
    r"|(?:i\s+)?(?:cannot|can't|can\s+not|am\s+unable\s+to|could\s+not|couldn't)\s+(?:find|answer|determine|tell)"
    r"|no\s+(?:information|mention)\s+(?:about|of|on|regarding))",
    re.IGNORECASE,
)


# --- prompts ----------------------------------------------------------------------------------------------
def build_messages(prompts: dict[str, str], question: str, contexts: list[Context], settings,
                   encoding=None) -> tuple[list[dict[str, str]], Budget]:
    """System + user messages with as many numbered sources as the context window allows."""
    encoding = encoding or encoding_for(settings.llm_model, settings.llm_tokenizer)
    system = prompts["system"].strip()

    def user(sources: str) -> str:
        return render(prompts["answer"], question=question, sources=sources, decline_marker=DECLINE_MARKER)

    skeleton = [{"role": "system", "content": system}, {"role": "user", "content": user("")}]
    fixed = count_messages(skeleton, encoding)
    blocks, budget = fit_sources(contexts, fixed, settings.llm_context_window, settings.llm_max_answer_tokens,
                                 encoding)
    messages = [{"role": "system", "content": system}, {"role": "user", "content": user("\n\n".join(blocks))}]
    return messages, budget


def is_refusal(text: str) -> bool:
    """The model said the sources do not answer: the decline marker, or a refusal phrase with no citation."""
    flat = re.sub(r"[\s_\-*`\"'.]+", "", text).upper()
    if re.sub(r"_", "", DECLINE_MARKER) in flat:
        return True
    if not text.strip():
        return False
    return bool(_REFUSAL.search(text)) and not has_marker(text)


def _holds_marker(text: str) -> bool:
    """While streaming: could this opening still become the decline marker? Then do not show it yet."""
    head = re.sub(r"^[\s*`\"'_]+", "", text).upper()
    return DECLINE_MARKER.startswith(head) or head.startswith(DECLINE_MARKER)


@dataclass
class Usage:
    """Tokens and cost summed over the requests of one answer (condense + answer)."""

    model: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    calls: int = 0
    estimated: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def add(self, reply: Reply, messages: list[dict[str, str]], encoding) -> None:
        self.calls += 1
        if reply.reported:
            self.prompt_tokens += reply.prompt_tokens
            self.completion_tokens += reply.completion_tokens
        else:  # the server did not report usage: count it ourselves
            self.estimated = True
            self.prompt_tokens += count_messages(messages, encoding)
            self.completion_tokens += count_tokens(reply.text, encoding)

    def to_dict(self, settings) -> dict[str, Any]:
        return {
            "model": self.model,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.prompt_tokens + self.completion_tokens,
            "cost_usd": cost_usd(self.model, self.prompt_tokens, self.completion_tokens,
                                 settings.llm_input_price, settings.llm_output_price),
            "estimated": self.estimated,  # True: the server reported no usage; counted here with tiktoken
            "calls": self.calls,
            **self.extra,
        }


def generate(chat: ChatModel, messages: list[dict[str, str]], max_tokens: int, streaming: bool, reply: Reply,
             deadline: float | None = None) -> Iterator[str]:
    """Run the answer request, streaming or not; yields the text that may be shown while it arrives.

    The opening of a streamed reply is held back while it could still be the decline marker, so a refusal
    never flashes `NOT_IN_SOURCES` on screen. The caller reads the full text from `reply`.
    """
    if not streaming:
        done = chat.complete(messages, max_tokens, deadline)
        for name in ("text", "prompt_tokens", "completion_tokens", "reported", "finish_reason", "attempts"):
            setattr(reply, name, getattr(done, name))
        return
    held = ""
    released = False
    for piece in chat.stream(messages, max_tokens, reply, deadline):
        if released:
            yield piece
            continue
        held += piece
        if not _holds_marker(held):
            released = True
            yield held
    if not released and held and not is_refusal(held):
        yield held
