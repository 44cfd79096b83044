"""The reader behind every offline answer: plain questions answered with the exact span and the right paragraph,
a near-topic question declined, and the shipped int8 model agreeing with the float model it was exported from.

The documents here are made up for these tests (no dataset text): each case is a way of asking that the old
word-overlap answerer got wrong (issue 19).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.answering.extractive.reader import MODEL_FILE, card, shared_reader
from assistant.answering.extractive.reader_input import normalise_question, reader_question

FIXTURE = Path(MODEL_FILE).with_name("reader_parity.json")

FARM = ["Tuesdays at Hollow Farm",
        "Zebulon Marsh keeps a small farm on the edge of Wetherby. He eats seventeen turnips every Tuesday, "
        "boiled, with a little butter.",
        "His sister Agatha grows leeks and sells them at the Saturday market in the town square.",
        "The farm was bought by their grandfather in the spring of 1931."]
MARKETS = ["The crash of 2008",
           "Share prices fell for eighteen months after the collapse of the bank. They reached their lowest point "
           "on 9 March 2009, when the index closed at 676 points.",
           "By the end of 2013 the index had climbed back above its old peak."]
MUSEUM = ["The Harbour Museum",
          "The Harbour Museum opened its doors in 1984 in a former customs house.",
          "Last year the museum welcomed 48,000 visitors, most of them in July and August.",
          "Its largest exhibit is a lifeboat built in 1902."]


def write(folder: Path, name: str, paragraphs: list[str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("\n\n".join(paragraphs) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def farm_assistant(make_assistant, tmp_path):
    assistant = make_assistant()
    docs = tmp_path / "docs"
    for name, paragraphs in (("farm.txt", FARM), ("markets.txt", MARKETS), ("museum.txt", MUSEUM)):
        write(docs, name, paragraphs)
    assistant.ingest([docs])
    return assistant


def assert_span(answer, expected: str, doc: str, paragraph: int) -> None:
    """Answered; the span holds `expected`, lies in `doc` ¶`paragraph`, opens the answer and is cited there."""
    assert not answer.refused, (answer.text, answer.confidence)
    span = answer.span
    assert span is not None and expected in span.text, (span, answer.text)
    assert span.doc_id == doc and span.paragraph == paragraph, span
    assert answer.text.startswith(span.text) or answer.text.startswith(answer.citations[0].quote), answer.text
    cited = {(c.doc_id, c.paragraph): c for c in answer.citations}
    assert (doc, paragraph) in cited, answer.citations
    text = cited[(doc, paragraph)].text
    assert text[span.start:span.end] == span.text  # offsets into the cited paragraph's text


def test_a_spelled_out_number_answers_how_many(farm_assistant):
    answer = farm_assistant.ask("How many turnips does Zebulon eat?")
    assert_span(answer, "seventeen", "farm.txt", 2)


def test_a_date_asked_in_other_words_than_the_text(farm_assistant):
    answer = farm_assistant.ask("When did share prices bottom out?")
    assert_span(answer, "9 March 2009", "markets.txt", 2)


def test_a_count_whose_noun_differs_from_the_question(farm_assistant):
    answer = farm_assistant.ask("How many guests did the Harbour Museum have last year?")
    assert_span(answer, "48,000", "museum.txt", 3)


def test_a_near_topic_question_whose_fact_is_absent_is_declined(farm_assistant):
    """The same paragraphs, the same names, but nothing says how many leeks Agatha sells."""
    answer = farm_assistant.ask("How many leeks does Agatha sell each Saturday?")
    assert answer.refused and answer.span is None and answer.citations == [], answer.text


def test_the_readme_follow_up_is_answered_with_who_ordered_them(seed_assistant):
    history = [{"role": "user", "content": "Where were the airstrikes carried out?"},
               {"role": "assistant", "content": seed_assistant.ask("Where were the airstrikes carried out?").text}]
    answer = seed_assistant.ask("And who ordered them?", history=history)
    assert_span(answer, "Bidens", "000_f1b9941059cdcad5.txt", 2)
    assert "Trump" not in answer.text


def test_the_span_is_in_the_json_answer(farm_assistant):
    data = json.loads(json.dumps(farm_assistant.ask("How many turnips does Zebulon eat?").to_dict()))
    span = data["span"]
    assert span["doc_id"] == "farm.txt" and span["paragraph"] == 2 and "seventeen" in span["text"]
    cited = next(c for c in data["citations"] if c["paragraph"] == 2)
    assert cited["text"][span["start"]:span["end"]] == span["text"]


def test_questions_are_normalised_alike_whatever_their_spelling():
    """SQuAD's unanswerable training questions came lower-cased and word-split: both spellings read the same."""
    assert normalise_question("What's the “American state” label?") == normalise_question(
        "what 's the \" american state \" label ?")
    assert reader_question("Who ordered them?", ["Where were the airstrikes?"]) == \
        "who ordered them ? ; where were the airstrikes ?"


def test_the_int8_model_agrees_with_the_float_model_it_was_exported_from():
    """training/export_reader.py ran the float model on these 40 held-out examples; the shipped int8 model must find
    the same spans, or overlapping ones, with nearly the same scores (on the model card's 500 examples int8 and
    float pick the same span 88 % of the time; margins differ by 0.48 on average, 1.36 at the 95th percentile, answerable logits by 0.17, at most 2.1)."""
    fixture = json.loads(FIXTURE.read_text(encoding="utf-8"))
    import hashlib

    assert fixture["onnx_sha256"] == hashlib.sha256(MODEL_FILE.read_bytes()).hexdigest() == card().onnx_sha256
    reader = shared_reader()
    assert len(fixture["examples"]) >= 20
    clear, same, margin_gaps, logit_gaps = 0, 0, [], []
    for example in fixture["examples"]:
        question = reader_question(example["question"], example["carried"])
        reading = reader.read_whole(question, example["context"], card().window_tokens)
        margin_gaps.append(abs(reading.margin - example["float_margin"]))
        assert margin_gaps[-1] < 5.0, example["question"]
        logit_gaps.append(abs(reading.answerable - example["float_answerable_logit"]))
        assert logit_gaps[-1] < 2.5, example["question"]
        if example["float_margin"] > card().null_threshold:  # a clear answer: the same span, or one overlapping it
            found = example["context"][reading.span.start:reading.span.end]
            start = example["float_start"]  # the span's text may occur more than once
            overlap = min(reading.span.end, start + len(example["float_span"])) - max(reading.span.start, start)
            assert overlap > 0, (example["question"], found, example["float_span"])
            clear += 1
            same += found == example["float_span"]
    assert sum(margin_gaps) / len(margin_gaps) < 0.75 and sum(logit_gaps) / len(logit_gaps) < 0.35
    assert sum(gap < 1.5 for gap in margin_gaps) >= 0.9 * len(margin_gaps)
    assert clear >= 10 and same >= 0.75 * clear
