"""The question's LLM deadline and broken streams, against the scripted server process, through the API and the
`assistant ask` command (a real process): Retry-After never extends a question past its deadline, a stream that
stalls is reported as a stall, and the CLI shows what replaced a broken answer, once."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from conftest import ROOT, SEEDS
from llm_support import *  # noqa: F403 - fixtures: scripted, llm_assistant
from llm_support import cite

QUESTION = "In which province were the airstrikes carried out?"
PROVINCE = f"The airstrikes were carried out in the eastern province of Deir al-Zour {cite(2)}."


def _warm(assistant):
    """First questions load models; time only the LLM part."""
    assistant.ask(QUESTION, mode="offline")
    return assistant


def test_retry_after_past_the_deadline_is_not_waited(scripted, llm_assistant):
    assistant = _warm(llm_assistant(llm_timeout=3, llm_retries=2))  # deadline 3 x (2 + 1) = 9 s
    scripted.script(*[{"status": 429, "error": "slow down", "headers": {"Retry-After": "100"}}] * 3)
    started = time.monotonic()
    answer = assistant.ask(QUESTION)
    assert time.monotonic() - started < 9  # was 62 s: two waits of 30 s
    assert answer.mode == "offline" and answer.citations
    assert len(scripted.requests()) == 1
    assert answer.notes == [f"The LLM server at {scripted.base_url} kept refusing with HTTP 429 (rate limit or quota, "
                            "1 attempt). It asked to retry after 100 s, past the question's 9 s deadline "
                            "(llm_deadline). Answered offline instead."]


def test_retry_after_within_the_deadline_is_honoured(scripted, llm_assistant):
    assistant = _warm(llm_assistant(llm_timeout=3, llm_retries=2))
    scripted.script({"status": 503, "error": "busy", "headers": {"Retry-After": "1.5"}}, {"content": PROVINCE})
    started = time.monotonic()
    answer = assistant.ask(QUESTION)
    assert time.monotonic() - started >= 1.5
    assert answer.mode == "llm" and answer.citations[0].verified and answer.notes == []
    assert len(scripted.requests()) == 2


def test_waits_and_attempts_all_end_by_the_deadline(scripted, llm_assistant):
    # each attempt hangs; the retries would take 4 x 2 s, but the question may spend 3 s on the LLM in all
    assistant = _warm(llm_assistant(llm_timeout=2, llm_retries=3, llm_deadline=3))
    scripted.script(*[{"hang": 30, "content": PROVINCE}] * 4)
    started = time.monotonic()
    answer = assistant.ask(QUESTION)
    assert time.monotonic() - started < 3 + 4  # the deadline, and the offline answer after it (loaded CI)
    assert answer.mode == "offline" and len(scripted.requests()) == 2
    assert any("did not answer before the question's 3 s deadline (llm_deadline; 2 attempts)" in n
               for n in answer.notes)


def _cli(args, env_extra, **kw):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ASSISTANT_", "OPENAI_"))}
    env.update(env_extra)
    return subprocess.run([sys.executable, "-m", "assistant.cli", *args], capture_output=True, env=env, cwd=ROOT,
                          timeout=300, **kw)


def test_cli_prints_a_stalled_answer_once_and_says_what_replaced_it(scripted, seeded_index):
    scripted.script({"content": PROVINCE, "hang_after": 4, "hang": 30})
    proc = _cli(["ask", QUESTION, "--mode", "llm"], {
        "ASSISTANT_INDEX_DIR": str(seeded_index), "ASSISTANT_CORPUS_DIR": str(SEEDS),
        "OPENAI_BASE_URL": scripted.base_url, "ASSISTANT_LLM_TIMEOUT": "1", "ASSISTANT_LLM_DEADLINE": "20"},
        text=True)
    assert proc.returncode == 0, proc.stderr
    out, err = proc.stdout, proc.stderr
    partial, replaced = out.split("[The LLM's answer stopped there; the offline answer below replaces it.]")
    assert partial.strip() == "The airstrikes were carried"  # the 4 words that came, shown once
    offline = replaced.strip().split("\n\n")[0]
    assert "Deir al-Zour" in offline and out.count(offline) == 1  # the replacement, shown once
    assert "¶2" in replaced  # its citations
    assert err.count("stopped sending after 28 characters for 1 s") == 1  # one note, no log line beside it
    assert "OpenAI-compatible" not in err and "Traceback" not in err


def test_cli_ask_with_a_question_that_is_not_utf8_is_refused_clearly(tmp_path):
    proc = _cli(["ask", b"caf\xe9 \xff?"], {"ASSISTANT_INDEX_DIR": str(tmp_path / "index"),
                                            "ASSISTANT_CORPUS_DIR": str(SEEDS)}, text=True)
    assert proc.returncode == 2
    assert "the question is not valid UTF-8 text" in proc.stderr and "Traceback" not in proc.stderr
