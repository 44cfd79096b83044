"""Generated answers through OpenAI or any OpenAI-compatible server (Ollama, llama.cpp, vLLM, LM Studio).

Why the plain `openai` client rather than llama-index's `OpenAI` / `OpenAILike`: we need our own retry loop
(to report what failed, after how many attempts, without the key), streaming with usage, and an exact view of
the prompt for the token budget; llama-index's wrappers add retries of their own (tenacity) and
`llama_index.llms.openai.OpenAI` rejects model names it does not know, which every local server uses.
The request is the same chat-completions call either way.

Failure policy: timeouts, connection errors, 429 and 5xx are retried `llm_retries` times with exponential
backoff (Retry-After honoured, capped); then an `LLMError` with a message meant for the user is raised, and
the caller answers offline with that message as a note. Authentication and other 4xx errors are not retried.
The API key never appears in a message: server bodies are not echoed for auth errors, and every message is
passed through `redact`.
"""

from __future__ import annotations

import logging
import random
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from assistant.answering.budget import (Budget, cost_usd, count_messages, count_tokens, encoding_for,
                                        fit_sources)
from assistant.errors import AssistantError
from assistant.markers import has_marker
from assistant.masking import mask_url
from assistant.models import Context
from assistant.prompts import render

log = logging.getLogger("assistant.llm")

DECLINE_MARKER = "NOT_IN_SOURCES"
_REASONING_MODEL = re.compile(r"^(?:o\d|gpt-5)", re.IGNORECASE)
MAX_BACKOFF = 30.0
_REFUSAL = re.compile(
    r"\b(?:(?:the\s+)?(?:provided\s+|given\s+)?(?:sources?|documents?|context|paragraphs?|passages?)\s+"
    r"(?:do(?:es)?\s+not|don't|doesn't|did\s+not|never)\s+(?:contain|mention|say|state|include|provide|address|specify)"
    r"|not\s+(?:mentioned|stated|specified|found|covered|provided|given)\s+in\s+the\s+(?:provided\s+|given\s+)?"
    r"(?:sources?|documents?|context|paragraphs?|passages?)"
    r"|(?:i\s+)?(?:cannot|can't|can\s+not|am\s+unable\s+to|could\s+not|couldn't)\s+(?:find|answer|determine|tell)"
    r"|no\s+(?:information|mention)\s+(?:about|of|on|regarding))",
    re.IGNORECASE,
)


class LLMError(AssistantError):
    """The LLM could not give an answer. The message is safe to show: it never holds the API key."""


def redact(text: str, secrets: list[str | None]) -> str:
    """Remove secrets (and any word sharing 8 characters in a row with one), bearer tokens and sk-... keys."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
            grams = {secret[i:i + 8] for i in range(len(secret) - 7)}
            if grams:
                text = re.sub(r"[A-Za-z0-9_\-*.]{8,}",
                              lambda m: "***" if any(m.group(0)[i:i + 8] in grams
                                                     for i in range(len(m.group(0)) - 7)) else m.group(0), text)
    text = re.sub(r"(?i)(bearer\s+)\S+", r"\1***", text)
    return re.sub(r"\bsk-[A-Za-z0-9_\-*]{4,}", "sk-***", text)


def describe_server(base_url: str | None) -> str:
    """Where requests go, for messages: the URL with any password or key masked (assistant/masking.py)."""
    return mask_url(base_url) if base_url else "api.openai.com"


@dataclass
class Reply:
    """What one chat request produced."""

    text: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    reported: bool = False  # token counts came from the server (else counted here with tiktoken)
    finish_reason: str | None = None
    attempts: int = 0


class LLMClient:
    """A chat-completions client with our retry policy. Create it per settings; it holds no conversation."""

    def __init__(self, settings) -> None:
        import openai

        self.settings = settings
        self.model = settings.llm_model
        self.where = describe_server(settings.openai_base_url)
        self._key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
        if not self._key and not settings.openai_base_url:
            raise LLMError("No OpenAI API key: set OPENAI_API_KEY, or set OPENAI_BASE_URL to an OpenAI-compatible "
                           "server (e.g. http://localhost:11434/v1 for Ollama).")
        import httpx

        timeout = httpx.Timeout(settings.llm_timeout, connect=min(settings.llm_timeout, 10.0))
        # Local servers ignore the key, but the client insists on one.
        self._client = openai.OpenAI(api_key=self._key or "no-key", base_url=settings.openai_base_url,
                                     timeout=timeout, max_retries=0)
        self._openai = openai

    # --- errors -------------------------------------------------------------------------------------
    def _safe(self, text: str) -> str:
        return redact(text, [self._key])

    def _describe(self, exc: Exception, attempts: int) -> str:
        o = self._openai
        tries = f"{attempts} attempt{'s' if attempts != 1 else ''}"
        if isinstance(exc, o.APITimeoutError):
            return f"The LLM server at {self.where} did not answer within {self.settings.llm_timeout:g} s ({tries})."
        if isinstance(exc, o.APIConnectionError):
            cause = exc.__cause__ or exc.__context__
            reason = type(cause).__name__ if cause else "connection failed"
            return (f"Could not reach the LLM server at {self.where} ({reason}, {tries}): check OPENAI_BASE_URL "
                    "and that the server is running.")
        if isinstance(exc, o.AuthenticationError) or isinstance(exc, o.PermissionDeniedError):
            return (f"The LLM server at {self.where} rejected the API key (HTTP {exc.status_code}): "
                    "check OPENAI_API_KEY.")
        if isinstance(exc, o.RateLimitError):
            return f"The LLM server at {self.where} kept refusing with HTTP 429 (rate limit or quota; {tries})."
        if isinstance(exc, o.NotFoundError):
            return (f"HTTP 404 from {self.where}: check the model name ASSISTANT_LLM_MODEL='{self.model}' and "
                    "that OPENAI_BASE_URL ends in /v1.")
        if isinstance(exc, o.APIStatusError):
            if exc.status_code >= 500:
                return f"The LLM server at {self.where} failed with HTTP {exc.status_code} ({tries})."
            detail = self._safe(str(getattr(exc, "message", "") or ""))[:200]
            return f"The LLM server at {self.where} refused the request (HTTP {exc.status_code}): {detail}"
        return (f"The reply of the LLM server at {self.where} could not be read ({type(exc).__name__}): is it an "
                "OpenAI-compatible chat-completions endpoint?")

    def _retryable(self, exc: Exception) -> bool:
        o = self._openai
        if isinstance(exc, (o.APITimeoutError, o.APIConnectionError, o.RateLimitError)):
            return True
        return isinstance(exc, o.APIStatusError) and exc.status_code >= 500

    def _wait(self, exc: Exception, attempt: int) -> float:
        delay = self.settings.llm_backoff * (2 ** attempt) * (1 + 0.25 * random.random())
        response = getattr(exc, "response", None)
        header = response.headers.get("retry-after") if response is not None else None
        if header:
            try:
                delay = max(delay, float(header))
            except ValueError:
                pass
        return min(delay, MAX_BACKOFF)

    def _attempts(self):
        """Yield attempt numbers; the caller breaks out on success and calls `_failed` on an error."""
        return range(self.settings.llm_retries + 1)

    def _failed(self, exc: Exception, attempt: int) -> None:
        """Sleep before the next attempt, or raise LLMError when this error is final."""
        last = attempt >= self.settings.llm_retries
        message = self._describe(exc, attempt + 1)
        if last or not self._retryable(exc):
            log.warning("%s", message)
            raise LLMError(message) from None
        wait = self._wait(exc, attempt)
        log.info("LLM request failed (%s); retrying in %.1f s", self._safe(type(exc).__name__), wait)
        time.sleep(wait)

    # --- requests -----------------------------------------------------------------------------------
    def _params(self, messages: list[dict[str, str]], max_tokens: int) -> dict[str, Any]:
        """OpenAI's own API wants `max_completion_tokens` (its reasoning models reject `max_tokens` and any
        temperature but the default); compatible servers know `max_tokens`."""
        params: dict[str, Any] = {"model": self.model, "messages": messages}
        reasoning = bool(_REASONING_MODEL.match(self.model.split("/")[-1]))
        if not reasoning:
            params["temperature"] = self.settings.llm_temperature
        params["max_completion_tokens" if not self.settings.openai_base_url else "max_tokens"] = max_tokens
        return params

    def complete(self, messages: list[dict[str, str]], max_tokens: int) -> Reply:
        """One chat completion, with retries."""
        reply = Reply()
        for attempt in self._attempts():
            reply.attempts = attempt + 1
            try:
                response = self._client.chat.completions.create(**self._params(messages, max_tokens))
                choice = response.choices[0]
                reply.text = choice.message.content or ""
                reply.finish_reason = choice.finish_reason
                if response.usage is not None:
                    reply.prompt_tokens = response.usage.prompt_tokens or 0
                    reply.completion_tokens = response.usage.completion_tokens or 0
                    reply.reported = True
                return reply
            except LLMError:
                raise
            except Exception as exc:  # noqa: BLE001 - every failure becomes a user-facing LLMError
                self._failed(exc, attempt)
        raise LLMError(f"The LLM server at {self.where} gave no answer.")  # pragma: no cover

    def stream(self, messages: list[dict[str, str]], max_tokens: int, reply: Reply) -> Iterator[str]:
        """Yield text pieces as the server sends them (SSE); fills `reply`. Retries only before the first piece."""
        for attempt in self._attempts():
            reply.attempts = attempt + 1
            started = False
            try:
                params = self._params(messages, max_tokens)
                params.update(stream=True, stream_options={"include_usage": True})
                with self._client.chat.completions.create(**params) as events:  # closed if the caller stops
                    for chunk in events:
                        usage = getattr(chunk, "usage", None)
                        if usage is not None:
                            reply.prompt_tokens = usage.prompt_tokens or 0
                            reply.completion_tokens = usage.completion_tokens or 0
                            reply.reported = True
                        if not chunk.choices:
                            continue
                        choice = chunk.choices[0]
                        if choice.finish_reason:
                            reply.finish_reason = choice.finish_reason
                        piece = choice.delta.content if choice.delta is not None else None
                        if piece:
                            started = True
                            reply.text += piece
                            yield piece
                return
            except LLMError:
                raise
            except GeneratorExit:
                raise
            except Exception as exc:  # noqa: BLE001
                if started:
                    message = (f"The LLM stream from {self.where} broke off after {len(reply.text)} characters "
                               f"({self._describe(exc, attempt + 1)})")
                    log.warning("%s", message)
                    raise LLMError(message) from None
                self._failed(exc, attempt)


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


def generate(client: LLMClient, messages: list[dict[str, str]], max_tokens: int, streaming: bool,
             reply: Reply) -> Iterator[str]:
    """Run the answer request, streaming or not; yields the text that may be shown while it arrives.

    The opening of a streamed reply is held back while it could still be the decline marker, so a refusal
    never flashes `NOT_IN_SOURCES` on screen. The caller reads the full text from `reply`.
    """
    if not streaming:
        done = client.complete(messages, max_tokens)
        for name in ("text", "prompt_tokens", "completion_tokens", "reported", "finish_reason", "attempts"):
            setattr(reply, name, getattr(done, name))
        return
    held = ""
    released = False
    for piece in client.stream(messages, max_tokens, reply):
        if released:
            yield piece
            continue
        held += piece
        if not _holds_marker(held):
            released = True
            yield held
    if not released and held and not is_refusal(held):
        yield held
