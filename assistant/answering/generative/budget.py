"""Token budget for the LLM prompt, counted with the model's own tiktoken encoding, and token prices.

Why count at all: a prompt that overflows the model's context window is rejected (OpenAI) or silently cut from
the front (llama.cpp, Ollama), which loses the instructions. So the retrieved paragraphs go in, best first, only
while they fit in `context_window - max_answer_tokens - everything else in the prompt`.

Counting is offline: `assistant._offline` points TIKTOKEN_CACHE_DIR at the BPE files llama-index-core ships
(cl100k_base, o200k_base). Models tiktoken does not know (llama, qwen, mistral on a local server) are counted
with cl100k_base: an estimate, and the budget keeps a safety margin for that reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from assistant.types import Context

FALLBACK_ENCODING = "cl100k_base"
# Per chat message the API adds a few tokens of framing (role, separators); OpenAI's cookbook counts 3 + 3.
TOKENS_PER_MESSAGE = 4
TOKENS_PER_REPLY = 3
SAFETY_MARGIN = 0.05  # share of the window kept free for counting differences on non-OpenAI models

# USD per million tokens (prompt, completion), list prices of the public OpenAI API (checked mid-2025).
# A model not listed has no known price: its cost is reported as None, never guessed. Override with the
# settings llm_input_price / llm_output_price (e.g. for a provider with other prices).
PRICES: dict[str, tuple[float, float]] = {
    "gpt-5": (1.25, 10.00),
    "gpt-5-mini": (0.25, 2.00),
    "gpt-5-nano": (0.05, 0.40),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-4o": (2.50, 10.00),
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4-turbo": (10.00, 30.00),
    "gpt-4": (30.00, 60.00),
    "gpt-3.5-turbo": (0.50, 1.50),
    "o1": (15.00, 60.00),
    "o1-mini": (1.10, 4.40),
    "o3": (2.00, 8.00),
    "o3-mini": (1.10, 4.40),
    "o4-mini": (1.10, 4.40),
}
_DATED = re.compile(r"-(\d{4}-\d{2}-\d{2}|\d{4})$")  # gpt-4o-mini-2024-07-18, gpt-4-0613


def price_of(model: str) -> tuple[float, float] | None:
    """(prompt, completion) USD per million tokens, or None when the model's price is not known."""
    name = model.strip().lower()
    name = name.split("/")[-1]  # "openai/gpt-4o-mini" as some proxies spell it
    return PRICES.get(name) or PRICES.get(_DATED.sub("", name))


def cost_usd(model: str, prompt_tokens: int, completion_tokens: int,
             input_price: float | None = None, output_price: float | None = None) -> float | None:
    """Estimated cost of one request; None for an unknown price."""
    known = price_of(model)
    if input_price is None and output_price is None and known is None:
        return None
    p_in = input_price if input_price is not None else (known[0] if known else 0.0)
    p_out = output_price if output_price is not None else (known[1] if known else 0.0)
    return round((prompt_tokens * p_in + completion_tokens * p_out) / 1_000_000, 8)


@lru_cache(maxsize=16)
def encoding_for(model: str, override: str | None = None):
    """The model's tiktoken encoding (offline); cl100k_base for models tiktoken cannot map or load."""
    import tiktoken

    if override:
        return tiktoken.get_encoding(override)
    try:
        return tiktoken.encoding_for_model(model.split("/")[-1])
    except Exception:  # unknown model name, or an encoding whose file is not shipped (no network)
        return tiktoken.get_encoding(FALLBACK_ENCODING)


def count_tokens(text: str, encoding) -> int:
    return len(encoding.encode(text, disallowed_special=()))


def count_messages(messages: list[dict[str, str]], encoding) -> int:
    """Prompt tokens of a chat request, framing included."""
    return sum(TOKENS_PER_MESSAGE + count_tokens(m["content"], encoding) for m in messages) + TOKENS_PER_REPLY


def source_block(number: int, context: Context) -> str:
    """How one retrieved paragraph appears in the prompt: its marker number, title and ¶ number, then text."""
    return f"[{number}] {context.title} ¶{context.paragraph}\n{context.text.strip()}"


@dataclass
class Budget:
    """Which sources went into the prompt and what the prompt costs in tokens."""

    sources: list[Context] = field(default_factory=list)  # source [i] is sources[i - 1]
    dropped: int = 0  # retrieved paragraphs that did not fit
    truncated: bool = False  # the only source was cut to fit
    prompt_tokens: int = 0
    available: int = 0  # tokens the sources could use


def fit_sources(contexts: list[Context], fixed_tokens: int, context_window: int, max_answer_tokens: int,
                encoding) -> tuple[list[str], Budget]:
    """Number the retrieved paragraphs and keep, in rank order, as many as fit.

    `fixed_tokens` is everything else in the prompt (system text, template, question, history, framing).
    A paragraph that does not fit ends the list (the order is the retriever's, best first, and the numbering
    must stay contiguous). If not even the first fits, it is cut to the room left, so the model always sees
    the best paragraph.
    """
    available = int(context_window * (1 - SAFETY_MARGIN)) - max_answer_tokens - fixed_tokens
    budget = Budget(available=max(available, 0))
    blocks: list[str] = []
    used = 0
    for context in contexts:
        block = source_block(len(blocks) + 1, context)
        cost = count_tokens(block, encoding) + 2  # the blank line between blocks
        if used + cost > available:
            break
        blocks.append(block)
        budget.sources.append(context)
        used += cost
    if not blocks and contexts and available > 32:
        tokens = encoding.encode(source_block(1, contexts[0]), disallowed_special=())[: available - 2]
        blocks.append(encoding.decode(tokens))
        budget.sources.append(contexts[0])
        budget.truncated = True
        used = len(tokens) + 2
    budget.dropped = len(contexts) - len(budget.sources)
    budget.prompt_tokens = fixed_tokens + used
    return blocks, budget


def offline_usage(question: str, contexts: list[Context], answer: str, tokenizer: str | None = None) -> dict:
    """Token counts of an offline answer, in the shape of an LLM's usage, counted with tiktoken: the question and
    the paragraphs read as the prompt, the answer as the completion. What OpenAI clients (Open WebUI, LibreChat,
    the SDKs) show and meter; the cost is nothing. The tokenizer is `llm_tokenizer`, else gpt-4o-mini's (o200k_base)."""
    encoding = encoding_for("gpt-4o-mini", tokenizer)
    prompt = count_tokens(question, encoding) + sum(count_tokens(c.text, encoding) for c in contexts)
    completion = count_tokens(answer, encoding)
    return {"model": "offline", "prompt_tokens": prompt, "completion_tokens": completion,
            "total_tokens": prompt + completion, "cost_usd": 0.0, "estimated": True, "calls": 0,
            "tokenizer": encoding.name}
