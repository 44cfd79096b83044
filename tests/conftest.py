"""Shared fixtures: real Chroma in temp folders, the real MiniLM model, the seed article.

Every test runs with ASSISTANT_* / OPENAI_* variables cleared, so a developer's own configuration never
leaks into a test.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
SEED_DOC = "000_f1b9941059cdcad5.txt"

for _name in list(os.environ):
    if _name.startswith(("ASSISTANT_", "OPENAI_")):
        del os.environ[_name]

from assistant import Assistant  # noqa: E402  (after the environment is clean)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    for name in list(os.environ):
        if name.startswith(("ASSISTANT_", "OPENAI_")):
            monkeypatch.delenv(name)


@pytest.fixture
def make_assistant(tmp_path):
    """Build an Assistant on a fresh index folder under tmp_path (corpus: an empty folder unless given)."""

    def make(**overrides) -> Assistant:
        overrides.setdefault("index_dir", tmp_path / "index")
        overrides.setdefault("corpus_dir", tmp_path / "no-corpus")
        return Assistant(**overrides)

    return make


@pytest.fixture(scope="session")
def seeded_index(tmp_path_factory) -> Path:
    """One index of the seed article, built once per test session; copy it before writing to it."""
    folder = tmp_path_factory.mktemp("seeded") / "index"
    Assistant(index_dir=folder, corpus_dir=SEEDS).ingest([SEEDS])
    return folder


@pytest.fixture(scope="session")
def seed_assistant(seeded_index) -> Assistant:
    """A read-only Assistant over the seed article (shared: do not ingest or remove through it)."""
    return Assistant(index_dir=seeded_index, corpus_dir=SEEDS)


@pytest.fixture
def writable_seed_index(seeded_index, tmp_path) -> Path:
    target = tmp_path / "seeded-copy"
    shutil.copytree(seeded_index, target)
    return target
