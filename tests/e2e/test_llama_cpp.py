"""End to end against a real `llama_cpp.server` with a tiny random-weight GGUF: proves the wire path.

Skipped unless llama-cpp-python (with its server extra) and gguf are importable. They are not test requirements:
llama-cpp-python has no wheel for this Python and compiles for about 7 minutes. `.ci/run` builds them once in a
virtualenv of their own and points LLAMA_CPP_PYTHON at it, so CI runs this test. To run it yourself:

    CMAKE_ARGS="-DGGML_NATIVE=OFF" .venv/bin/pip install 'llama-cpp-python[server]' gguf
    .venv/bin/python -m pytest tests/e2e/test_llama_cpp.py -q

or install them into another virtualenv and point at its interpreter (the server and the GGUF writer run
there, the test here):

    python -m venv /tmp/llama && CMAKE_ARGS="-DGGML_NATIVE=OFF" /tmp/llama/bin/pip install 'llama-cpp-python[server]' gguf
    LLAMA_CPP_PYTHON=/tmp/llama/bin/python .venv/bin/python -m pytest tests/e2e/test_llama_cpp.py -q

The model's text is gibberish; what is checked is that our client, its streaming and usage accounting work
against a real OpenAI-compatible server that we did not write.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import SEEDS, free_port

from assistant import Answer, Assistant

pytestmark = pytest.mark.llama_cpp
LLAMA_PYTHON = os.environ.get("LLAMA_CPP_PYTHON") or sys.executable
HERE = Path(__file__).resolve().parents[1]  # tests/, where tiny_gguf.py is


def _importable(python: str, *modules: str) -> bool:
    code = "; ".join(f"import {m}" for m in modules)
    try:
        return subprocess.run([python, "-c", code], capture_output=True, timeout=120).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


if not _importable(LLAMA_PYTHON, "llama_cpp.server", "gguf"):
    pytest.skip("llama-cpp-python[server] and gguf are not installed for " + LLAMA_PYTHON + " (a 7-minute "
                "compile, not a test dependency); see this file's docstring to run it, or set LLAMA_CPP_PYTHON",
                allow_module_level=True)


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("llama")
    model = folder / "tiny.gguf"
    subprocess.run([LLAMA_PYTHON, str(HERE / "tiny_gguf.py"), str(model)], check=True)
    port = free_port()
    log = open(folder / "server.log", "w")
    process = subprocess.Popen(
        [LLAMA_PYTHON, "-m", "llama_cpp.server", "--model", str(model), "--model_alias", "tiny",
         "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "8192", "--chat_format", "chatml",
         "--n_threads", "1"],
        stdout=log, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}/v1"
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + 120
    while True:
        try:
            with opener.open(f"{base_url}/models", timeout=2) as response:
                models = json.loads(response.read())
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                log.close()
                pytest.fail("llama_cpp.server did not start:\n" + (folder / "server.log").read_text()[-3000:])
            time.sleep(0.2)
    assert models["data"][0]["id"] == "tiny"
    yield base_url
    process.terminate()
    process.wait(timeout=10)
    log.close()


def test_answers_stream_through_a_real_llama_cpp_server(llama_server, seeded_index):
    assistant = Assistant(index_dir=seeded_index, corpus_dir=SEEDS, answer_mode="llm", openai_base_url=llama_server,
                          llm_model="tiny", top_k=2, llm_max_answer_tokens=24, llm_context_window=8192,
                          llm_timeout=120, llm_retries=0)
    items = list(assistant.stream("In which province were the airstrikes carried out?"))
    answer = items[-1]
    pieces = [i for i in items if isinstance(i, str)]
    assert isinstance(answer, Answer)
    assert answer.mode == "llm", answer.notes  # no fallback: the server answered
    assert pieces and "".join(pieces).strip()
    assert answer.usage["prompt_tokens"] > 100 and answer.usage["completion_tokens"] > 0
    assert answer.usage["cost_usd"] is None  # a local model has no price
    assert all(c.verified in (True, False) for c in answer.citations)


def test_a_non_streamed_answer_and_a_follow_up(llama_server, seeded_index):
    assistant = Assistant(index_dir=seeded_index, corpus_dir=SEEDS, answer_mode="llm", openai_base_url=llama_server,
                          llm_model="tiny", top_k=2, llm_max_answer_tokens=16, llm_timeout=120, llm_retries=0)
    answer = assistant.ask("and who ordered them?", history=[("Where were the airstrikes?", "In Deir al-Zour.")])
    assert answer.mode == "llm", answer.notes
    assert answer.usage["calls"] == 2 and answer.question  # the condense request went through the server too
