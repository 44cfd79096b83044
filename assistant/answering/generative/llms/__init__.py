"""Chat models for llm mode: one small interface (base.ChatModel: complete + stream), two implementations.

- `OpenAIChat` (openai_chat.py): the built-in path, the plain `openai` client to OpenAI or any OpenAI-compatible
  server, configured by settings (OPENAI_API_KEY, OPENAI_BASE_URL, ASSISTANT_LLM_MODEL...).
- `LlamaIndexChat` (llama_index_chat.py): any llama-index LLM passed as `Assistant(llm=...)`.
"""

from __future__ import annotations

from typing import Any

from assistant.answering.generative.llms.base import ChatModel, LLMError, Reply

__all__ = ["ChatModel", "LLMError", "Reply", "chat_model_for"]


def chat_model_for(settings, llm: Any = None) -> ChatModel:
    """The llama-index LLM's wrapper when one is given, else the built-in openai client (LLMError when neither a
    key nor a server is configured)."""
    if llm is not None:
        from assistant.answering.generative.llms.llama_index_chat import LlamaIndexChat

        return LlamaIndexChat(llm, settings)
    from assistant.answering.generative.llms.openai_chat import OpenAIChat

    return OpenAIChat(settings)
