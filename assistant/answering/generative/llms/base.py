"""The chat-model interface the answerer talks to, and what its implementations share.

Two implementations: `openai_chat.OpenAIChat`, the built-in path for llm mode (the plain `openai` client, to
OpenAI or any OpenAI-compatible server), and `llama_index_chat.LlamaIndexChat`, which wraps any llama-index LLM
(Anthropic, Gemini, Bedrock, native Ollama...). The answerer builds the prompt, counts the token budget and
checks the citations itself, so every model gets the same prompts and the same checks.

The deadline rule. One question's LLM time, every request, attempt and wait between retries together, is bounded
by `settings.llm_deadline` (by default llm_timeout x (llm_retries + 1)), counted from the question's first LLM
request (`Deadline`). The answerer hands that moment (a `time.monotonic()` value) to every request:
- a retry whose wait (our backoff, or the server's Retry-After) would end past the deadline is not made;
- each attempt's timeout is cut to the time left;
- a stream is stopped at the deadline, and one that sends nothing for llm_timeout seconds has stalled.
"""

from __future__ import annotations

import queue
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol, TypeVar

from assistant.errors import AssistantError
from assistant.config.masking import mask_url
from assistant.text.wording import plural

T = TypeVar("T")
Messages = list[dict[str, str]]


class LLMError(AssistantError):
    """The LLM could not give an answer. The message is safe to show: it never holds the API key."""


@dataclass
class Reply:
    """What one chat request produced."""

    text: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    reported: bool = False  # token counts came from the server (else counted here with tiktoken)
    finish_reason: str | None = None  # "length" when the answer was cut at max_tokens
    attempts: int = 0


class ChatModel(Protocol):
    """What the answerer needs from a chat model. Both methods raise LLMError with a message for the user."""

    name: str  # the model's name: picks the tiktoken encoding and the price, and is reported in usage
    where: str  # where requests go, for messages: a server URL without credentials, or the llama-index class

    def complete(self, messages: Messages, max_tokens: int, deadline: float | None = None) -> Reply:
        """The whole reply to `messages` (OpenAI-style role/content dicts), by `deadline` (time.monotonic())."""

    def stream(self, messages: Messages, max_tokens: int, reply: Reply,
               deadline: float | None = None) -> Iterator[str]:
        """Yield the reply's text as it arrives and fill `reply` (text, tokens, finish reason) as it goes."""


class Deadline:
    """One question's LLM deadline: it starts when the question's first LLM request asks for it (`at()`), so that
    local work (retrieval, loading a tokenizer) never eats into it."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._at: float | None = None

    def at(self) -> float:
        """The deadline as a time.monotonic() value."""
        if self._at is None:
            self._at = time.monotonic() + self.seconds
        return self._at


class StreamTimeout(Exception):
    """Nothing arrived in time: `stalled` (silent for the stall time), else the deadline came; `silent` is how
    long nothing had arrived."""

    def __init__(self, silent: float, stalled: bool) -> None:
        super().__init__(f"{'stalled' if stalled else 'deadline'} after {silent:.1f} s of silence")
        self.silent = silent
        self.stalled = stalled


_END = object()


def pull_within(items: Iterator[T], stall: float, deadline: float) -> Iterator[T]:
    """Yield what `items` yields, read on a helper thread so that waiting for the next item can end.

    Why a thread: a blocking read (an HTTP stream, a llama-index LLM call) cannot be given a deadline from
    outside. Raises StreamTimeout when nothing arrives for `stall` seconds or when `deadline` comes first; an
    error raised by `items` is raised here. When the caller stops (an error, a timeout, Ctrl-C, close()), the
    helper thread stops at its next item and closes `items`; a read that never returns only holds that thread.
    """
    box: queue.Queue = queue.Queue()
    stop = threading.Event()

    def read() -> None:
        error = None
        try:
            for item in items:
                box.put((item, None))
                if stop.is_set():
                    break
        except BaseException as exc:  # noqa: BLE001 - handed over to the caller's thread
            error = exc
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                try:
                    close()
                except Exception:  # noqa: BLE001 - closing a broken stream may fail too; nothing to report
                    pass
        box.put((_END, error))

    threading.Thread(target=read, name="llm-reader", daemon=True).start()
    last = time.monotonic()
    try:
        while True:
            left = deadline - time.monotonic()
            wait = min(stall, left)
            if wait <= 0:
                raise StreamTimeout(time.monotonic() - last, stalled=False)
            try:
                item, error = box.get(timeout=wait)
            except queue.Empty:
                raise StreamTimeout(time.monotonic() - last, stalled=stall < left) from None
            if item is _END:
                if error is not None:
                    raise error
                return
            last = time.monotonic()
            yield item
    finally:
        stop.set()


def call_within(call: Callable[[], T], deadline: float) -> T:
    """`call()`, abandoned (StreamTimeout) if it has not returned by `deadline`; see pull_within."""

    def once() -> Iterator[T]:
        yield call()

    for result in pull_within(once(), stall=deadline - time.monotonic(), deadline=deadline):
        return result
    raise RuntimeError("the call returned nothing")  # pragma: no cover - once() always yields


# --- messages -------------------------------------------------------------------------------------------
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
    """Where requests go, for messages: the URL with any password or key masked (assistant/config/masking.py)."""
    return mask_url(base_url) if base_url else "api.openai.com"


def attempts_text(attempts: int) -> str:
    return plural(attempts, "attempt")


def stream_timeout_message(where: str, chars: int, timeout: StreamTimeout, stall: float, deadline: float) -> str:
    """What a user reads when a stream goes quiet for `stall` seconds, or runs into the question's deadline."""
    if timeout.stalled:
        if chars:
            return f"The LLM stream from {where} stopped sending after {chars} characters for {stall:g} s."
        return f"The LLM stream from {where} sent nothing for {stall:g} s."
    quiet = f"; it had sent nothing for {timeout.silent:.1f} s" if timeout.silent >= 1.0 else ""
    return (f"The LLM stream from {where} was cut at the question's {deadline:g} s deadline (llm_deadline) after "
            f"{chars} characters{quiet}.")
