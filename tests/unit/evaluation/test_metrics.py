"""Metric functions on hand-made cases whose values were worked out by hand (the arithmetic is in the comments)."""

from __future__ import annotations

import pytest

from assistant.evaluation.metrics import (METRICS, answer_match, best_f1, citation_precision, citation_recall,
                                          decline_scores, first_hit_rank, hit_at, normalize_answer, percentile,
                                          reciprocal_rank, score_question, summarize, token_f1)

A, B, C, D = ("doc", 1), ("doc", 2), ("doc", 3), ("other", 1)


def test_normalize_answer_is_squad_normalisation():
    assert normalize_answer("The  Quick, brown fox!") == "quick brown fox"
    assert normalize_answer("An “apple” — a day") == "apple day"
    assert normalize_answer("") == ""


def test_answer_match_is_containment_on_word_boundaries():
    assert answer_match("The strikes were in Deir al-Zour, Syria.", ["Deir al-Zour"])
    assert answer_match("It cost $12 per barrel", ["12 per barrel", "twelve"])
    assert not answer_match("the cathedral", ["cat"])  # a gold inside a longer word is not a match
    assert not answer_match("anything", [])
    assert not answer_match("the", ["The"])  # a gold that normalises to nothing never matches
    assert not answer_match("", ["Biden"])


def test_token_f1_and_best_f1():
    # pred {cat, sat}, gold {cat, sat, down}: common 2, P = 2/2, R = 2/3, F1 = 2PR/(P+R) = 0.8
    assert token_f1("the cat sat", "cat sat down") == pytest.approx(0.8)
    assert token_f1("dog", "cat") == 0.0
    assert token_f1("", "") == 1.0  # both empty after normalisation: SQuAD counts that as agreement
    assert token_f1("", "cat") == 0.0
    # best over golds: "cat" -> P = 1/2, R = 1, F1 = 2/3; "cat sat" -> 1.0
    assert best_f1("cat sat", ["cat", "cat sat"]) == 1.0
    assert best_f1("cat sat", []) == 0.0


def test_rank_metrics():
    retrieved = [D, B, C, A]
    assert first_hit_rank(retrieved, {C}) == 3
    assert first_hit_rank(retrieved, {C, B}) == 2  # the first evidence paragraph counts
    assert first_hit_rank(retrieved, {("x", 9)}) is None
    assert hit_at(retrieved, {C}, 1) == 0.0 and hit_at(retrieved, {C}, 3) == 1.0 and hit_at(retrieved, {C}, 2) == 0.0
    assert reciprocal_rank(retrieved, {C}) == pytest.approx(1 / 3)
    assert reciprocal_rank(retrieved, {("x", 9)}) == 0.0


def test_citation_precision_and_recall():
    # unique cited: A, B -> one of two is evidence
    assert citation_precision([A, A, B], {A}) == 0.5
    assert citation_recall([A, A, B], {A}) == 1.0
    assert citation_precision([B, C], {A}) == 0.0 and citation_recall([B, C], {A}) == 0.0
    assert citation_precision([], {A}) is None  # nothing cited: precision undefined, recall 0
    assert citation_recall([], {A}) == 0.0


def test_decline_scores():
    # declined:     T T F F T ; unanswerable: T F T F F -> TP = 1, declined 3, unanswerable 2
    # P = 1/3, R = 1/2, F1 = 2TP / (declined + unanswerable) = 2/5
    s = decline_scores([True, True, False, False, True], [True, False, True, False, False])
    assert s["decline_precision"] == pytest.approx(1 / 3)
    assert s["decline_recall"] == pytest.approx(0.5)
    assert s["decline_f1"] == pytest.approx(0.4)
    # never declines, one unanswerable question: precision undefined, recall 0, F1 0 (not undefined)
    s = decline_scores([False, False], [True, False])
    assert s == {"decline_precision": None, "decline_recall": 0.0, "decline_f1": 0.0}
    # nothing to decline and nothing declined: all undefined
    assert set(decline_scores([False], [False]).values()) == {None}
    s = decline_scores([True, True], [True, True])
    assert s == {"decline_precision": 1.0, "decline_recall": 1.0, "decline_f1": 1.0}


def test_percentile_is_nearest_rank():
    ten = [10, 1, 9, 2, 8, 3, 7, 4, 6, 5]  # unsorted on purpose
    assert percentile(ten, 50) == 5  # ceil(0.5 * 10) = 5th smallest
    assert percentile(ten, 95) == 10  # ceil(9.5) = 10th
    assert percentile(list(range(1, 21)), 95) == 19  # ceil(19.0) = 19th
    assert percentile(list(range(1, 21)), 50) == 10
    assert percentile([7.5], 95) == 7.5
    assert percentile([3, 1], 0) == 1
    assert percentile([], 50) is None


def test_score_question_answered():
    # evidence {A}; retrieved D, A -> rank 2; cited A and D -> precision 1/2, recall 1
    s = score_question(answerable=True, golds=["Deir al-Zour"], evidence={A}, retrieved=[D, A, B], cited=[A, D],
                       answer="It was in Deir al-Zour province [1][2].", declined=False)
    assert s["hit@1"] == 0.0 and s["hit@5"] == 1.0 and s["mrr"] == 0.5
    assert s["citation_precision"] == 0.5 and s["citation_recall"] == 1.0
    assert s["answer_match"] == 1.0
    # pred tokens: it was in deir alzour province 12 ("[1][2]" loses its brackets: one token), 7 in all;
    # gold: deir alzour (2); common 2 -> P = 2/7, R = 1, F1 = 2 * (2/7) / (9/7) = 4/9
    assert s["answer_f1"] == pytest.approx(4 / 9)


def test_score_question_declined_and_unanswerable_and_failed():
    declined = score_question(answerable=True, golds=["x"], evidence={A}, retrieved=[A], cited=[],
                              answer="The documents do not say x", declined=True)
    assert declined["hit@1"] == 1.0  # retrieval is scored even when the answerer declines
    assert declined["citation_precision"] is None and declined["citation_recall"] is None
    assert declined["answer_match"] == 0.0 and declined["answer_f1"] == 0.0  # the decline text is not an answer
    unanswerable = score_question(answerable=False, golds=[], evidence=set(), retrieved=[A], cited=[A],
                                  answer="something", declined=False)
    assert set(unanswerable.values()) == {None}
    failed = score_question(answerable=True, golds=["x"], evidence={A}, retrieved=[A], cited=[A], answer="x",
                            declined=False, failed=True)
    assert failed == dict.fromkeys(failed, 0.0)  # a crash scores 0 everywhere it applies, never None
    no_golds = score_question(answerable=True, golds=[], evidence={A}, retrieved=[A], cited=[A], answer="x",
                              declined=False)
    assert no_golds["answer_match"] is None and no_golds["hit@1"] == 1.0


def test_summarize_means_counts_and_nulls():
    rows = [
        {"answerable": True, "declined": False, "latency_ms": 100.0,
         "scores": {"hit@1": 1.0, "hit@5": 1.0, "mrr": 1.0, "citation_precision": 1.0, "citation_recall": 1.0,
                    "answer_match": 1.0, "answer_f1": 0.5}},
        {"answerable": True, "declined": True, "latency_ms": 300.0,
         "scores": {"hit@1": 0.0, "hit@5": 1.0, "mrr": 0.25, "citation_precision": None, "citation_recall": None,
                    "answer_match": 0.0, "answer_f1": 0.0}},
        {"answerable": False, "declined": True, "latency_ms": 200.0,
         "scores": dict.fromkeys(["hit@1", "hit@5", "mrr", "citation_precision", "citation_recall",
                                  "answer_match", "answer_f1"])},
    ]
    metrics, counts = summarize(rows)
    assert list(metrics) == list(METRICS)
    assert metrics["hit@1"] == 0.5 and metrics["hit@5"] == 1.0 and metrics["mrr"] == 0.625
    assert metrics["citation_precision"] == 1.0 and counts["citation_precision"] == 1
    assert metrics["answer_match"] == 0.5 and metrics["answer_f1"] == 0.25 and counts["answer_f1"] == 2
    # declined rows 2 and 3; only row 3 is unanswerable: P = 1/2, R = 1, F1 = 2/(2+1)
    assert metrics["decline_precision"] == 0.5 and metrics["decline_recall"] == 1.0
    assert metrics["decline_f1"] == pytest.approx(2 / 3)
    assert metrics["answerable_declined"] == 0.5 and counts["answerable_declined"] == 2  # row 2 of rows 1-2
    assert metrics["latency_p50_ms"] == 200.0 and metrics["latency_p95_ms"] == 300.0 and counts["latency_p50_ms"] == 3
    empty, empty_counts = summarize([])
    assert set(empty.values()) == {None} and set(empty_counts.values()) == {0}
