"""The built-in chat model of llm mode: the plain `openai` client, to OpenAI or any OpenAI-compatible server
(Ollama, llama.cpp, vLLM, LM Studio).

Why the plain client rather than llama-index's `OpenAILike`: an exact view of the request for the token budget,
usage from streams, our own messages (what failed, after how many attempts, never the key), and one retry
policy that knows the question's deadline (see llms/base.py). llama-index's OpenAI wrappers retry twice over
(the SDK's retries inside tenacity's) for up to 60 s whatever the deadline; `llama_index.llms.openai.OpenAI`
rejects model names it does not know, which every local server uses. Anyone who prefers them can pass one as
`Assistant(llm=OpenAILike(...))`.

Failure policy: timeouts, connection errors, 429 and 5xx are retried up to `llm_retries` times (tenacity), with
backoff llm_backoff x 2^n or the server's Retry-After when longer, while the deadline allows; then an LLMError
says what failed. Authentication and other 4xx errors are not retried. The key never appears in a message:
server bodies are not echoed for auth errors, and every message goes through `redact`.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import tenacity

from assistant.answering.generative.llms.base import (LLMError, Messages, Reply, StreamTimeout, attempts_text, describe_server,
                                 pull_within, redact, stream_timeout_message)

log = logging.getLogger("assistant.llm")

_REASONING_MODEL = re.compile(r"^(?:o\d|gpt-5)", re.IGNORECASE)
MIN_ATTEMPT_SHARE = 0.1  # a retry needs at least this share of llm_timeout left before the deadline


def retry_after(exc: BaseException) -> float | None:
    """The server's Retry-After in seconds, when the error carries one."""
    response = getattr(exc, "response", None)
    header = response.headers.get("retry-after") if response is not None else None
    try:
        return max(float(header), 0.0) if header else None
    except ValueError:  # an HTTP date: rare for APIs; our own backoff applies
        return None


def describe_openai_error(exc: BaseException, where: str, timeout: float, attempts: int | None = None,
                          model: str | None = None, via: str | None = None) -> str:
    """A message for the user about an `openai` SDK error. `via` names the llama-index LLM class when the error
    comes through one (OpenAILike...): its key and URL are then set on that object, not in the environment."""
    import openai

    key_setting = f"the api_key of {via}" if via else "OPENAI_API_KEY"
    url_setting = f"the api_base of {via}" if via else "OPENAI_BASE_URL"

    def why(*parts: str | None) -> str:
        inside = ", ".join(p for p in parts if p)
        return f" ({inside})" if inside else ""

    tries = attempts_text(attempts) if attempts else None
    if isinstance(exc, openai.APITimeoutError):
        return f"The LLM server at {where} did not answer within {timeout:g} s{why(tries)}."
    if isinstance(exc, openai.APIConnectionError):
        cause = exc.__cause__ or exc.__context__
        return (f"Could not reach the LLM server at {where}{why(type(cause).__name__ if cause else None, tries)}: "
                f"check {url_setting} and that the server is running.")
    if isinstance(exc, (openai.AuthenticationError, openai.PermissionDeniedError)):
        return f"The LLM server at {where} rejected the API key (HTTP {exc.status_code}): check {key_setting}."
    if isinstance(exc, openai.RateLimitError):
        return f"The LLM server at {where} kept refusing with HTTP 429{why('rate limit or quota', tries)}."
    if isinstance(exc, openai.NotFoundError):
        name = f" '{model}'" if model else ""
        return f"HTTP 404 from {where}: check the model name{name} and that the server's base URL ends in /v1."
    if isinstance(exc, openai.APIStatusError):
        if exc.status_code >= 500:
            return f"The LLM server at {where} failed with HTTP {exc.status_code}{why(tries)}."
        detail = str(getattr(exc, "message", "") or "")[:200]
        return f"The LLM server at {where} refused the request (HTTP {exc.status_code}): {detail}"
    return (f"The reply of the LLM server at {where} could not be read ({type(exc).__name__}): is it an "
            "OpenAI-compatible chat-completions endpoint?")


def not_a_completion(where: str, body: str, streaming: bool = False) -> str:
    """A message for a 200 reply that is not a chat completion: what it looked like, and what to check."""
    head = body.lstrip()[:200].lower()
    if head.startswith(("<!doctype html", "<html")) or "<html" in head:
        what = "an HTML page"
    elif head.startswith(("{", "[")):
        what = "JSON that is not a chat completion"
    elif head:
        what = "text that is not JSON"
    else:
        what = "no chat-completion events" if streaming else "an empty body"
    return (f"The LLM server at {where} answered with {what} instead of a chat completion: check that "
            "OPENAI_BASE_URL is an OpenAI-compatible endpoint (it usually ends in /v1).")


class OpenAIChat:
    """A chat-completions client with our retry policy. Create it per settings; it holds no conversation."""

    def __init__(self, settings) -> None:
        import httpx
        import openai

        self.settings = settings
        self.name = settings.llm_model
        self.where = describe_server(settings.openai_base_url)
        self._key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
        if not self._key and not settings.openai_base_url:
            raise LLMError("No OpenAI API key: set OPENAI_API_KEY, or set OPENAI_BASE_URL to an OpenAI-compatible "
                           "server (e.g. http://localhost:11434/v1 for Ollama).")
        # Local servers ignore the key, but the client insists on one. Retries are ours (max_retries=0).
        self._client = openai.OpenAI(api_key=self._key or "no-key", base_url=settings.openai_base_url,
                                     timeout=settings.llm_timeout, max_retries=0)
        self._openai = openai
        self._httpx = httpx
        _ = self._client.chat.completions  # the SDK loads its resources on first use (~1 s): not during a question

    # --- retries ------------------------------------------------------------------------------------
    def _retryable(self, exc: BaseException) -> bool:
        o = self._openai
        if isinstance(exc, (o.APITimeoutError, o.APIConnectionError, o.RateLimitError)):
            return True
        return isinstance(exc, o.APIStatusError) and exc.status_code >= 500

    def _wait(self, state: tenacity.RetryCallState) -> float:
        """Backoff before the next attempt: llm_backoff x 2^(attempt-1), or the server's Retry-After if longer."""
        delay = self.settings.llm_backoff * 2 ** (state.attempt_number - 1)
        asked = retry_after(state.outcome.exception()) if state.outcome else None
        return max(delay, asked or 0.0)

    def _timeout(self, seconds: float, read_slack: float = 0.0):
        return self._httpx.Timeout(seconds + read_slack, connect=min(seconds, 10.0))

    def _request(self, deadline: float, make: Callable[[float], Any]) -> tuple[Any, int]:
        """`make(timeout_seconds)` with retries while the deadline allows: (its result, attempts), or LLMError."""
        attempts = 0
        timeouts: list[float] = []
        retries, per_request = self.settings.llm_retries, self.settings.llm_timeout

        def attempt():
            nonlocal attempts
            attempts += 1
            timeouts.append(max(min(per_request, deadline - time.monotonic()), 0.01))
            return make(timeouts[-1])

        def stop(state: tenacity.RetryCallState) -> bool:
            left = deadline - time.monotonic()
            return state.attempt_number > retries or self._wait(state) + MIN_ATTEMPT_SHARE * per_request > left

        def before_sleep(state: tenacity.RetryCallState) -> None:
            log.info("LLM request failed (%s); retrying in %.1f s", type(state.outcome.exception()).__name__,
                     self._wait(state))

        retrying = tenacity.Retrying(retry=tenacity.retry_if_exception(self._retryable), stop=stop, wait=self._wait,
                                     before_sleep=before_sleep, reraise=True)
        try:
            return retrying(attempt), attempts
        except Exception as exc:  # noqa: BLE001 - every failure becomes a user-facing LLMError
            message = self._explain(exc, attempts, timeouts[-1] if timeouts else per_request, deadline)
            log.info("%s", message)
            raise LLMError(message) from None

    def _explain(self, exc: BaseException, attempts: int, timeout: float, deadline: float) -> str:
        """The error, and why no further attempt was made when retries were left: the deadline."""
        total = self.settings.llm_deadline_seconds
        if isinstance(exc, self._openai.APITimeoutError) and timeout < 0.95 * self.settings.llm_timeout:
            # the deadline cut this attempt short
            message = (f"The LLM server at {self.where} did not answer before the question's {total:g} s deadline "
                       f"(llm_deadline; {attempts_text(attempts)}).")
        else:
            message = describe_openai_error(exc, self.where, self.settings.llm_timeout, attempts, self.name)
            if self._retryable(exc) and attempts <= self.settings.llm_retries:
                asked = retry_after(exc)
                if asked is not None and asked > deadline - time.monotonic():
                    message += (f" It asked to retry after {asked:g} s, past the question's {total:g} s deadline "
                                "(llm_deadline).")
                else:
                    message += f" No time was left for another attempt before the {total:g} s deadline (llm_deadline)."
        return redact(message, [self._key])

    # --- requests -----------------------------------------------------------------------------------
    def _params(self, messages: Messages, max_tokens: int) -> dict[str, Any]:
        """OpenAI's own API wants `max_completion_tokens` (its reasoning models reject `max_tokens` and any
        temperature but the default); compatible servers know `max_tokens`."""
        params: dict[str, Any] = {"model": self.name, "messages": messages}
        if not _REASONING_MODEL.match(self.name.split("/")[-1]):
            params["temperature"] = self.settings.llm_temperature
        params["max_completion_tokens" if not self.settings.openai_base_url else "max_tokens"] = max_tokens
        return params

    def _deadline(self, deadline: float | None) -> float:
        return deadline if deadline is not None else time.monotonic() + self.settings.llm_deadline_seconds

    def complete(self, messages: Messages, max_tokens: int, deadline: float | None = None) -> Reply:
        """One chat completion, with retries."""
        params = self._params(messages, max_tokens)
        response, attempts = self._request(self._deadline(deadline), lambda seconds: self._client.chat.completions
                                           .create(**params, timeout=self._timeout(seconds)))
        reply = Reply(attempts=attempts)
        if isinstance(response, str):  # the SDK hands back the body as text when it is not JSON
            raise LLMError(not_a_completion(self.where, response))
        try:
            choice = response.choices[0]
            reply.text = choice.message.content or ""
            reply.finish_reason = choice.finish_reason
        except (AttributeError, IndexError, TypeError) as exc:
            raise LLMError(describe_openai_error(exc, self.where, self.settings.llm_timeout)) from None
        if response.usage is not None:
            reply.prompt_tokens = response.usage.prompt_tokens or 0
            reply.completion_tokens = response.usage.completion_tokens or 0
            reply.reported = True
        return reply

    def stream(self, messages: Messages, max_tokens: int, reply: Reply, deadline: float | None = None) -> Iterator[str]:
        """Yield text pieces as the server sends them (SSE) and fill `reply`. Opening the stream is retried;
        once it is open, a stall, the deadline or a broken connection ends it with an LLMError."""
        deadline = self._deadline(deadline)
        params = self._params(messages, max_tokens)
        params.update(stream=True, stream_options={"include_usage": True})
        # The socket's read timeout is only a backstop that frees the reader thread: pull_within sees a stall first.
        events, reply.attempts = self._request(deadline, lambda seconds: self._client.chat.completions.create(
            **params, timeout=self._timeout(seconds, read_slack=1.0)))
        stall, total = self.settings.llm_timeout, self.settings.llm_deadline_seconds
        chunks = 0
        try:
            for chunk in pull_within(events, stall=stall, deadline=deadline):  # closes `events` when it ends
                chunks += 1
                piece = self._read_chunk(chunk, reply)
                if piece:
                    reply.text += piece
                    yield piece
        except StreamTimeout as timeout:
            raise LLMError(stream_timeout_message(self.where, len(reply.text), timeout, stall, total)) from None
        except (self._httpx.TimeoutException, self._openai.APITimeoutError):  # the backstop fired first
            raise LLMError(stream_timeout_message(self.where, len(reply.text), StreamTimeout(stall, stalled=True),
                                                  stall, total)) from None
        except (self._httpx.TransportError, self._openai.APIConnectionError) as exc:
            raise LLMError(f"The LLM stream from {self.where} broke off after {len(reply.text)} characters "
                           f"({type(exc).__name__}).") from None
        except Exception as exc:  # noqa: BLE001 - a chunk that is not what the protocol says
            raise LLMError(redact(describe_openai_error(exc, self.where, stall), [self._key])) from None
        if not chunks:  # a 200 whose body held no server-sent events: an HTML page, a JSON error, nothing
            response = getattr(events, "response", None)
            kind = response.headers.get("content-type", "") if response is not None else ""
            raise LLMError(not_a_completion(self.where, "<html>" if "html" in kind else "", streaming=True))

    @staticmethod
    def _read_chunk(chunk, reply: Reply) -> str | None:
        usage = getattr(chunk, "usage", None)
        if usage is not None:
            reply.prompt_tokens = usage.prompt_tokens or 0
            reply.completion_tokens = usage.completion_tokens or 0
            reply.reported = True
        if not chunk.choices:
            return None
        choice = chunk.choices[0]
        if choice.finish_reason:
            reply.finish_reason = choice.finish_reason
        return choice.delta.content if choice.delta is not None else None
