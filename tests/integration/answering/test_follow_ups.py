"""Follow-up questions through the Python API: the answer answers the follow-up, not the question before it."""

from __future__ import annotations


def first_sentence(answer) -> str:
    return answer.text.split(" [", 1)[0]


def test_ask_with_history_answers_the_follow_up_first(seed_assistant):
    question = "When did US forces strike Iran-linked militias at a border post between Iraq and Syria?"
    first = seed_assistant.ask(question)
    assert "February 2021" in first_sentence(first)
    history = [{"role": "user", "content": question}, {"role": "assistant", "content": first.text}]
    follow = seed_assistant.ask("When were there new retaliatory strikes against them?", history=history)
    assert "(follow-up to: " in follow.question  # searched together with the earlier question
    assert "June 2021" in first_sentence(follow)  # the sentence that answers the follow-up comes first
    assert not follow.refused and follow.support in ("confident", "weak")


def test_chat_session_keeps_the_conversation(seed_assistant):
    chat = seed_assistant.chat()
    assert "Sydney" in chat.ask("Where did Pannett report from?").text
    follow = chat.ask("And Loveluck?")
    assert "Baghdad" in first_sentence(follow) and "Pannett" in follow.question
    streamed = list(chat.stream("And who ordered the assassination of Qasem Soleimani?"))
    assert "Donald Trump" in streamed[-1].text and len(chat.history) == 6


def test_who_ordered_them_after_where_answers_who(seed_assistant):
    """Issue 9's example: the follow-up is about who ordered the strikes, so its first sentence names him."""
    question = "Where were the airstrikes carried out?"
    first = seed_assistant.ask(question)
    assert first.span.text in ("Syria", "Deir al-Zour")  # the country (¶1) or the province (¶2): both say where
    follow = seed_assistant.ask("And who ordered them?", history=[question])
    assert "President Biden" in first_sentence(follow) and not follow.refused
