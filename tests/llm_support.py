"""Fixtures for the LLM tests: the scripted OpenAI-compatible server (its own process) and llm-mode assistants.

Import the fixtures into a test module with `from llm_support import *`.
"""

from __future__ import annotations

import pytest
from conftest import SEED_DOC, SEEDS
from openai_server import ScriptedServer

from assistant import Assistant
from assistant.ingest.readers import collect

KEY = "sk-test-Zq9SECRETkey0123456789"
TITLE = next(collect([SEEDS / SEED_DOC])).title  # the title the prompt shows for the seed article

__all__ = ["KEY", "TITLE", "SEED_DOC", "scripted_server", "scripted", "llm_assistant", "cite"]


def cite(paragraph: int, title: str = TITLE) -> str:
    """A placeholder the server turns into the marker the prompt gave that paragraph ([99] if absent)."""
    return "{{cite:%s|%d}}" % (title, paragraph)


@pytest.fixture(scope="module")
def scripted_server():
    server = ScriptedServer()
    yield server
    server.close()


@pytest.fixture
def scripted(scripted_server):
    """The running server, emptied of queued replies and recorded requests."""
    scripted_server.reset()
    return scripted_server


@pytest.fixture
def llm_assistant(seeded_index, scripted):
    """Build an llm-mode Assistant over the seed article that talks to the scripted server."""

    def make(**overrides) -> Assistant:
        settings = {"index_dir": seeded_index, "corpus_dir": SEEDS, "answer_mode": "llm",
                    "openai_base_url": scripted.base_url, "openai_api_key": KEY, "llm_backoff": 0.01,
                    "llm_timeout": 10.0}
        settings.update(overrides)
        return Assistant(**settings)

    return make
