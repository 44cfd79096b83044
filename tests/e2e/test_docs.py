"""The documentation runs as written: every ```python and ```bash block of README.md and docs/*.md is executed in
a fresh process (python, or bash with the package's `assistant` on the PATH), in a folder laid out like a checkout:
the seed article and an index of it, the shipped suites, and the files the examples name (report.pdf, notes.md,
notes/, corpus.jsonl). A block marked `<!-- docs-test: server -->` runs against a real `assistant serve` process,
its address put in place of 127.0.0.1:7860 / localhost:7860. A block that cannot run here is marked
`<!-- docs-test: not run (why) -->` beside it, where a reader sees the why. The configuration page is generated
from the settings and must be up to date."""

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
from hostile_files import three_page_pdf
from test_ui_server import SERVE, start_app

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"(?:<!-- docs-test: ([^>]*?) -->\n)?```(python|bash)\n(.*?)```", re.DOTALL)
TIMEOUT = 300  # a hang guard on a loaded 2-core machine


@dataclass(frozen=True)
class Block:
    page: Path
    line: int
    language: str
    code: str
    mark: str

    def __str__(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def blocks() -> list[Block]:
    found = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for match in BLOCK.finditer(text):
            found.append(Block(page=page, line=text.count("\n", 0, match.start(3)) + 1, language=match.group(2),
                               code=match.group(3), mark=match.group(1) or ""))
    return found


RUNNABLE = [b for b in blocks() if not b.mark.startswith("not run")]


def test_the_docs_have_python_blocks_and_every_exclusion_says_why():
    assert sum(b.language == "python" for b in RUNNABLE) >= 5 and sum(b.language == "bash" for b in RUNNABLE) >= 4
    for block in blocks():
        if block.mark.startswith("not run"):
            assert re.match(r"not run \(.{10,}\)", block.mark), f"{block}: say why the block is not run"


@pytest.fixture(scope="module")
def workdir(tmp_path_factory, seeded_index) -> Path:
    folder = tmp_path_factory.mktemp("docs")
    shutil.copytree(SEEDS, folder / "seeds")
    shutil.copytree(seeded_index, folder / "index")
    example_files(folder)
    return folder


def example_files(folder: Path) -> None:
    """The files the examples name, and the shipped suites, where a checkout has them."""
    shutil.copytree(ROOT / "benchmarks" / "suites", folder / "benchmarks" / "suites")
    three_page_pdf(folder / "report.pdf", [
        "Harbour report 2024\n\nThe ferry ran 4,210 crossings in the year.\n\nThe north quay was repaired in March.",
        "Dredging cost 1.2 million euros.\n\nThe survey found the channel two metres deeper than in 2019.",
        "The council closed the old mill bridge in November."], title="Harbour report 2024")
    (folder / "notes.md").write_text("# Notes\n\nThe harbour master retires in June.\n", encoding="utf-8")
    (folder / "notes").mkdir()
    (folder / "notes" / "ferry.md").write_text("# Ferry\n\nThe winter timetable starts in October.\n",
                                               encoding="utf-8")
    (folder / "corpus.jsonl").write_text(
        '{"doc_id": "mill", "title": "The mill", "text": "The mill was built in 1822.\\n\\nIt closed in 1961."}\n',
        encoding="utf-8")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    running = start_app(tmp_path_factory.mktemp("docs-server"), SERVE)
    yield running
    running.stop()


@pytest.mark.parametrize("block", RUNNABLE, ids=str)
def test_block_runs_as_written(block, workdir, request):
    code = block.code
    if block.mark == "server":
        url = request.getfixturevalue("server").url
        code = code.replace("http://127.0.0.1:7860/", url).replace("localhost:7860/", url.split("//", 1)[1])
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ASSISTANT_", "OPENAI_"))}
    env.update(PYTHONUNBUFFERED="1", ASSISTANT_EVAL_CACHE=str(workdir / ".eval-cache"),
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}")
    command = [sys.executable, "-c", code] if block.language == "python" else ["bash", "-e", "-o", "pipefail", "-c", code]
    done = subprocess.run(command, cwd=workdir, env=env, capture_output=True, text=True, timeout=TIMEOUT,
                          check=False, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, f"{block} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    assert '{"error"' not in done.stdout, f"{block}: a request failed:\n{done.stdout[-3000:]}"
    assert not (workdir / "seeds" / "index").exists()


def test_the_configuration_page_is_generated_from_the_settings():
    done = subprocess.run([sys.executable, "-m", "assistant.config.doc", "--check"], cwd=ROOT,
                          capture_output=True, text=True, timeout=TIMEOUT, check=False)
    assert done.returncode == 0, done.stderr
    page = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    from assistant.config.settings import Settings

    for name in Settings.model_fields:
        assert f"| `{name}` |" in page
