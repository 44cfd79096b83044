"""`assistant chat` as a user types it: a real process on a pseudo-terminal (pexpect), a real index, and the
scripted OpenAI-compatible server process for llm mode."""

from __future__ import annotations

import os
import shutil
import signal
import sys
from pathlib import Path

import pexpect
import pytest
from conftest import ROOT, SEEDS
from llm_support import *  # noqa: F403 - fixtures: scripted
from llm_support import cite

ASSISTANT = str(Path(sys.executable).with_name("assistant"))
PROMPT = "\n> "
PROVINCE = f"The airstrikes were carried out in the eastern province of Deir al-Zour {cite(2)}."
ORDERED = f"They were carried out under the direction of President Biden {cite(2)}."


def ctrl_c_interrupts() -> None:
    """Run in the child before `assistant chat` starts: Ctrl-C interrupts it, as it does a command typed at a
    terminal. A test run started in the background by a non-interactive shell (`pytest ... &`, a CI script) has
    SIGINT ignored; every child inherits that, and Python then never raises KeyboardInterrupt, so the Ctrl-C the
    test types would be echoed and do nothing (the answer streams on to its end)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.fixture
def chat(seeded_index, scripted, tmp_path):
    """Start `assistant chat` in a pseudo-terminal, in a working directory of its own, with its user data folder
    under tmp_path."""
    index = tmp_path / "index"
    shutil.copytree(seeded_index, index)
    work = tmp_path / "work"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ASSISTANT_", "OPENAI_"))}
    env.update(ASSISTANT_INDEX_DIR=str(index), ASSISTANT_CORPUS_DIR=str(SEEDS), OPENAI_BASE_URL=scripted.base_url,
               XDG_DATA_HOME=str(tmp_path / "data"), LANG="C.UTF-8", TERM="dumb")
    children = []

    def start(*args: str) -> pexpect.spawn:
        child = pexpect.spawn(ASSISTANT, ["chat", *args], env=env, cwd=str(work), encoding="utf-8",
                              codec_errors="replace", timeout=120, dimensions=(50, 400),
                              preexec_fn=ctrl_c_interrupts)
        children.append(child)
        child.expect("/help for commands, Ctrl-D to leave.")
        child.expect(PROMPT)
        return child

    start.work = work
    start.history = tmp_path / "data" / "assistant" / "chat_history"
    yield start
    for child in children:
        if child.isalive():
            child.terminate(force=True)


def ask(child: pexpect.spawn, line: str) -> str:
    """Type a line; everything printed until the next prompt."""
    child.sendline(line)
    child.expect(PROMPT)
    return child.before


def test_a_conversation_with_follow_ups_sources_modes_and_reset(chat, scripted):
    child = chat()
    first = ask(child, "Where were the airstrikes?")
    assert ("Syria" in first or "Deir al-Zour" in first) and "[1]" in first and "sources: [1]" in first

    second = ask(child, "and who ordered them?")  # offline: searched together with the previous question
    assert "President Bidens" in second or "Donald Trump" in second

    sources = ask(child, "/sources")
    assert "¶" in sources and "“" in sources and "000_f1b9941059cdcad5.txt" in sources

    assert "Answer mode: llm (gpt-4o-mini at " + scripted.base_url in ask(child, "/mode llm")
    scripted.script({"content": "Who directed the airstrikes in Deir al-Zour?"}, {"content": ORDERED})
    third = ask(child, "who ordered the strikes?")
    assert "under the direction of President Biden [1]." in third
    condense = scripted.requests()[0]["body"]["messages"][-1]["content"]
    assert "Where were the airstrikes?" in condense and "and who ordered them?" in condense  # the history went along
    assert "under the direction of President Biden" in ask(child, "/sources")

    assert "Conversation cleared" in ask(child, "/reset")
    assert "No answer yet" in ask(child, "/sources")
    scripted.script({"content": PROVINCE})
    ask(child, "Where were the strikes?")
    assert len(scripted.requests()) == 3  # after /reset: no condense request, the question stands alone

    assert "Answer mode: offline" in ask(child, "/mode offline")
    assert "Unknown mode" in ask(child, "/mode loud")
    assert "/sources" in ask(child, "/help")

    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    kept = chat.history.read_text()
    assert "Where were the airstrikes?" in kept and "/mode llm" in kept
    assert oct(chat.history.stat().st_mode & 0o777) == "0o600"
    assert list(chat.work.iterdir()) == []  # nothing written where the user ran it


def test_empty_and_invalid_lines_get_a_message_and_ctrl_c_stops_only_the_answer(chat, scripted):
    child = chat("--mode", "llm")
    assert "Type a question about the documents" in ask(child, "")
    os.write(child.child_fd, b"caf\xe9 \xff?\n")
    child.expect(PROMPT)
    assert "not valid UTF-8" in child.before and "Traceback" not in child.before

    scripted.script({"content": PROVINCE + " " + PROVINCE, "chunk_delay": 0.5})
    child.sendline("Where were the airstrikes?")
    child.expect("airstrikes ")  # the answer has started streaming
    child.sendintr()
    child.expect(PROMPT)
    assert "[Stopped." in child.before and "Traceback" not in child.before

    scripted.script({"content": PROVINCE})
    again = ask(child, "Where were the airstrikes?")
    assert "Deir al-Zour [1]." in again  # the session goes on
    child.sendintr()  # Ctrl-C at the prompt: a fresh prompt
    child.expect("> ")
    child.sendline("/quit")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def test_llm_mode_without_a_server_is_refused_with_the_reason(tmp_path, seeded_index):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ASSISTANT_", "OPENAI_"))}
    env.update(ASSISTANT_INDEX_DIR=str(seeded_index), ASSISTANT_CORPUS_DIR=str(SEEDS),
               XDG_DATA_HOME=str(tmp_path), LANG="C.UTF-8", TERM="dumb")
    child = pexpect.spawn(ASSISTANT, ["chat"], env=env, cwd=str(ROOT), encoding="utf-8", timeout=120)
    child.expect(PROMPT)
    output = ask(child, "/mode llm")
    assert "LLM mode is not available: No OpenAI API key" in output
    assert "Answer mode: offline" in ask(child, "/mode")
    child.sendeof()
    child.expect(pexpect.EOF)
