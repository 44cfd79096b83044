"""`assistant eval --mode llm --judge --yes` against the scripted OpenAI-compatible server: tokens and cost are
summed from Answer.usage, the judge's estimate is printed before its requests, and judged metrics are reported."""

from __future__ import annotations

import json
from pathlib import Path

from llm_support import KEY, cite, scripted, scripted_server  # noqa: F401 (fixtures)

from assistant.cli import main

SEED_SUITE = Path(__file__).resolve().parents[3] / "benchmarks" / "suites" / "seed_article.qa.jsonl"


def test_llm_mode_with_judge(scripted, tmp_path, monkeypatch, capsys):  # noqa: F811
    monkeypatch.setenv("OPENAI_BASE_URL", scripted.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("ASSISTANT_LLM_MODEL", "gpt-4o-mini")
    monkeypatch.setenv("ASSISTANT_LLM_BACKOFF", "0.01")
    scripted.script(  # seed-001..003: evidence paragraphs 2, 2 and 1
        {"content": f"The strikes were in the eastern province of Deir al-Zour {cite(2)}."},
        {"content": f"They were carried out under the direction of President Biden {cite(2)}."},
        {"content": f"They targeted infrastructure used by groups linked to Iran {cite(1)}."},
        *[{"content": json.dumps({"verdict": v, "reason": "scripted"})}
          for v in ("correct", "supported", "correct", "supported", "correct", "unsupported")],
    )
    out = tmp_path / "out"
    code = main(["eval", str(SEED_SUITE), "--mode", "llm", "--limit", "3", "--index-dir", str(tmp_path / "index"),
                 "--out", str(out), "--quiet", "--judge", "--yes"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "LLM judge: 6 requests to gpt-4o-mini" in captured.err
    data = json.loads((out / "report.json").read_text())
    assert data["config"]["mode"] == "llm" and data["config"]["answer_modes"] == ["llm"]
    assert all(q["mode"] == "llm" for q in data["questions"])
    assert data["usage"]["prompt_tokens"] > 0 and data["usage"]["completion_tokens"] > 0
    assert data["usage"]["cost_usd"] is not None and data["usage"]["cost_usd"] > 0
    assert data["metrics"]["citation_recall"] == 1.0 and data["metrics"]["answer_match"] == 1.0
    assert data["metrics"]["judged_correctness"] == 1.0
    assert abs(data["metrics"]["judged_faithfulness"] - 2 / 3) < 1e-6
    assert data["judge"]["calls"] == 6 and data["judge"]["errors"] == []
    assert "tokens:" in captured.out and "judged_faithfulness" in captured.out
    assert len(scripted.requests()) == 9  # three answers, six verdicts: nothing else was sent
