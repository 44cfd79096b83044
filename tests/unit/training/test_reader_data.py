"""training/prepare_data.py: the reader's training examples say "no answer" only where the text holds none.

A negative whose passage still holds the answer teaches the reader to decline answerable questions, so every kind of
negative is checked against the answer text here, on a small SQuAD-format collection written for the test.
"""

from __future__ import annotations

import random

import pytest

from training import prepare_data

FACTS = [
    ("Zebulon", "turnips", "seventeen"), ("Agatha", "leeks", "forty"), ("Bartholomew", "onions", "nine"),
    ("Cordelia", "radishes", "twelve"), ("Desmond", "carrots", "eighty"), ("Euphemia", "parsnips", "three"),
]


def article(title: str, offset: int) -> dict:
    """An article of three paragraphs: each states who eats how many of a vegetable, among filler sentences."""
    paragraphs = []
    for k in range(3):
        name, thing, count = FACTS[(offset + k) % len(FACTS)]
        fact = f"{name} eats {count} {thing} every Tuesday."
        context = f"The market of {title} opens early. {fact} The stalls close at noon in {title}."
        start = context.index(count)
        paragraphs.append({"context": context, "qas": [
            {"id": f"{title}-{k}-a", "question": f"How many {thing} does {name} eat every Tuesday?",
             "answers": [{"text": count, "answer_start": start}]},
            {"id": f"{title}-{k}-u", "question": f"how many {thing} does {name} sell on sunday ?",
             "answers": [], "is_impossible": True},
        ]})
    return {"title": title, "paragraphs": paragraphs}


@pytest.fixture
def examples(monkeypatch) -> list[dict]:
    for name in ("NEAR_TOPIC", "SENTENCE_REMOVED", "OFF_CORPUS"):  # every negative kind for every question
        monkeypatch.setattr(prepare_data, name, 1.0)
    monkeypatch.setattr(prepare_data, "OFF_CORPUS_POOL", 6)
    return prepare_data.build([article(f"Town{i}", i) for i in range(4)], random.Random(7))


def test_every_kind_of_example_is_made(examples):
    kinds = {e["kind"] for e in examples}
    assert kinds >= {"answerable", "squad_unanswerable", "near_topic", "sentence_removed", "off_corpus"}


def test_an_answerable_example_marks_its_answer_in_its_passage(examples):
    answerable = [e for e in examples if e["kind"] == "answerable"]
    assert len(answerable) == 12
    for e in answerable:
        assert e["context"][e["answer_start"]:e["answer_start"] + len(e["answer_text"])] == e["answer_text"]


def test_no_made_negative_holds_its_questions_answer(examples):
    answers = {e["id"]: e["answer_text"] for e in examples if e["kind"] == "answerable"}
    made = [e for e in examples if e["kind"] in ("near_topic", "sentence_removed", "off_corpus")]
    assert made
    for e in made:
        source = e["id"].rsplit("-", 1)[0]
        assert e["answer_start"] is None and e["answer_text"] is None
        assert answers[source] not in e["context"], (e["kind"], e["question"], e["context"])


def test_squad_unanswerable_questions_keep_their_own_paragraph(examples):
    unanswerable = [e for e in examples if e["kind"] == "squad_unanswerable"]
    assert len(unanswerable) == 12
    assert all("sell on sunday" in e["question"] and "every Tuesday" in e["context"] for e in unanswerable)
