"""Streaming (SSE from a real server process), follow-up questions and chat sessions, and the CLI's ask."""

from __future__ import annotations

import json
import time

from conftest import SEEDS
from llm_support import *  # noqa: F403 - fixtures: scripted, llm_assistant
from llm_support import cite

from assistant import Answer, Assistant
from assistant.conversation import ChatSession

PROVINCE_Q = "In which province were the airstrikes carried out?"
PROVINCE = f"The airstrikes were carried out in the eastern province of Deir al-Zour {cite(2)}."
ORDERED = f"They were carried out under the direction of President Biden {cite(2)}."


def _split(items):
    pieces = [i for i in items if isinstance(i, str)]
    finals = [i for i in items if isinstance(i, Answer)]
    assert len(finals) == 1 and isinstance(items[-1], Answer)
    return pieces, finals[0]


def test_stream_yields_text_as_it_arrives_then_the_checked_answer(scripted, llm_assistant):
    scripted.script({"content": PROVINCE, "chunk_delay": 0.005})
    pieces, answer = _split(list(llm_assistant().stream(PROVINCE_Q)))
    assert len(pieces) > 5  # word by word, as the server sent it
    assert "".join(pieces) == answer.text
    assert answer.mode == "llm" and answer.citations[0].verified is True
    assert scripted.requests()[0]["body"]["stream"] is True
    assert answer.usage["completion_tokens"] > 0 and answer.usage["estimated"] is False


def test_a_streamed_refusal_never_shows_the_decline_marker(scripted, llm_assistant):
    scripted.script({"content": "NOT_IN_SOURCES"})
    pieces, answer = _split(list(llm_assistant().stream("Who won the 1998 football world cup?")))
    assert "NOT_IN" not in "".join(pieces)
    assert "".join(pieces) == answer.text and answer.refused and answer.citations == []


def test_a_stream_without_usage_is_counted_with_tiktoken(scripted, llm_assistant):
    scripted.script({"content": PROVINCE, "usage": False})
    _pieces, answer = _split(list(llm_assistant().stream(PROVINCE_Q)))
    assert answer.usage["estimated"] is True
    assert answer.usage["prompt_tokens"] > 100 and answer.usage["completion_tokens"] > 5


def test_a_malformed_stream_falls_back_offline(scripted, llm_assistant):
    scripted.script({"malformed": True})
    pieces, answer = _split(list(llm_assistant(llm_retries=0).stream(PROVINCE_Q)))
    assert answer.mode == "offline" and any("Answered offline" in n for n in answer.notes)
    assert "".join(pieces) == answer.text  # nothing of the malformed stream was shown, then the offline answer


def test_a_stream_that_stalls_midway_is_reported_as_a_stall(scripted, llm_assistant):
    scripted.script({"content": PROVINCE, "hang_after": 3, "hang": 20})
    started = time.monotonic()
    pieces, answer = _split(list(llm_assistant(llm_timeout=0.5, llm_retries=0, llm_deadline=10).stream(PROVINCE_Q)))
    assert time.monotonic() - started < 8  # the stall is noticed after 0.5 s of silence, not at the server's 20 s
    shown = "".join(pieces)
    assert shown and PROVINCE.startswith(shown)  # the first words, and nothing after them: no offline text appended
    assert answer.mode == "offline" and answer.citations and answer.text != shown
    stall = [n for n in answer.notes if "stopped sending" in n]
    assert stall == [f"The LLM stream from {scripted.base_url} stopped sending after {len(shown)} characters "
                     "for 0.5 s. Answered offline instead."]
    assert not any("OpenAI-compatible" in n for n in answer.notes)


def test_a_stream_still_running_at_the_deadline_is_stopped(scripted, llm_assistant):
    scripted.script({"content": PROVINCE + " " + PROVINCE, "chunk_delay": 0.4})
    started = time.monotonic()
    pieces, answer = _split(list(llm_assistant(llm_timeout=1, llm_retries=0, llm_deadline=2).stream(PROVINCE_Q)))
    assert time.monotonic() - started < 6
    assert answer.mode == "offline"
    assert any("was cut at the question's 2 s deadline (llm_deadline) after" in n for n in answer.notes)


def test_offline_stream_yields_the_answer_in_pieces_then_the_answer(seed_assistant):
    pieces, answer = _split(list(seed_assistant.stream(PROVINCE_Q)))
    assert len(pieces) > 1 and "".join(pieces) == answer.text and answer.mode == "offline"
    assert pieces[0] == f"{answer.span.text} — "  # the span first, then the sentences that carry it


def test_an_llm_follow_up_is_condensed_before_retrieval_and_cited(scripted, llm_assistant):
    history = [{"role": "user", "content": "Where were the airstrikes?"},
               {"role": "assistant", "content": "In the eastern province of Deir al-Zour [1]."}]
    scripted.script({"content": "Who directed the airstrikes in Deir al-Zour?"}, {"content": ORDERED})
    answer = llm_assistant().ask("and who ordered them?", history=history)
    assert answer.question == "Who directed the airstrikes in Deir al-Zour?"
    condense, final = scripted.requests()
    condense_prompt = condense["body"]["messages"][-1]["content"]
    assert "Where were the airstrikes?" in condense_prompt and "and who ordered them?" in condense_prompt
    assert "[1]" not in condense_prompt  # markers of old answers are not sent back
    assert "Who directed the airstrikes in Deir al-Zour?" in final["body"]["messages"][1]["content"]
    assert answer.citations and all(c.verified for c in answer.citations)
    assert answer.usage["calls"] == 2


def test_a_failing_condense_falls_back_offline_once(scripted, llm_assistant):
    scripted.script({"status": 500})
    answer = llm_assistant(llm_retries=0).ask("and who ordered them?", history=[("Where were the airstrikes?",
                                                                                 "In Deir al-Zour.")])
    assert len(scripted.requests()) == 1  # the answer request is not tried after the server failed
    assert answer.mode == "offline" and len([n for n in answer.notes if "HTTP 500" in n]) == 1
    assert answer.question == "Who ordered them? (follow-up to: Where were the airstrikes?)"


def test_a_chat_session_checks_citations_on_every_turn(scripted, llm_assistant):
    chat = llm_assistant().chat()
    scripted.script({"content": PROVINCE})
    first = chat.ask("Where were the airstrikes?")
    scripted.script({"content": "Who directed the airstrikes in Deir al-Zour?"}, {"content": ORDERED})
    second = chat.ask("and who ordered them?")
    scripted.script({"content": "Why were the airstrikes necessary?"},
                    {"content": "They were needed to protect and defend US personnel, Col. Joe Buccino said "
                                f"{cite(3)}. Biden ordered them {cite(12)}."})
    pieces, third = _split(list(chat.stream("why?")))
    for answer in (first, second):
        assert answer.citations and all(c.verified for c in answer.citations)
    assert {c.paragraph: c.verified for c in third.citations} == {3: True, 12: False}
    assert chat.history[0] == {"role": "user", "content": "Where were the airstrikes?"}
    assert len(chat.history) == 6 and chat.answers[-1] is third
    # the third condense request saw the whole conversation
    condense = scripted.requests()[-2]["body"]["messages"][-1]["content"]
    assert "and who ordered them?" in condense and "Where were the airstrikes?" in condense


def test_offline_follow_ups_use_the_documented_heuristic(seed_assistant):
    chat = ChatSession(seed_assistant)
    first = chat.ask("Where were the airstrikes?")
    second = chat.ask("and who ordered them?")
    third = chat.ask("When did the attack on the Tanf outpost happen?")
    assert first.question == "Where were the airstrikes?"
    assert second.question == "Who ordered them? (follow-up to: Where were the airstrikes?)"
    assert third.question == "When did the attack on the Tanf outpost happen?"  # standalone: unchanged
    assert 2 in [c.paragraph for c in second.contexts]  # "under the direction of President Biden"
    # whether the offline answerer dares to answer is its own business; what it cites is always verbatim
    assert second.refused or (second.citations and all(c.quote in c.text for c in second.citations))


def test_history_can_be_answers_or_pairs(seed_assistant):
    previous = seed_assistant.ask("Where were the airstrikes?")
    for history in ([previous], [("Where were the airstrikes?", previous.text)]):
        answer = seed_assistant.ask("and who ordered them?", history=history)
        assert answer.question == "Who ordered them? (follow-up to: Where were the airstrikes?)"


def test_cli_ask_streams_the_llm_answer_and_prints_checked_citations(scripted, seeded_index, monkeypatch,
                                                                     capsys):
    from assistant.cli import main

    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(seeded_index))
    monkeypatch.setenv("ASSISTANT_CORPUS_DIR", str(SEEDS))
    monkeypatch.setenv("OPENAI_BASE_URL", scripted.base_url)
    scripted.script({"content": f"{PROVINCE} Biden was in Sydney {cite(1)}."})
    assert main(["ask", PROVINCE_Q, "--mode", "llm"]) == 0
    out, err = capsys.readouterr()
    assert "Deir al-Zour [1]." in out
    assert "(not supported by this paragraph)" in out and "¶2" in out
    assert "1 of 2 citation(s) are not supported" in err

    scripted.script({"content": PROVINCE})
    assert main(["ask", PROVINCE_Q, "--mode", "llm", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["mode"] == "llm" and data["citations"][0]["verified"] is True
    assert data["usage"]["cost_usd"] is not None


def test_assistant_from_settings_object_reuses_the_client(scripted, seeded_index):
    assistant = Assistant(index_dir=seeded_index, corpus_dir=SEEDS, answer_mode="llm",
                          openai_base_url=scripted.base_url)
    scripted.script({"content": PROVINCE}, {"content": PROVINCE})
    assert assistant.ask(PROVINCE_Q).citations[0].verified
    assert assistant.ask(PROVINCE_Q).citations[0].verified
    assert "Authorization" in scripted.requests()[0]["headers"]  # a placeholder key for keyless local servers
