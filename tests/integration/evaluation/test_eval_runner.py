"""The runner and `assistant eval` end to end on the shipped suites (offline): reports, determinism, failures
kept in the averages, the threshold gate, --compare, and the rule that an evaluation never uses the main index."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import pytest

from assistant.cli import main
from assistant.evaluation import EvalReport, apply_gate, evaluate, run_suite, write_reports
from assistant.evaluation.metrics import METRICS, summarize
from assistant.evaluation.report import VOLATILE
from assistant.evaluation.runner import eval_index_dir, make_assistant
from assistant.config.settings import Settings

ROOT = Path(__file__).resolve().parents[3]
SUITES = ROOT / "benchmarks" / "suites"
SEED_SUITE = SUITES / "seed_article.qa.jsonl"
SQUAD_SUITE = SUITES / "squad2_subset.qa.jsonl"


@pytest.fixture(scope="module")
def seed_index(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("eval-seed") / "index"


@pytest.fixture(scope="module")
def seed_report(seed_index) -> EvalReport:
    return run_suite(SEED_SUITE, index_dir=seed_index)


def fresh(report: EvalReport) -> EvalReport:
    return EvalReport.from_dict(copy.deepcopy(report.to_dict()))


def test_seed_suite_end_to_end(seed_report, tmp_path):
    r = seed_report
    assert r.suite["name"] == "seed_article" and r.suite["questions"] == 60 and r.suite["answerable"] == 42
    assert r.config["mode"] == "offline" and r.config["answer_modes"] == ["offline"]
    assert list(r.metrics) == list(METRICS) and all(r.metrics[m] is not None for m in METRICS)
    assert r.counts["hit@1"] == 42 and r.counts["decline_f1"] == 60 and r.counts["latency_p95_ms"] == 60
    assert sum(r.outcomes.values()) == 60 and r.outcomes["error"] == 0
    assert r.counts["answerable_declined"] == 42
    # loose floors: the offline answerer is tuned elsewhere; these catch a broken pipeline, not a small regression
    assert r.metrics["hit@5"] >= 0.8 and r.metrics["citation_recall"] >= 0.7 and r.metrics["answer_match"] >= 0.5
    assert r.metrics["latency_p50_ms"] <= r.metrics["latency_p95_ms"]
    # every number traces back to the per-question rows
    metrics, counts = summarize(r.questions)
    for name in METRICS:
        if not name.startswith("latency"):
            assert r.metrics[name] == pytest.approx(metrics[name], abs=1e-6), name
    assert counts == r.counts
    for q in r.questions:
        assert q["status"] in ("pass", "fail", "error") and (q["status"] == "pass") == (not q["reasons"])
        assert bool(q["evidence"]) == q["answerable"] and all(e["text"] for e in q["evidence"])
    paths = write_reports(r, tmp_path / "out")
    data = json.loads(paths["json"].read_text())
    assert set(METRICS) <= set(data["metrics"]) and len(data["questions"]) == 60 and data["passed"] is True
    assert data["fingerprint"] == r.fingerprint and EvalReport.load(paths["json"]).fingerprint == r.fingerprint
    md, html = paths["md"].read_text(), paths["html"].read_text()
    for q in r.questions:
        assert f"| {q['id']} |" in md and f'id="q-{q["id"]}"' in html


def test_a_rerun_is_identical_apart_from_latency(seed_report, tmp_path):
    again = run_suite(SEED_SUITE, index_dir=tmp_path / "rebuilt")  # a fresh index, built again
    assert again.fingerprint == seed_report.fingerprint
    assert {k: v for k, v in again.metrics.items() if "latency" not in k} == \
           {k: v for k, v in seed_report.metrics.items() if "latency" not in k}
    strip = [{k: v for k, v in q.items() if k not in VOLATILE} for q in seed_report.questions]
    assert [{k: v for k, v in q.items() if k not in VOLATILE} for q in again.questions] == strip


class Flaky:
    """An assistant whose ask() raises on one question, as a network or index error would."""

    def __init__(self, inner, bad_question: str) -> None:
        self.inner, self.bad, self.settings = inner, bad_question, inner.settings

    def ingest(self, *args, **kwargs):
        return self.inner.ingest(*args, **kwargs)

    def ask(self, question: str, **kwargs):
        if question == self.bad:
            raise RuntimeError("the LLM server went away")
        return self.inner.ask(question, **kwargs)


def test_a_failing_question_is_recorded_and_scored_zero(seed_index, seed_report):
    inner = make_assistant((ROOT / "seeds").resolve(), seed_index)
    bad = seed_report.questions[0]
    report = run_suite(SEED_SUITE, assistant=Flaky(inner, bad["question"]), limit=4)
    row = report.questions[0]
    assert row["status"] == "error" and row["error"] == "RuntimeError: the LLM server went away"
    assert row["scores"] == dict.fromkeys(row["scores"], 0.0) and not row["declined"]
    assert report.outcomes["error"] == 1 and report.suite["questions"] == 4
    assert report.counts["hit@1"] == report.counts["answer_match"] == 4  # the failure counts in every average
    assert report.metrics["hit@1"] == pytest.approx(sum(q["scores"]["hit@1"] for q in report.questions) / 4)
    paths = write_reports(report, Path(inner.settings.index_dir).parent / "flaky-out")
    assert "RuntimeError" in paths["html"].read_text()


def test_squad_subset_via_the_cli(tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["eval", str(SQUAD_SUITE), "--index-dir", str(tmp_path / "index"), "--out", str(out), "--quiet",
                 "--min", "hit@5=0.3", "answer_match=0.2"])
    printed = capsys.readouterr().out
    assert code == 0, printed
    data = json.loads((out / "report.json").read_text())
    assert data["suite"]["questions"] == 40 and data["suite"]["licence"] == "CC BY-SA 4.0"
    assert data["suite"]["unanswerable"] > 0 and set(METRICS) <= set(data["metrics"])
    assert all(data["metrics"][m] is not None for m in ("hit@1", "hit@5", "mrr", "answer_match", "answer_f1",
                                                        "decline_recall", "decline_f1", "latency_p95_ms"))
    assert data["passed"] and [t["met"] for t in data["thresholds"]] == [True, True]
    for name in METRICS:
        assert name in printed
    assert "reports:" in printed and (out / "report.html").is_file() and (out / "report.md").is_file()
    assert "CC BY-SA 4.0" in (out / "report.html").read_text() and "CC BY-SA 4.0" in (out / "report.md").read_text()


def test_a_threshold_that_is_not_met_fails_the_run_and_says_which(seed_index, tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["eval", str(SEED_SUITE), "--index-dir", str(seed_index), "--limit", "3", "--out", str(out),
                 "--min", "hit@5=1.01", "answer_match=0", "--max", "latency_p95_ms=0.001"])
    captured = capsys.readouterr()
    assert code == 3
    assert "threshold(s) not met: hit@5 >= 1.01, latency_p95_ms <= 0.001" in captured.err
    assert "answer_match >= 0: 0" in captured.out and "NOT MET" in captured.out
    data = json.loads((out / "report.json").read_text())
    assert data["passed"] is False
    assert [(t["metric"], t["met"]) for t in data["thresholds"]] == [
        ("hit@5", False), ("answer_match", True), ("latency_p95_ms", False)]
    assert "NOT MET" in (out / "report.md").read_text() and 'class="gate bad"' in (out / "report.html").read_text()


@pytest.mark.parametrize("extra, message", [
    (["--min", "hit@9=0.5"], "unknown metric 'hit@9'"),
    (["--min", "latency_p50_ms=100"], "use --max latency_p50_ms=100"),
    (["--max", "hit@1=0.5"], "use --min hit@1=0.5"),
    (["--min", "hit@1"], "expected METRIC=VALUE"),
    (["--min", "hit@1=high"], "must be a number"),
    (["--limit", "0"], "--limit must be 1 or more"),
])
def test_bad_arguments_exit_2_before_anything_runs(extra, message, tmp_path, capsys):
    code = main(["eval", str(SEED_SUITE), "--index-dir", str(tmp_path / "never"), *extra])
    assert code == 2 and message in capsys.readouterr().err
    assert not (tmp_path / "never").exists()


def test_bad_suite_and_compare_files_exit_2(tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "q", "answers": "x", "answerable": "maybe"}\n')
    assert main(["eval", str(bad), "--corpus", str(ROOT / "seeds")]) == 2
    assert f"{bad}:1: answerable: expected true or false" in capsys.readouterr().err
    not_report = tmp_path / "prev.json"
    not_report.write_text('{"hello": 1}')
    assert main(["eval", str(SEED_SUITE), "--compare", str(not_report)]) == 2
    assert "not an evaluation report.json" in capsys.readouterr().err
    assert main(["eval", str(SEED_SUITE), "--compare", str(tmp_path / "missing.json")]) == 2


def test_compare_shows_each_change_and_the_questions_that_flipped(seed_report, seed_index, tmp_path, capsys):
    previous = seed_report.to_dict()
    previous["metrics"]["hit@1"] -= 0.1
    previous["metrics"]["latency_p50_ms"] = seed_report.metrics["latency_p50_ms"] / 2
    previous["metrics"]["latency_p95_ms"] = seed_report.metrics["latency_p95_ms"] * 1.05
    passing = next(q for q in previous["questions"] if q["status"] == "pass")
    failing = next((q for q in previous["questions"] if q["status"] != "pass"), None)
    passing["status"] = "fail"
    if failing:
        failing["status"] = "pass"
    path = tmp_path / "previous.json"
    path.write_text(json.dumps(previous))
    report = apply_gate(fresh(seed_report), previous=path)
    c = report.comparison
    assert c["metrics"]["hit@1"]["change"] == pytest.approx(0.1) and c["metrics"]["hit@1"]["verdict"] == "better"
    assert c["metrics"]["latency_p50_ms"]["verdict"] == "worse"  # doubled: lower is better
    assert c["metrics"]["latency_p95_ms"]["verdict"] == "same"  # 5 % faster is timing noise, not a change
    assert c["metrics"]["answer_match"]["verdict"] == "same" and c["metrics"]["answer_match"]["change"] == 0
    assert c["newly_passing"] == [passing["id"]]
    assert c["newly_failing"] == ([failing["id"]] if failing else [])
    assert apply_gate(fresh(seed_report), previous=seed_report.to_dict()).comparison["newly_failing"] == []
    # the CLI: the change column in the summary and in every report
    out = tmp_path / "out"
    assert main(["eval", str(SEED_SUITE), "--index-dir", str(seed_index), "--limit", "3", "--out", str(out),
                 "--compare", str(path)]) == 0
    printed = capsys.readouterr().out
    assert "change" in printed and f"compared with {path}" in printed
    data = json.loads((out / "report.json").read_text())
    assert data["comparison"]["previous"] == str(path) and "hit@1" in data["comparison"]["metrics"]
    assert "| change |" in (out / "report.md").read_text()
    assert "Change since the previous run" in (out / "report.html").read_text()


def test_evaluation_never_uses_the_main_index(tmp_path, monkeypatch, capsys):
    main_index = tmp_path / "main-index"
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(main_index))
    monkeypatch.setenv("ASSISTANT_CHROMA_HOST", "chroma.invalid")  # a configured server is not used either
    monkeypatch.setenv("ASSISTANT_EVAL_CACHE", str(tmp_path / "cache"))
    assert main(["eval", str(SEED_SUITE), "--limit", "2", "--quiet", "--out", str(tmp_path / "a")]) == 0
    folders = sorted(p.name for p in (tmp_path / "cache").iterdir())
    assert len(folders) == 1 and folders[0].startswith("seeds-") and not main_index.exists()
    assert main(["eval", str(SEED_SUITE), "--limit", "1", "--quiet", "--out", str(tmp_path / "b")]) == 0
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == folders  # reused, not rebuilt elsewhere
    assert main(["eval", str(SEED_SUITE), "--index-dir", str(main_index), "--limit", "1"]) == 2
    assert "is your main index" in capsys.readouterr().err


def test_the_cache_folder_follows_the_corpus_content(tmp_path, monkeypatch):
    monkeypatch.setenv("ASSISTANT_EVAL_CACHE", str(tmp_path / "cache"))
    corpus = tmp_path / "corpus"
    shutil.copytree(ROOT / "seeds", corpus)
    settings = Settings.load()
    first = eval_index_dir(corpus, settings)
    assert first == eval_index_dir(corpus, settings) and first.parent == tmp_path / "cache"
    (corpus / "extra.txt").write_text("Another paragraph.\n")
    assert eval_index_dir(corpus, settings) != first
    assert eval_index_dir(corpus, settings.model_copy(update={"embedding": "openai:x"})) != eval_index_dir(corpus,
                                                                                                          settings)


def test_the_python_api(seed_index, tmp_path):
    report = evaluate(SEED_SUITE, index_dir=seed_index, limit=2, out=tmp_path / "out", minimum={"hit@5": 0.0},
                      maximum={"latency_p95_ms": 1e9})
    assert report.passed and report.suite["questions"] == 2
    assert (tmp_path / "out" / "report.html").is_file()
    with pytest.raises(ValueError, match="unknown metric"):
        evaluate(SEED_SUITE, index_dir=seed_index, minimum={"accuracy": 0.5})


def test_json_output_and_corpus_override(seed_index, tmp_path, capsys):
    code = main(["eval", str(SEED_SUITE), "--corpus", str(ROOT / "seeds"), "--index-dir", str(seed_index),
                 "--limit", "1", "--json", "--out", str(tmp_path / "out")])
    data = json.loads(capsys.readouterr().out)  # stdout is exactly report.json
    assert code == 0 and data["suite"]["corpus"] == str((ROOT / "seeds").resolve())
    assert data == json.loads((tmp_path / "out" / "report.json").read_text())
