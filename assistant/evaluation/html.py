"""report.html: one self-contained page (inline CSS, inline SVG charts, a few lines of inline JS, no external
assets) that a person can open from a CI artefact or an e-mail and read without a server or network.

Layout: headline numbers, the gate, charts of how the per-question results are distributed (so a mean is never
read without its spread), then every question with its answer, citations and gold evidence, failures first.

This module only prepares what the page shows (numbers, formatted values, chart geometry from charts.py) as
plain dicts; the markup is in templates/ and rendered by Jinja2 with autoescape on. Suite text and answers come
from documents: autoescape makes them text, never markup, and they are passed as values, never compiled as
templates, so `{{ }}` in a document is shown as written. StrictUndefined turns a misspelt field in a template
into an error in the tests instead of a silently empty cell.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import jinja2

from assistant.evaluation.charts import report_charts
from assistant.evaluation.metrics import REGISTRY
from assistant.evaluation.report import (
    LABELS,
    EvalReport,
    first_evidence_rank,
    fmt,
    fmt_change,
    metric_names,
    ordered_questions,
    outcome_line,
    suite_line,
    usage_line,
)

TEMPLATES = Path(__file__).parent / "templates"
HEADLINE = tuple(m.name for m in REGISTRY.values() if m.headline)
COMPARISON_LISTS = (("newly_failing", "Newly failing"), ("newly_passing", "Newly passing"),
                    ("added", "New questions"), ("removed", "Questions no longer in the suite"))


@cache
def environment() -> jinja2.Environment:
    """One environment per process: templates are compiled once, on first use."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["px"] = lambda value: f"{value:.1f}"  # SVG coordinates: one decimal is finer than a pixel
    return env


def verdict_class(change: dict[str, Any] | None) -> str:
    """CSS class of a comparison verdict ("better", "worse", "same", "na")."""
    return (change or {}).get("verdict", "na").replace("n/a", "na")


# --- sections --------------------------------------------------------------------------------------------
def cards(report: EvalReport) -> list[dict[str, Any]]:
    """The headline metrics (those marked headline in the registry), with their change since the last run."""
    compare = (report.comparison or {}).get("metrics", {})
    cards = []
    for name in HEADLINE:
        change = compare.get(name)  # None: no earlier run to compare with, so the card has no change line
        cards.append({"name": name, "value": fmt(name, report.metrics.get(name)), "label": LABELS.get(name, ""),
                      "n": report.counts.get(name, 0), "change": fmt_change(name, change) if change else None,
                      "verdict": verdict_class(change)})
    return cards


def gate(report: EvalReport) -> dict[str, Any] | None:
    if not report.thresholds:
        return None
    failed = report.failed_thresholds
    return {"ok": not failed, "summary": f"{len(failed)} threshold(s) not met" if failed else "all thresholds met",
            "thresholds": [{"met": t["met"], "metric": t["metric"], "op": t["op"], "target": f"{t['target']:g}",
                            "value": fmt(t["metric"], t["value"])} for t in report.thresholds]}


def metric_rows(report: EvalReport) -> list[dict[str, Any]]:
    compare = (report.comparison or {}).get("metrics", {})
    return [{"name": name, "value": fmt(name, report.metrics.get(name)), "n": report.counts.get(name, 0),
             "label": LABELS.get(name, ""), "previous": fmt(name, compare.get(name, {}).get("previous")),
             "change": fmt_change(name, compare.get(name, {})), "verdict": verdict_class(compare.get(name))}
            for name in metric_names(report)]


def comparison(report: EvalReport) -> dict[str, Any] | None:
    c = report.comparison
    if not c:
        return None
    return {"previous": c.get("previous"), "suite": str(c.get("previous_suite")),
            "fingerprint": str(c.get("previous_fingerprint")),
            "lists": [{"label": label, "ids": c.get(key) or [], "linked": key != "removed"}
                      for key, label in COMPARISON_LISTS]}


def judge(report: EvalReport) -> dict[str, Any] | None:
    j = report.judge
    if not j:
        return None
    estimated = j.get("estimate", {}).get("cost_usd")
    return {"model": str(j.get("model")), "calls": j.get("calls", 0), "errors": len(j.get("errors", [])),
            "cost": "an unknown cost" if estimated is None else f"${estimated:.4f}"}


def question_row(q: dict[str, Any]) -> dict[str, Any]:
    """One row of the question table: the row as report.json has it, plus its formatted numbers."""
    s = q["scores"]
    rank = first_evidence_rank(q)
    latency = q.get("latency_ms", 0)
    return {**q, "rank": "—" if s.get("mrr") is None else (str(rank) if rank else "miss"),
            "f1": "—" if s.get("answer_f1") is None else f"{s['answer_f1']:.2f}",
            "ms": "—" if latency is None else f"{latency:,.0f}"}


def filters(report: EvalReport) -> list[dict[str, str]]:
    """The status buttons above the question table, each with how many questions it shows."""
    o = report.outcomes
    return [{"status": "all", "label": f"all {len(report.questions)}"},
            {"status": "error", "label": f"errors {o.get('error', 0)}"},
            {"status": "fail", "label": f"failed {o.get('fail', 0)}"},
            {"status": "pass", "label": f"passed {o.get('pass', 0)}"}]


def page(report: EvalReport) -> dict[str, Any]:
    """Everything report.html.j2 shows, as plain values."""
    s = report.suite
    return {"name": s["name"], "suite_line": suite_line(report), "started": report.timing.get("started", ""),
            "seconds": f"{report.timing.get('seconds', 0):.1f}", "fingerprint": report.fingerprint,
            "licence": s.get("licence"), "attribution": s.get("attribution", ""), "gate": gate(report),
            "cards": cards(report), "outcome_line": outcome_line(report), "usage_line": usage_line(report),
            "compared": bool((report.comparison or {}).get("metrics")), "metrics": metric_rows(report),
            "charts": report_charts(report), "comparison": comparison(report), "judge": judge(report),
            "warnings": report.warnings, "filters": filters(report),
            "questions": [question_row(q) for q in ordered_questions(report.questions)]}


def render_html(report: EvalReport) -> str:
    return environment().get_template("report.html.j2").render(page(report))
