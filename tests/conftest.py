"""Shared fixtures: real Chroma in temp folders, the real MiniLM model, the seed article.

Every test runs with ASSISTANT_* / OPENAI_* variables cleared, so a developer's own configuration never
leaks into a test.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
SEED_DOC = "000_f1b9941059cdcad5.txt"

for _name in list(os.environ):
    if _name.startswith(("ASSISTANT_", "OPENAI_")):
        del os.environ[_name]
# The user's data folder (where an index is kept when none is found nearer, and the chat's history): one of the
# test session's own, for every process the tests start, never the developer's.
os.environ["XDG_DATA_HOME"] = tempfile.mkdtemp(prefix="assistant-tests-data-")

from assistant import Assistant  # noqa: E402  (after the environment is clean)


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    for name in list(os.environ):
        if name.startswith(("ASSISTANT_", "OPENAI_")):
            monkeypatch.delenv(name)


@pytest.fixture
def make_assistant(tmp_path):
    """Build an Assistant on a fresh index folder under tmp_path (corpus: an empty folder unless given); each is
    closed when the test ends (the suite opens hundreds)."""
    made: list[Assistant] = []

    def make(**overrides) -> Assistant:
        overrides.setdefault("index_dir", tmp_path / "index")
        overrides.setdefault("corpus_dir", tmp_path / "no-corpus")
        made.append(Assistant(**overrides))
        return made[-1]

    yield make
    for assistant in made:
        assistant.close()


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


# --- headless Chromium (Debian's package + playwright) ------------------------------------------------------
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"]


def _browser_unavailable(reason: str):
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"browser tests need {reason} on CI (.ci/run installs Debian's chromium)")
    pytest.skip(f"browser test skipped: {reason} (apt-get install --no-install-recommends chromium; "
                "pip install -e '.[test]'); with CI=true this fails instead")


@pytest.fixture(scope="module")
def browser():
    """A headless Chromium for the module's tests. With CI=true a missing browser fails instead of skipping."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _browser_unavailable("the playwright package")
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        _browser_unavailable(f"Chromium at {CHROMIUM}")
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


# Modules whose tests start servers, browsers, many processes or kill ingests: `pytest -m "not slow"` leaves them
# out for a quick loop (a few minutes on 2 cores); the README's test command and CI run everything.
SLOW_MODULES = {
    "test_crash_safety", "test_many_processes", "test_ui_browser", "test_upload_browser", "test_ui_server",
    "test_server_api", "test_ui_api", "test_disk_full", "test_hostile_files", "test_llama_cpp", "test_chroma_server",
    "test_chat_cli", "test_index_damage", "test_check", "test_docs", "test_packaging", "test_mirror_cache",
}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.module.__name__.rsplit(".", 1)[-1] in SLOW_MODULES or item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.slow)


def pytest_terminal_summary(terminalreporter):
    """A run that skipped the browser tests says so in its last lines, with how to get Chromium: "passed" must
    not read as "the page was tested"."""
    skipped = [r for r in terminalreporter.stats.get("skipped", []) if "browser test skipped" in str(r.longrepr)]
    if skipped:
        terminalreporter.write_line(
            f"NOTE: {len(skipped)} browser test(s) were skipped: the page was not tested. Install Chromium "
            "(apt-get install --no-install-recommends chromium) and playwright (pip install -e '.[test]') to run "
            "them; .ci/run does.", yellow=True, bold=True)
