"""Declining what the documents do not say, one test per kind of negative the decline model was fitted on.

Each test asks a question while the documents cannot answer it, then while they can, on a real index: the
same question must be declined first and answered (citing the right paragraph) once the paragraph is there.
"""

from __future__ import annotations

from conftest import SEEDS

FOUNDED = "Marigold Station was founded in 1987 by the geologist Hanna Voss."
STATION = ["Marigold Station",
           "The base sits on the island of Kelvara, in the northern sea, and studies its volcanic rocks.",
           FOUNDED,
           "Today twelve scientists live there during the summer months.",
           "A supply ship, the Northern Tern, calls every six weeks from the port of Haldvik."]


def write(folder, paragraphs: list[str]):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "marigold.txt"
    path.write_text("\n\n".join(paragraphs) + "\n", encoding="utf-8")
    return path


def assert_declined(answer) -> None:
    assert answer.refused and answer.support == "declined", answer.text
    assert answer.text.startswith("The documents do not say") and answer.citations == []


def assert_answered(answer, expected: str, quoted: str, declined) -> None:
    """Answered with `expected` in the text, quoting `quoted`, more confidently than when it was declined."""
    assert not answer.refused and expected in answer.text, answer.text
    assert any(quoted in c.quote for c in answer.citations)
    assert answer.confidence > declined.confidence


def test_near_topic_the_article_stays_but_the_fact_is_cut(make_assistant, tmp_path):
    assistant = make_assistant()
    question = "Who founded Marigold Station?"
    assistant.ingest([write(tmp_path / "docs", [p for p in STATION if p != FOUNDED])])
    declined = assistant.ask(question)
    assert_declined(declined)
    assistant.ingest([write(tmp_path / "docs", STATION)])  # the paragraph is back
    assert_answered(assistant.ask(question), "Hanna Voss", "Hanna Voss", declined)


def test_off_corpus_the_documents_are_about_something_else(make_assistant, tmp_path):
    assistant = make_assistant()
    question = "In which year was Marigold Station founded?"
    assistant.ingest([SEEDS])  # a news article about airstrikes in Syria
    declined = assistant.ask(question)
    assert_declined(declined)
    assistant.ingest([write(tmp_path / "docs", STATION)])
    assert_answered(assistant.ask(question), "1987", "1987", declined)


def test_adversarial_the_paragraph_gives_it_for_another_year(make_assistant, tmp_path):
    """SQuAD 2.0's kind: the question looks answered by a paragraph that says it of another year."""
    assistant = make_assistant()
    question = "How many scientists lived at Marigold Station in 1955?"
    assistant.ingest([write(tmp_path / "docs", STATION)])  # says how many live there today
    declined = assistant.ask(question)
    assert_declined(declined)
    assert "1955" in declined.uncovered  # what the documents do not mention, as written
    then = "In 1955 eight scientists lived at the station; today twelve live there during the summer months."
    assistant.ingest([write(tmp_path / "docs", [then if p.startswith("Today") else p for p in STATION])])
    assert_answered(assistant.ask(question), "eight", "1955", declined)


def test_soft_coverage_sees_a_paraphrase_that_shares_no_stem():
    """The decline model's soft coverage (MiniLM's token vectors): a window that says what was asked in other
    words covers the question better than a window on the same topic that does not say it."""
    from assistant.answering.extractive.soft_coverage import soft_coverage

    question = "Who ordered the airstrikes in Deir al-Zour?"
    says_it = soft_coverage(question, "President Biden directed the strikes on targets in Deir al-Zour.")
    same_topic = soft_coverage(question, "Deir al-Zour is a province in eastern Syria with a long history.")
    elsewhere = soft_coverage(question, "The weather in Paris was mild.")
    assert says_it > same_topic > elsewhere
    assert soft_coverage(question, "") == 0.0


def test_answers_written_the_way_news_writes_them_pass_the_necessary_checks(make_assistant, tmp_path):
    """A relative date answers "when will ...", a compound's head word counts it ("420 fires" for wildfires), and
    "how much has X granted" names no counted thing: each of these was once declined as if the text lacked it.
    A past event the text does not date ("first call"; the station's founding year is another event) is never
    answered confidently: declined, or labelled weakly supported with the word the sources lack."""
    assistant = make_assistant()
    assistant.ingest([write(tmp_path / "docs", STATION + [
        "The Northern Tern will next call at Marigold Station later this month, the station's director said.",
        "Since 1990 the Kelvara Foundation has granted more than $2 million to the station.",
        "Last winter the station's instruments recorded 14 storms over the island of Kelvara."])])
    for question, expected in (("When will the Northern Tern next call at Marigold Station?", "later this month"),
                               ("How much has the Kelvara Foundation granted to the station since 1990?", "$2 million"),
                               ("How many snowstorms did the station's instruments record last winter?", "14 storms")):
        answer = assistant.ask(question)
        assert not answer.refused and expected in answer.text, (question, answer.text)
    undated = assistant.ask("In what year did the Northern Tern first call at Marigold Station?")
    assert undated.refused or (undated.support == "weak" and "first" in undated.uncovered), undated.text
