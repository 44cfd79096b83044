"""The optional LLM judge, with a fake model: what is sent, what is decided without a call, the estimate shown
before running, failures listed rather than dropped, and the CLI refusing --judge without an LLM."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from assistant.cli import main
from assistant.evaluation import EvalReport
from assistant.evaluation.judge import parse_verdict, plan, run_judge
from assistant.evaluation.metrics import summarize
from assistant.evaluation.report import render_console
from assistant.answering.generative.prompts import load_prompts
from assistant.config.settings import Settings, shipped

ROOT = Path(__file__).resolve().parents[3]
PROMPTS = load_prompts(shipped("prompts"))


def row(qid, *, answerable=True, declined=False, status="pass", citations=True, answer="Paris [1]"):
    cites = [{"marker": 1, "doc_id": "d", "paragraph": 1, "quote": "Paris is the capital.", "verified": None,
              "evidence": True}] if citations else []
    return {"id": qid, "line": 1, "question": f"{qid}: capital of France?", "answerable": answerable,
            "gold_answers": ["Paris"] if answerable else [], "evidence": [], "answer": answer, "declined": declined,
            "citations": cites, "retrieved": [], "latency_ms": 1.0, "usage": {}, "status": status, "reasons": [],
            "error": "RuntimeError: x" if status == "error" else None,
            "scores": dict.fromkeys(["hit@1", "hit@5", "mrr", "citation_precision", "citation_recall",
                                     "answer_match", "answer_f1"])}


def report_of(rows) -> EvalReport:
    metrics, counts = summarize(rows)
    return EvalReport(suite={"name": "j", "path": "j", "corpus": "c", "questions": len(rows), "answerable": 0,
                             "unanswerable": 0}, config={"mode": "llm"}, metrics=metrics, counts=counts,
                      questions=rows, outcomes={}, timing={"seconds": 0})


ROWS = [
    row("answered"),                                   # correctness call + faithfulness call
    row("declined", declined=True, citations=False),   # correctness 0 without a call; nothing to be faithful to
    row("crashed", status="error", citations=False),   # correctness 0 without a call
    row("uncited", citations=False),                   # correctness call; faithfulness 0 without a call
    row("unanswerable-answered", answerable=False),    # faithfulness call only
    row("wrong"),                                      # correctness call (judged incorrect) + faithfulness call
]


def test_judge_prompts_are_files_in_prompts():
    for name in ("judge_correctness", "judge_faithfulness"):
        assert (ROOT / "prompts" / f"{name}.txt").is_file() and name in PROMPTS
    assert "{gold_answers}" in PROMPTS["judge_correctness"] and "{sources}" in PROMPTS["judge_faithfulness"]


def test_plan_sends_only_what_needs_a_model():
    calls, known = plan(report_of(copy.deepcopy(ROWS)), PROMPTS)
    assert [(c.question_id, c.metric) for c in calls] == [
        ("answered", "judged_correctness"), ("answered", "judged_faithfulness"), ("uncited", "judged_correctness"),
        ("unanswerable-answered", "judged_faithfulness"), ("wrong", "judged_correctness"),
        ("wrong", "judged_faithfulness")]
    assert {qid: sorted(v) for qid, v in known.items()} == {
        "declined": ["judged_correctness"], "crashed": ["judged_correctness"], "uncited": ["judged_faithfulness"]}
    text = calls[0].messages[0]["content"]
    assert "answered: capital of France?" in text and "Paris [1]" in text and "{question}" not in text
    assert "Paris is the capital." in calls[1].messages[0]["content"]


def test_parse_verdict():
    assert parse_verdict('{"verdict": "correct", "reason": "says Paris"}', "judged_correctness") == (1.0, "says Paris")
    assert parse_verdict('Sure! ```json\n{"verdict": "Incorrect"}\n```', "judged_correctness")[0] == 0.0
    assert parse_verdict("UNSUPPORTED: the source says nothing", "judged_faithfulness")[0] == 0.0
    assert parse_verdict('{"verdict": "supported"}', "judged_faithfulness")[0] == 1.0
    with pytest.raises(ValueError, match="no verdict"):
        parse_verdict("I cannot decide", "judged_correctness")
    with pytest.raises(ValueError):
        parse_verdict('{"verdict": "supported"}', "judged_correctness")  # the other metric's word


def test_run_judge_scores_counts_and_lists_failures():
    report = report_of(copy.deepcopy(ROWS))
    fingerprint = report.fingerprint
    calls, known = plan(report, PROMPTS)
    sent = []

    def fake(messages, max_tokens):
        text = messages[0]["content"]
        sent.append(text)
        if "unanswerable-answered" in text:
            raise TimeoutError("judge timed out")
        if "wrong:" in text and "GOLD" in text:
            return '{"verdict": "incorrect", "reason": "no"}', 100, 10
        return ('{"verdict": "correct"}' if "GOLD" in text else '{"verdict": "supported"}'), 100, 10

    est = {"model": "fake", "calls": len(calls), "prompt_tokens": 600, "completion_tokens": 300, "cost_usd": None}
    run_judge(report, calls, known, fake, est)
    assert len(sent) == 6
    # correctness: answered 1, declined 0, crashed 0, uncited 1, wrong 0 -> 2/5
    assert report.metrics["judged_correctness"] == pytest.approx(0.4) and report.counts["judged_correctness"] == 5
    # faithfulness: answered 1, uncited 0, wrong 1; the timed-out call is missing and listed -> 2/3
    assert report.metrics["judged_faithfulness"] == pytest.approx(2 / 3) and report.counts["judged_faithfulness"] == 3
    assert report.judge["errors"] == [{"id": "unanswerable-answered", "metric": "judged_faithfulness",
                                       "error": "TimeoutError: judge timed out"}]
    assert report.judge["usage"]["prompt_tokens"] == 500 and any("judge request" in w for w in report.warnings)
    assert report.questions[1]["judge"]["judged_correctness"] == {
        "score": 0.0, "reason": "no answer given (declined or failed)", "called": False}
    assert "judged_correctness" in render_console(report) and "judged_faithfulness" in report.to_dict()["metrics"]
    assert report.fingerprint == fingerprint  # judged numbers depend on a model: not part of the fingerprint


def test_estimate_is_shown_before_any_request():
    pytest.importorskip("assistant.answering.generative.budget")
    from assistant.evaluation.judge import describe_estimate, estimate

    calls, _ = plan(report_of(copy.deepcopy(ROWS)), PROMPTS)
    est = estimate(calls, Settings.load(llm_model="gpt-4o-mini"))
    assert est["calls"] == 6 and est["prompt_tokens"] > 6 * 100 and est["completion_tokens"] == 6 * 50
    assert est["cost_usd"] is not None and 0 < est["cost_usd"] < 0.01
    assert "6 requests to gpt-4o-mini" in describe_estimate(est) and "$" in describe_estimate(est)
    unknown = estimate(calls, Settings.load(llm_model="my-local-llama"))
    assert unknown["cost_usd"] is None and "unknown price" in describe_estimate(unknown)


def test_cli_refuses_judge_without_an_llm(capsys):
    suite = ROOT / "benchmarks" / "suites" / "seed_article.qa.jsonl"
    assert main(["eval", str(suite), "--judge", "--index-dir", "/nonexistent/never"]) == 2
    assert "--judge needs an LLM" in capsys.readouterr().err
