"""The documentation runs as written: every ```python block of README.md and docs/*.md is executed in a fresh
process, in a folder holding the seed article, against an index of it (a block marked
`<!-- docs-test: server -->` against a real `assistant serve` process, its URL put in place of 127.0.0.1:7860).
A block that cannot run here is marked `<!-- docs-test: not run (why) -->` beside it, where a reader sees the why.
The configuration page is generated from the settings and must be up to date."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import ROOT, SEEDS
from test_ui_server import SERVE, start_app

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"(?:<!-- docs-test: ([^>]*?) -->\n)?```python\n(.*?)```", re.DOTALL)
TIMEOUT = 300  # a hang guard on a loaded 2-core machine


@dataclass(frozen=True)
class Block:
    page: Path
    line: int
    code: str
    mark: str

    def __str__(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def blocks() -> list[Block]:
    found = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for match in BLOCK.finditer(text):
            found.append(Block(page, text.count("\n", 0, match.start(2)) + 1, match.group(2), match.group(1) or ""))
    return found


RUNNABLE = [b for b in blocks() if not b.mark.startswith("not run")]


def test_the_docs_have_python_blocks_and_every_exclusion_says_why():
    assert len(RUNNABLE) >= 5
    for block in blocks():
        if block.mark.startswith("not run"):
            assert re.match(r"not run \(.{10,}\)", block.mark), f"{block}: say why the block is not run"


@pytest.fixture(scope="module")
def workdir(tmp_path_factory, seeded_index) -> Path:
    folder = tmp_path_factory.mktemp("docs")
    shutil.copytree(SEEDS, folder / "seeds")
    shutil.copytree(seeded_index, folder / "index")
    return folder


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    running = start_app(tmp_path_factory.mktemp("docs-server"), SERVE)
    yield running
    running.stop()


@pytest.mark.parametrize("block", RUNNABLE, ids=str)
def test_block_runs_as_written(block, workdir, request):
    code = block.code
    if block.mark == "server":
        code = code.replace("http://127.0.0.1:7860/", request.getfixturevalue("server").url)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ASSISTANT_", "OPENAI_"))}
    env["PYTHONUNBUFFERED"] = "1"
    done = subprocess.run([sys.executable, "-c", code], cwd=workdir, env=env, capture_output=True, text=True,
                          timeout=TIMEOUT, check=False)
    assert done.returncode == 0, f"{block} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    assert not (workdir / "seeds" / "index").exists()


def test_the_configuration_page_is_generated_from_the_settings():
    done = subprocess.run([sys.executable, "-m", "assistant.config.doc", "--check"], cwd=ROOT,
                          capture_output=True, text=True, timeout=TIMEOUT, check=False)
    assert done.returncode == 0, done.stderr
    page = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    from assistant.config.settings import Settings

    for name in Settings.model_fields:
        assert f"| `{name}` |" in page
