"""The shipped weights files are read through pydantic: a missing or damaged file is an error that names the file
and what is wrong, never a silent fallback to numbers nobody fitted."""

from __future__ import annotations

import json

import pytest

from assistant.answering.citations import WEIGHTS_FILE as CITATION_WEIGHTS, load_citation_weights
from assistant.answering.extractive.weights import WEIGHTS_FILE, load_weights
from assistant.answering.scorer import LinearScorer, WeightsError


def test_the_shipped_weights_load():
    weights = load_weights()
    assert weights.answerability.features.decline_threshold < weights.answerability.features.confident_threshold
    assert 0 < load_citation_weights().threshold < 1


def test_a_missing_weights_file_is_an_error_naming_it(tmp_path):
    with pytest.raises(WeightsError, match="answerer.json is missing"):
        load_weights(tmp_path / "answerer.json")


@pytest.mark.parametrize("damage", ["drop_field", "wrong_type", "not_json", "unknown_field"])
def test_a_damaged_weights_file_is_an_error_naming_what_is_wrong(tmp_path, damage):
    data = json.loads(WEIGHTS_FILE.read_text())
    path = tmp_path / "answerer.json"
    if damage == "drop_field":
        del data["answerability"]["check_override"]
        expected = "answerability.check_override"
    elif damage == "wrong_type":
        data["reader"]["passages"] = "four"
        expected = "reader.passages"
    elif damage == "unknown_field":
        data["compose"]["keep_within_typo"] = 1.0
        expected = "compose.keep_within_typo"
    path.write_text("{not json" if damage == "not_json" else json.dumps(data))
    with pytest.raises(WeightsError) as caught:
        load_weights(path)
    message = str(caught.value)
    assert str(path) in message and "\n" not in message
    if damage != "not_json":
        assert expected in message


def test_the_citation_weights_are_checked_too(tmp_path):
    data = json.loads(CITATION_WEIGHTS.read_text())
    data["scorer"]["weights"]["lex"] = None
    path = tmp_path / "citation_check.json"
    path.write_text(json.dumps(data))
    with pytest.raises(WeightsError, match=r"scorer\.weights\.lex"):
        load_citation_weights(path)


def test_the_scorer_counts_an_unnamed_feature_as_zero_and_calibrates():
    scorer = LinearScorer(bias=-1.0, weights={"a": 2.0, "b": -1.0}, calibration=(2.0, 0.5))
    assert scorer.score({"a": 1.0, "c": 100.0}) == 1.0
    assert scorer.probability({"a": 1.0}) == pytest.approx(1 / (1 + 2.718281828459045 ** -2.5))
    assert scorer.probability({"a": 1e6}) == pytest.approx(1.0)  # no overflow far out
