"""Any llama-index LLM as the answer model: `Assistant(llm=Anthropic(...))`, `Gemini`, `Bedrock`, native `Ollama`,
`OpenAILike`... through the LLM's own `chat` / `stream_chat`.

Only the transport is the LLM's: the prompt (our system and answer templates with numbered sources), the token
budget (tiktoken: the model's encoding when tiktoken knows the name, else cl100k_base as an estimate) and the
citation check are the answerer's, exactly as with the built-in openai client.

What stays the LLM's own: its retries (most have `max_retries`), timeout, temperature and answer length
(`max_tokens` on the LLM; chat kwargs differ between providers, so none are passed). What the deadline still
does (llms/base.py): the call runs on a helper thread and is abandoned at the question's deadline; a stream that
sends nothing for llm_timeout seconds has stalled.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

from assistant.answering.generative.llms.base import (LLMError, Messages, Reply, StreamTimeout, call_within, describe_server, pull_within,
                                 redact, stream_timeout_message)

log = logging.getLogger("assistant.llm")


def _secret(value: Any) -> str | None:
    if value is None:
        return None
    getter = getattr(value, "get_secret_value", None)
    return getter() if getter else str(value)


def _field(data: Any, *names: str) -> Any:
    """The first of `names` found on an object or in a dict (provider replies come in both shapes)."""
    for name in names:
        value = data.get(name) if isinstance(data, dict) else getattr(data, name, None)
        if value is not None:
            return value
    return None


def read_usage(response: Any, reply: Reply) -> None:
    """Token counts and finish reason from a llama-index ChatResponse, when the provider reports them:
    OpenAI-based LLMs put counts in `additional_kwargs`; others leave them in `raw` (Anthropic: input_tokens)."""
    counts = response.additional_kwargs or {}
    usage = _field(response.raw, "usage") if response.raw is not None else None
    prompt = _field(counts, "prompt_tokens") or (_field(usage, "prompt_tokens", "input_tokens") if usage else None)
    completion = _field(counts, "completion_tokens") or (_field(usage, "completion_tokens", "output_tokens")
                                                         if usage else None)
    if isinstance(prompt, int) and isinstance(completion, int):
        reply.prompt_tokens, reply.completion_tokens, reply.reported = prompt, completion, True
    choices = _field(response.raw, "choices") if response.raw is not None else None
    finish = _field(choices[0], "finish_reason") if choices else _field(response.raw or {}, "stop_reason")
    if finish:
        reply.finish_reason = "length" if finish in ("length", "max_tokens") else str(finish)


class LlamaIndexChat:
    """The ChatModel interface over a llama-index LLM."""

    def __init__(self, llm: Any, settings) -> None:
        from llama_index.core.llms import LLM

        if not isinstance(llm, LLM):
            raise TypeError(f"llm= takes a llama-index LLM (llama_index.core.llms.LLM), not {type(llm).__name__}")
        self.llm = llm
        self.settings = settings
        try:
            model = llm.metadata.model_name
        except Exception:  # noqa: BLE001 - a provider whose metadata needs a network call or a key
            model = None
        self.name = model if model and model != "unknown" else type(llm).__name__
        base = _field(llm, "api_base", "base_url")
        self._server = describe_server(str(base)) if base else None
        self.where = type(llm).__name__ + (f" at {self._server}" if self._server else "")
        self._secrets = [_secret(_field(llm, "api_key"))]

    def _messages(self, messages: Messages) -> list:
        from llama_index.core.llms import ChatMessage

        return [ChatMessage(role=m["role"], content=m["content"]) for m in messages]

    def _deadline(self, deadline: float | None) -> float:
        return deadline if deadline is not None else time.monotonic() + self.settings.llm_deadline_seconds

    def _failed(self, exc: BaseException) -> LLMError:
        """An LLMError saying what the LLM raised: openai errors (OpenAILike, OpenAI...) as the built-in client
        says them, others by type, HTTP status and a short message, with any key removed."""
        import openai

        from assistant.answering.generative.llms.openai_chat import describe_openai_error

        if isinstance(exc, openai.OpenAIError):
            message = describe_openai_error(exc, self._server or "api.openai.com", self.settings.llm_timeout,
                                            model=self.name, via=f"the llama-index {type(self.llm).__name__}")
        else:
            status = _field(exc, "status_code", "status")
            detail = " ".join(str(exc).split())[:200]
            message = (f"The llama-index LLM {self.where} failed ({type(exc).__name__}"
                       f"{f', HTTP {status}' if isinstance(status, int) else ''}){': ' + detail if detail else ''}")
        message = redact(message, self._secrets)
        log.info("%s", message)
        return LLMError(message)

    def complete(self, messages: Messages, max_tokens: int, deadline: float | None = None) -> Reply:
        """One `llm.chat(...)`, abandoned at the deadline. `max_tokens` is the LLM's own setting (see above)."""
        deadline = self._deadline(deadline)
        chat = self._messages(messages)
        try:
            response = call_within(lambda: self.llm.chat(chat), deadline)
        except StreamTimeout:
            raise LLMError(f"The llama-index LLM {self.where} did not answer before the question's "
                           f"{self.settings.llm_deadline_seconds:g} s deadline (llm_deadline).") from None
        except Exception as exc:  # noqa: BLE001 - every failure becomes a user-facing LLMError
            raise self._failed(exc) from None
        reply = Reply(text=response.message.content or "", attempts=1)
        read_usage(response, reply)
        return reply

    def stream(self, messages: Messages, max_tokens: int, reply: Reply, deadline: float | None = None) -> Iterator[str]:
        """`llm.stream_chat(...)` deltas as they arrive (the call itself runs on the reader thread too)."""
        deadline = self._deadline(deadline)
        chat = self._messages(messages)
        reply.attempts = 1

        def responses():
            yield from self.llm.stream_chat(chat)

        try:
            for response in pull_within(responses(), stall=self.settings.llm_timeout, deadline=deadline):
                read_usage(response, reply)
                piece = response.delta
                if piece is None:  # a provider that sends the text so far instead of the new part
                    so_far = response.message.content or ""
                    piece = so_far[len(reply.text):] if so_far.startswith(reply.text) else ""
                if piece:
                    reply.text += piece
                    yield piece
        except StreamTimeout as timeout:
            raise LLMError(stream_timeout_message(self.where, len(reply.text), timeout, self.settings.llm_timeout,
                                                  self.settings.llm_deadline_seconds)) from None
        except Exception as exc:  # noqa: BLE001
            raise self._failed(exc) from None
