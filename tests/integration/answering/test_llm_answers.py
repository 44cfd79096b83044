"""LLM answers against a real HTTP server speaking the OpenAI chat-completions protocol (a separate process).

Every test scripts the server's replies, asks through the public API, and checks what a user would see:
the answer, its citations (checked against the paragraphs they cite), refusals, notes, usage.
"""

from __future__ import annotations

import logging

from llm_support import *  # noqa: F403 - fixtures: scripted, llm_assistant
from conftest import free_port
from llm_support import KEY, TITLE, cite

from assistant.errors import AssistantError

PROVINCE_Q = "In which province were the airstrikes carried out?"
PROVINCE = f"The airstrikes were carried out in the eastern province of Deir al-Zour {cite(2)}."
TARGETS = f"They targeted infrastructure used by groups linked to Iran’s Revolutionary Guard {cite(1)}."


def _paragraph_text(answer, paragraph):
    return next(c.text for c in answer.contexts if c.paragraph == paragraph)


def test_correct_citations_are_verified_with_quotes_from_the_cited_paragraph(scripted, llm_assistant):
    scripted.script({"content": f"{PROVINCE} {TARGETS}"})
    answer = llm_assistant().ask(PROVINCE_Q)

    assert answer.mode == "llm" and not answer.refused and not answer.unsupported
    assert "Deir al-Zour" in answer.text
    assert [c.paragraph for c in answer.citations] == [2, 1] or [c.paragraph for c in answer.citations] == [1, 2]
    for citation in answer.citations:
        assert citation.verified is True
        assert citation.quote and citation.quote in citation.text  # a real span of the cited paragraph
        assert f"[{citation.marker}]" in answer.text
    by_paragraph = {c.paragraph: c for c in answer.citations}
    assert "Deir al-Zour" in by_paragraph[2].quote
    assert answer.notes == []


def test_the_prompt_numbers_the_sources_with_title_and_paragraph_and_the_key_is_sent(scripted, llm_assistant):
    scripted.script({"content": PROVINCE})
    answer = llm_assistant().ask(PROVINCE_Q)
    request = scripted.requests()[0]
    assert request["headers"]["Authorization"] == f"Bearer {KEY}"
    body = request["body"]
    assert body["model"] == "gpt-4o-mini" and body["temperature"] == 0.0
    system, user = body["messages"]
    assert system["role"] == "system" and "marker" in system["content"]
    for number, context in enumerate(answer.contexts, start=1):
        assert f"[{number}] {TITLE} ¶{context.paragraph}\n{context.text}" in user["content"]
    assert PROVINCE_Q in user["content"] and "NOT_IN_SOURCES" in user["content"]


def test_usage_reports_tokens_and_cost_for_a_known_model(scripted, llm_assistant):
    scripted.script({"content": PROVINCE})
    answer = llm_assistant().ask(PROVINCE_Q)
    usage = answer.usage
    assert usage["prompt_tokens"] > 0 and usage["completion_tokens"] > 0
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert usage["cost_usd"] is not None and usage["cost_usd"] > 0
    assert usage["sources_in_prompt"] == len(answer.contexts)


def test_an_unknown_model_has_no_cost(scripted, llm_assistant):
    scripted.script({"content": PROVINCE})
    answer = llm_assistant(llm_model="llama3.2:1b").ask(PROVINCE_Q)
    assert answer.usage["cost_usd"] is None and answer.usage["prompt_tokens"] > 0


def test_a_marker_pointing_nowhere_is_removed_and_reported(scripted, llm_assistant):
    scripted.script({"content": f"{PROVINCE} The strikes were ordered from Washington [7]."})
    answer = llm_assistant().ask(PROVINCE_Q)
    assert "[7]" not in answer.text
    assert any("[7]" in note for note in answer.notes)
    assert [c.verified for c in answer.citations] == [True]
    assert not answer.unsupported


def test_only_markers_pointing_nowhere_leave_an_unsupported_answer(scripted, llm_assistant):
    scripted.script({"content": "The strikes were in Deir al-Zour [12]. [0] It was a Tuesday [42]."})
    answer = llm_assistant(top_k=3).ask(PROVINCE_Q)
    assert answer.citations == [] and answer.unsupported is True and not answer.refused
    # the statement no source supports is marked; "It was a Tuesday." names too little to be checked
    assert answer.text == "The strikes were in Deir al-Zour. [unsupported] It was a Tuesday."
    assert any("[0], [12], [42]" in note for note in answer.notes)


def test_a_citation_to_the_wrong_paragraph_is_flagged(scripted, llm_assistant):
    # Paragraph 1 is about the strikes too, but it does not name the province.
    scripted.script({"content": f"The airstrikes were carried out in the eastern province of Deir al-Zour {cite(1)}."})
    answer = llm_assistant().ask(PROVINCE_Q)
    assert len(answer.citations) == 1
    assert answer.citations[0].paragraph == 1 and answer.citations[0].verified is False
    assert answer.unsupported is True
    assert any("not supported" in note for note in answer.notes)


def test_a_wrong_citation_beside_a_right_one_is_flagged_alone(scripted, llm_assistant):
    # Paragraph 1 reports the strikes, but Buccino's words are in paragraph 3.
    wrong = f"Col. Joe Buccino said the strikes were necessary to protect and defend US personnel {cite(1)}."
    scripted.script({"content": f"{PROVINCE} {wrong}"})
    answer = llm_assistant().ask(PROVINCE_Q)
    verdicts = {c.paragraph: c.verified for c in answer.citations}
    assert verdicts == {2: True, 1: False}
    assert not answer.unsupported
    assert any("1 of 2 citation(s) are not supported" in n for n in answer.notes)


def test_drop_policy_removes_unsupported_citations_from_text_and_list(scripted, llm_assistant):
    scripted.script({"content": f"{PROVINCE} The strikes were in Deir al-Zour province {cite(1)}."})
    answer = llm_assistant(citation_policy="drop").ask(PROVINCE_Q)
    assert [c.paragraph for c in answer.citations] == [2]
    marker_of_1 = next(n for n, c in enumerate(answer.contexts, start=1) if c.paragraph == 1)
    assert f"[{marker_of_1}]" not in answer.text
    assert any("removed" in note for note in answer.notes)


def test_a_sentence_supported_by_two_sources_together_keeps_both(scripted, llm_assistant):
    scripted.script({"content": "The US military carried out airstrikes in Syria, in the eastern province of "
                                f"Deir al-Zour {cite(1)}{cite(2)}."})
    answer = llm_assistant().ask(PROVINCE_Q)
    assert sorted(c.paragraph for c in answer.citations) == [1, 2]
    assert all(c.verified for c in answer.citations)


def test_the_decline_marker_refuses_without_citations(scripted, llm_assistant):
    scripted.script({"content": "NOT_IN_SOURCES"})
    assistant = llm_assistant()
    answer = assistant.ask("Who won the 1998 football world cup?")
    assert answer.refused is True and answer.citations == []
    assert answer.text.startswith("The documents do not say.")
    assert "NOT_IN_SOURCES" not in answer.text


def test_a_refusal_in_the_models_own_words_is_recognised(scripted, llm_assistant):
    scripted.script({"content": "The provided sources do not mention who won the 1998 world cup."})
    answer = llm_assistant().ask("Who won the 1998 football world cup?")
    assert answer.refused is True and answer.citations == []


def test_malformed_model_text_never_crashes(scripted, llm_assistant):
    scripted.script({"content": "Deir al-Zour [abc] [[2]] [-1] [1 and [] [1, 999] 【2】"})
    answer = llm_assistant().ask(PROVINCE_Q)
    assert answer.mode == "llm"
    assert all(1 <= c.marker <= len(answer.contexts) for c in answer.citations)
    assert "999" not in answer.text


def test_a_malformed_http_reply_falls_back_to_the_offline_answerer(scripted, llm_assistant):
    scripted.script({"malformed": True})
    answer = llm_assistant(llm_retries=0).ask(PROVINCE_Q)
    assert answer.mode == "offline"
    assert any("could not be read" in n and "Answered offline" in n for n in answer.notes)
    assert "Deir al-Zour" in answer.text and answer.citations  # the offline answer still cites


def test_429_is_retried_then_succeeds(scripted, llm_assistant):
    scripted.script({"status": 429, "error": "slow down", "headers": {"Retry-After": "0"}},
                    {"content": PROVINCE})
    answer = llm_assistant(llm_retries=2).ask(PROVINCE_Q)
    assert answer.mode == "llm" and answer.citations[0].verified
    assert len(scripted.requests()) == 2
    assert answer.notes == []


def test_a_500_is_retried_then_reported_and_answered_offline(scripted, llm_assistant):
    scripted.script(*[{"status": 500, "error": "boom"}] * 3)
    answer = llm_assistant(llm_retries=2).ask(PROVINCE_Q)
    assert len(scripted.requests()) == 3
    assert answer.mode == "offline" and "Deir al-Zour" in answer.text
    assert any("HTTP 500" in n and "3 attempts" in n for n in answer.notes)


def test_a_server_that_hangs_past_the_timeout_is_reported(scripted, llm_assistant):
    scripted.script({"hang": 20, "content": PROVINCE}, {"hang": 20, "content": PROVINCE})
    answer = llm_assistant(llm_timeout=0.5, llm_retries=1, llm_deadline=5).ask(PROVINCE_Q)
    assert answer.mode == "offline"
    assert any("did not answer within 0.5 s (2 attempts)" in n for n in answer.notes)


def test_the_default_deadline_cuts_the_last_attempt_and_says_so(scripted, llm_assistant):
    # default deadline: llm_timeout x (llm_retries + 1) = 2 s; after 1 s and a 0.4 s backoff, the second attempt
    # gets the 0.6 s left of it
    scripted.script({"hang": 20, "content": PROVINCE}, {"hang": 20, "content": PROVINCE})
    answer = llm_assistant(llm_timeout=1, llm_retries=1, llm_backoff=0.4).ask(PROVINCE_Q)
    assert answer.mode == "offline" and len(scripted.requests()) == 2
    assert any("did not answer before the question's 2 s deadline (llm_deadline; 2 attempts)" in n
               for n in answer.notes)


def test_no_key_and_no_server_gives_a_clear_note_and_an_offline_answer(seeded_index, monkeypatch):
    from conftest import SEEDS

    from assistant import Assistant

    answer = Assistant(index_dir=seeded_index, corpus_dir=SEEDS, answer_mode="llm").ask(PROVINCE_Q)
    assert answer.mode == "offline" and answer.citations
    assert any("No OpenAI API key" in n and "OPENAI_API_KEY" in n for n in answer.notes)


def test_environment_variables_alone_switch_to_the_llm(scripted, seeded_index, monkeypatch):
    from conftest import SEEDS

    from assistant import Assistant

    monkeypatch.setenv("OPENAI_BASE_URL", scripted.base_url)
    monkeypatch.setenv("ASSISTANT_ANSWER_MODE", "llm")
    monkeypatch.setenv("ASSISTANT_LLM_MODEL", "qwen2.5:0.5b")
    scripted.script({"content": PROVINCE})
    answer = Assistant(index_dir=seeded_index, corpus_dir=SEEDS).ask(PROVINCE_Q)
    assert answer.mode == "llm" and answer.citations[0].verified
    assert scripted.requests()[0]["body"]["model"] == "qwen2.5:0.5b"


def test_an_unreachable_server_is_reported(llm_assistant):
    answer = llm_assistant(openai_base_url=f"http://127.0.0.1:{free_port()}/v1", llm_retries=1).ask(PROVINCE_Q)
    assert answer.mode == "offline"
    assert any("Could not reach the LLM server at http://127.0.0.1" in n for n in answer.notes)


def test_the_key_never_appears_in_errors_notes_or_logs(scripted, llm_assistant, caplog):
    echo = f"Incorrect API key provided: {KEY}. You can find your API key at the dashboard."
    scripted.script({"status": 401, "error": echo}, {"status": 400, "error": echo}, {"status": 500, "error": echo})
    caplog.set_level(logging.DEBUG)
    assistant = llm_assistant(llm_retries=0)
    answers = [assistant.ask(PROVINCE_Q) for _ in range(3)]
    assert any("rejected the API key (HTTP 401)" in n for n in answers[0].notes)
    shown = " ".join(n for a in answers for n in a.notes) + " ".join(str(a.to_dict()) for a in answers)
    assert KEY not in shown and KEY[8:] not in shown
    assert KEY not in caplog.text and KEY[8:] not in caplog.text

    from assistant.answering.generative.llms.base import LLMError
    from assistant.answering.generative.llms.openai_chat import OpenAIChat

    scripted.script({"status": 401, "error": echo})
    try:
        OpenAIChat(assistant.settings).complete([{"role": "user", "content": "hi"}], 10)
    except LLMError as exc:
        assert isinstance(exc, AssistantError) and KEY not in str(exc) and KEY not in repr(exc)
    else:  # pragma: no cover
        raise AssertionError("a 401 must raise LLMError")
    assert KEY not in repr(assistant.settings) and KEY not in str(assistant.settings.model_dump())


def test_a_small_context_window_keeps_only_the_sources_that_fit(scripted, llm_assistant):
    scripted.script({"content": PROVINCE})
    answer = llm_assistant(top_k=8, llm_context_window=800, llm_max_answer_tokens=300).ask(PROVINCE_Q)
    assert 1 <= answer.usage["sources_in_prompt"] < 8
    assert answer.usage["sources_dropped"] == 8 - answer.usage["sources_in_prompt"]
    assert len(answer.contexts) == answer.usage["sources_in_prompt"]
    prompt = scripted.requests()[0]["body"]["messages"][1]["content"]
    assert f"[{len(answer.contexts) + 1}]" not in prompt


def test_a_prompts_folder_setting_replaces_the_shipped_prompts(scripted, llm_assistant, tmp_path):
    (tmp_path / "system.txt").write_text("Answer like a pirate, citing [n] after every sentence.")
    scripted.script({"content": PROVINCE})
    llm_assistant(prompts_dir=tmp_path).ask(PROVINCE_Q)
    system = scripted.requests()[0]["body"]["messages"][0]["content"]
    assert system == "Answer like a pirate, citing [n] after every sentence."


def test_an_answer_that_cites_nothing_is_unsupported(scripted, llm_assistant):
    scripted.script({"content": "The airstrikes were carried out in Deir al-Zour."})
    answer = llm_assistant().ask(PROVINCE_Q)
    assert answer.citations == [] and answer.unsupported is True and not answer.refused
    assert any("cites no source" in note for note in answer.notes)


def test_an_empty_index_declines_without_calling_the_model(scripted, make_assistant):
    assistant = make_assistant(answer_mode="llm", openai_base_url=scripted.base_url)
    answer = assistant.ask(PROVINCE_Q)
    assert answer.refused is True and answer.citations == []
    assert scripted.requests() == []


def test_the_answer_length_is_capped_and_a_cut_answer_is_noted(scripted, llm_assistant):
    scripted.script({"content": PROVINCE, "finish_reason": "length"})
    answer = llm_assistant(llm_max_answer_tokens=64).ask(PROVINCE_Q)
    assert scripted.requests()[0]["body"]["max_tokens"] == 64
    assert any("64-token limit" in note for note in answer.notes)


READER_NOTE = "The reader found no answer to the question in the paragraphs this answer cites."


def test_an_llm_answer_whose_cited_paragraph_does_not_answer_is_weakly_supported(scripted, llm_assistant):
    """The reader checks LLM answers too: the model cites ¶2 (where the strikes were, and who directed them) for
    how many fighters they killed, which that paragraph does not say."""
    scripted.script({"content": f"The airstrikes killed twelve fighters in Deir al-Zour {cite(2)}."})
    answer = llm_assistant().ask("How many fighters were killed in the airstrikes?")
    assert not answer.refused and answer.support == "weak", (answer.support, answer.notes)
    assert READER_NOTE in answer.notes


def test_an_llm_answer_whose_cited_paragraph_answers_keeps_its_support(scripted, llm_assistant):
    scripted.script({"content": PROVINCE})
    answer = llm_assistant().ask(PROVINCE_Q)
    assert not answer.refused and answer.support == "confident", (answer.support, answer.confidence)
    assert READER_NOTE not in answer.notes


# --- issue 20 item 7: LLM answers are labelled no more confidently than their checked citations allow ------------
def test_a_refusal_in_the_models_own_words_is_a_refusal(scripted, llm_assistant):
    scripted.script({"content": "The sources do not answer this question."})
    answer = llm_assistant().ask("What colour is the drone?")
    assert answer.refused and answer.support == "declined" and answer.citations == [], answer.text


def test_a_sentence_without_a_verified_citation_is_marked_in_the_answer(scripted, llm_assistant):
    scripted.script({"content": f"{PROVINCE} The moon is made of cheese. Tehran funds everything [-1]."})
    answer = llm_assistant().ask(PROVINCE_Q)
    assert "[-1]" not in answer.text
    assert "The moon is made of cheese. [unsupported]" in answer.text, answer.text
    assert answer.unsupported_sentences == ["The moon is made of cheese.", "Tehran funds everything."]
    assert answer.support == "weak" and answer.confidence < 0.5, (answer.support, answer.confidence)
    assert "Deir al-Zour" in answer.text and answer.citations[0].verified  # the supported sentence stays as it was
    assert any("[unsupported]" in note for note in answer.notes)


def test_an_answer_whose_citations_all_fail_is_weak_not_confident(scripted, llm_assistant):
    scripted.script({"content": f"The strikes were ordered by the Pope in Rome {cite(6)}."})
    answer = llm_assistant().ask("Who ordered the airstrikes?")
    assert answer.unsupported and answer.support == "weak", (answer.support, answer.confidence)
    assert "[unsupported]" in answer.text


def test_an_html_page_instead_of_a_completion_is_named_as_such(scripted, llm_assistant):
    for streaming in (False, True):
        scripted.script({"html": True})
        assistant = llm_assistant(llm_retries=0)
        answer = (assistant.ask(PROVINCE_Q) if not streaming
                  else [item for item in assistant.stream(PROVINCE_Q)][-1])
        assert answer.mode == "offline", answer.notes
        note = " ".join(answer.notes)
        assert "HTML page" in note and "empty answer" not in note, note


def test_a_paragraph_holding_a_placeholder_reaches_the_model_as_text(scripted, llm_assistant, tmp_path):
    """Issue 21: prompts were filled by successive str.replace, so a paragraph containing "{decline_marker}"
    reached the model as the decline marker."""
    from assistant import Assistant

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "braces.txt").write_text("Templates\n\nThe template engine replaces {decline_marker} and {question} "
                                     "with their values at run time.\n", encoding="utf-8")
    assistant = llm_assistant()
    with Assistant(index_dir=tmp_path / "index", corpus_dir=tmp_path / "none", answer_mode="llm",
                   openai_base_url=assistant.settings.openai_base_url, openai_api_key=KEY) as a:
        a.ingest([docs])
        scripted.script({"content": "It replaces placeholders [1]."})
        answer = a.ask("What does the template engine replace?")
    prompt = scripted.requests()[-1]["body"]["messages"][-1]["content"]
    assert "replaces {decline_marker} and {question} with" in prompt, prompt
    assert prompt.count("NOT_IN_SOURCES") == 1  # only the instruction's own
    assert not answer.refused
