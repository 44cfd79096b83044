"""Bad questions get clear errors or careful handling, never a crash."""

from __future__ import annotations

import pytest

from assistant.answering.extractive.answerability import support_note
from assistant.errors import QuestionError


@pytest.mark.parametrize("question", ["", "   ", "\n\t"])
def test_empty_question_is_a_clear_error(seed_assistant, question):
    with pytest.raises(QuestionError, match="empty"):
        seed_assistant.ask(question)


def test_huge_question_is_handled(seed_assistant):
    question = "Who ordered the assassination of Qasem Soleimani? " * 2100  # ~105 KB pasted by accident
    assert len(question.encode()) > 100_000
    answer = seed_assistant.ask(question)
    assert any("characters long" in note for note in answer.notes)
    assert not answer.refused and answer.citations[0].paragraph == 8


def test_question_of_only_stop_words_does_not_crash(seed_assistant):
    answer = seed_assistant.ask("what is it?")
    assert answer.refused or answer.citations


def test_a_declined_huge_question_is_not_echoed_whole(seed_assistant):
    """A pasted blob the documents do not answer: the decline quotes a line of it and names a few words, so the
    user sees the message rather than 4,000 characters of their own paste twice."""
    blob = " ".join(f"zq{i:04d}xv" for i in range(400))  # 4,000 characters of words no document holds
    answer = seed_assistant.ask(blob)
    assert answer.refused
    assert len(answer.text) < 400 and answer.text.rstrip('"').endswith("…")
    note = support_note(answer.support, answer.confidence, answer.uncovered)  # the line the CLI prints under it
    assert "…" in note and len(note) < 600
