"""The seed-article question suite: every answerable question cites its paragraph, the others are declined.

It holds questions the article answers, off-topic ones, near-topic ones (on the article's subject, asking for a
count, name, cost, piece of equipment or date it does not give) and two-turn conversations (a follow-up asked
after an earlier question: the answer must answer the follow-up, not repeat the first answer's subject)."""

from __future__ import annotations

import json

import pytest

from conftest import ROOT, SEED_DOC

SUITE = [json.loads(line) for line in (ROOT / "benchmarks/suites/seed_article.qa.jsonl").read_text().splitlines()]
ANSWERABLE = [q for q in SUITE if q["answerable"]]
UNANSWERABLE = [q for q in SUITE if not q["answerable"]]
NEAR_TOPIC = [q for q in UNANSWERABLE if q["id"].startswith("seed-near-")]
FOLLOW_UPS = [q for q in SUITE if q.get("history")]


def test_suite_covers_the_article():
    assert len(ANSWERABLE) >= 20 and len(UNANSWERABLE) >= 5
    assert len(NEAR_TOPIC) >= 10 and len(FOLLOW_UPS) >= 10
    assert all(q["answerable"] for q in FOLLOW_UPS)
    covered = {p for q in ANSWERABLE for p in q["meta"]["paragraphs"]}
    assert covered == set(range(1, 20))  # every paragraph of the article is asked about


@pytest.mark.parametrize("case", ANSWERABLE, ids=[q["id"] for q in ANSWERABLE])
def test_answerable_question_cites_the_right_paragraph(seed_assistant, case):
    answer = seed_assistant.ask(case["question"], history=case.get("history"))
    assert not answer.refused, answer.text
    cited = [(c.doc_id, c.paragraph) for c in answer.citations]
    gold = {(SEED_DOC, p) for p in case["meta"]["paragraphs"]}
    assert set(cited) & gold, f"citations {cited} miss {gold}"
    for c in answer.citations:
        assert c.quote and c.quote in c.text  # a quote is a verbatim span of the paragraph it cites
        assert f"[{c.marker}]" in answer.text
    # the answer itself comes from a right paragraph, not just somewhere in the text
    gold_quotes = " ".join(c.quote for c in answer.citations if (c.doc_id, c.paragraph) in gold).lower()
    assert any(a.lower() in gold_quotes for a in case["answers"]), answer.text
    assert answer.support in ("confident", "weak") and 0.0 <= answer.confidence <= 1.0


OFF_TOPIC = [q for q in UNANSWERABLE if q not in NEAR_TOPIC]
NEAR_TOPIC_DECLINED_AT_LEAST = 9  # of 12 (docs/benchmarks.md, "Declines"): the reader and the decline model do not yet decline them all


@pytest.mark.parametrize("case", OFF_TOPIC, ids=[q["id"] for q in OFF_TOPIC])
def test_off_topic_question_is_declined(seed_assistant, case):
    answer = seed_assistant.ask(case["question"])
    assert answer.refused
    assert answer.citations == []
    assert answer.text.startswith("The documents do not say")
    assert answer.support == "declined" and 0.0 <= answer.confidence <= 1.0


def test_near_topic_questions_are_declined(seed_assistant):
    """On the article's subject, a fact it does not give (a count, a name, a cost, equipment, a date): declined,
    with nothing cited. A floor, not all 12 yet."""
    answers = {q["id"]: seed_assistant.ask(q["question"]) for q in NEAR_TOPIC}
    declined = [i for i, a in answers.items() if a.refused]
    assert len(declined) >= NEAR_TOPIC_DECLINED_AT_LEAST, sorted(set(answers) - set(declined))
    for i in declined:
        assert answers[i].support == "declined" and answers[i].citations == []


def test_contexts_are_whole_paragraphs_best_first(seed_assistant):
    answer = seed_assistant.ask("In which province were the airstrikes carried out?")
    scores = [c.score for c in answer.contexts]
    assert len(answer.contexts) == seed_assistant.settings.top_k and scores == sorted(scores, reverse=True)
    assert 2 in [c.paragraph for c in answer.contexts]  # Deir al-Zour
    assert all(c.text.endswith(".") for c in answer.contexts if c.paragraph not in (4, 15))  # whole paragraphs
