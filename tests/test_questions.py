"""Bad questions get clear errors or careful handling, never a crash."""

from __future__ import annotations

import pytest

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
