"""The result of an evaluation run and its plain-text forms: report.json, report.md and the console summary.

report.json holds everything, per question, so every number in the summary can be traced back to the questions
behind it; the HTML report (html.py) is drawn from the same dictionary, and files.py writes the three files. This
module imports neither, so its formatting helpers (fmt, fmt_change, suite_line, ...) serve every form alike.

`fingerprint` hashes everything that should not change between two runs of the same code on the same suite (all
but latency, token usage and timestamps), so "did anything change?" is one comparison. The raw list of retrieved
paragraphs is left out too: their order below the evidence once differed between processes (bm25s numbered its
vocabulary in Python's per-process hash order; assistant/index/bm25.py does not), and it is not what is measured: the
rank of the evidence, which is what hit@k and MRR measure, is in each question's scores and so in the fingerprint.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from assistant.evaluation.metrics import JUDGED, METRICS, REGISTRY

SCHEMA = "assistant-eval/1"
VOLATILE = ("latency_ms", "usage", "judge", "retrieved")  # per-question fields left out of the fingerprint
LABELS = {m.name: m.label for m in REGISTRY.values()}


@dataclass
class EvalReport:
    suite: dict[str, Any]
    config: dict[str, Any]
    metrics: dict[str, float | None]
    counts: dict[str, int]
    questions: list[dict[str, Any]]
    outcomes: dict[str, int] = field(default_factory=dict)
    usage: dict[str, Any] = field(default_factory=dict)
    timing: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    judge: dict[str, Any] | None = None
    thresholds: list[dict[str, Any]] = field(default_factory=list)
    comparison: dict[str, Any] | None = None
    schema: str = SCHEMA

    # --- the gate -------------------------------------------------------------------------------------
    @property
    def failed_thresholds(self) -> list[dict[str, Any]]:
        return [t for t in self.thresholds if not t["met"]]

    @property
    def passed(self) -> bool:
        """True when every threshold is met (a run with no thresholds passes)."""
        return not self.failed_thresholds

    @property
    def fingerprint(self) -> str:
        stable = {
            "suite": {k: v for k, v in self.suite.items() if k not in ("path", "corpus")},  # same on any clone
            "metrics": {k: v for k, v in self.metrics.items() if not (k in REGISTRY and REGISTRY[k].volatile)},
            "questions": [{k: v for k, v in q.items() if k not in VOLATILE} for q in self.questions],
        }
        blob = json.dumps(stable, sort_keys=True, ensure_ascii=False, default=str)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]

    # --- report.json ----------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["passed"] = self.passed
        data["fingerprint"] = self.fingerprint
        order = ["schema", "suite", "config", "metrics", "counts", "outcomes", "passed", "thresholds", "comparison",
                 "usage", "judge", "timing", "warnings", "fingerprint", "questions"]
        return {k: data[k] for k in order}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EvalReport:
        names = cls.__dataclass_fields__
        return cls(**{k: v for k, v in data.items() if k in names})

    @classmethod
    def load(cls, path: str | Path) -> EvalReport:
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))


# --- formatting -------------------------------------------------------------------------------------------
def fmt(name: str, value: Any) -> str:
    if value is None:
        return "n/a"
    if name in REGISTRY and REGISTRY[name].unit == "ms":
        return f"{value:,.0f} ms"
    return f"{value:.3f}"


def fmt_change(name: str, change: dict[str, Any] | None) -> str:
    if not change or change.get("change") is None:
        return ""
    delta = change["change"]
    if name in REGISTRY and REGISTRY[name].unit == "ms":  # timings: show the change even when it is within noise
        return f"{delta:+,.0f} ms" + (f" ({change['verdict']})" if change["verdict"] != "same" else "")
    return f"{delta:+.3f} ({change['verdict']})" if change["verdict"] != "same" else "same"


def metric_names(report: EvalReport) -> list[str]:
    return [*METRICS, *[m for m in JUDGED if m in report.metrics]]


def suite_line(report: EvalReport) -> str:
    s = report.suite
    return (f"{s['name']}: {s['questions']} questions ({s['answerable']} answerable, {s['unanswerable']} not), "
            f"corpus {s['corpus']}, mode {report.config.get('mode')}")


def outcome_line(report: EvalReport) -> str:
    o = report.outcomes
    return f"{o.get('pass', 0)} passed, {o.get('fail', 0)} failed, {o.get('error', 0)} errors"


def usage_line(report: EvalReport) -> str | None:
    u = report.usage
    if not (u.get("prompt_tokens") or u.get("completion_tokens") or u.get("cost_usd")):
        return None
    cost = "unknown cost" if u.get("cost_usd") is None else f"${u['cost_usd']:.4f}"
    return f"tokens: {u.get('prompt_tokens', 0):,} prompt + {u.get('completion_tokens', 0):,} completion, {cost}"


def render_console(report: EvalReport) -> str:
    """The summary table printed at the end of `assistant eval`."""
    compare = (report.comparison or {}).get("metrics", {})
    rows = [["metric", "value", "n", *(["change"] if compare else []), "meaning"]]
    for name in metric_names(report):
        change = [fmt_change(name, compare.get(name))] if compare else []
        rows.append([name, fmt(name, report.metrics.get(name)), str(report.counts.get(name, "")), *change,
                     LABELS.get(name, "")])
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = [suite_line(report), ""]
    for i, row in enumerate(rows):
        lines.append("  ".join(cell.rjust(widths[j]) if j in (1, 2) else cell.ljust(widths[j])
                               for j, cell in enumerate(row)).rstrip())
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    lines += ["", f"questions: {outcome_line(report)}; took {report.timing.get('seconds', 0):.1f} s"]
    if usage_line(report):
        lines.append(usage_line(report))
    if report.comparison:
        c = report.comparison
        where = c.get("previous") or "an earlier report"
        lines.append(f"compared with {where}: {len(c['newly_failing'])} newly failing, "
                     f"{len(c['newly_passing'])} newly passing")
        if c["newly_failing"]:
            lines.append("  newly failing: " + ", ".join(c["newly_failing"][:20]))
    for warning in report.warnings:
        lines.append(f"warning: {warning}")
    for t in report.thresholds:
        state = "met" if t["met"] else "NOT MET"
        lines.append(f"threshold {t['metric']} {t['op']} {t['target']:g}: {fmt(t['metric'], t['value'])} {state}")
    return "\n".join(lines)


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render_markdown(report: EvalReport) -> str:
    compare = (report.comparison or {}).get("metrics", {})
    s = report.suite
    out = [f"# Evaluation: {s['name']}", "", suite_line(report) + ".", ""]
    if s.get("licence"):
        out += [f"Suite licence: {s['licence']}. {s.get('attribution', '')}".rstrip(), ""]
    out += [f"Questions: {outcome_line(report)}. Run took {report.timing.get('seconds', 0):.1f} s "
            f"(fingerprint `{report.fingerprint}`).", ""]
    out += ["| metric | value | n | " + ("change | " if compare else "") + "meaning |",
            "|---|---:|---:|" + ("---|" if compare else "") + "---|"]
    for name in metric_names(report):
        change = f" {fmt_change(name, compare.get(name))} |" if compare else ""
        out.append(f"| {name} | {fmt(name, report.metrics.get(name))} | {report.counts.get(name, '')} |{change} "
                   f"{LABELS.get(name, '')} |")
    out.append("")
    if usage_line(report):
        out += [usage_line(report), ""]
    if report.thresholds:
        out += ["## Thresholds", ""]
        out += [f"- {'met' if t['met'] else '**NOT MET**'}: {t['metric']} {t['op']} {t['target']:g} "
                f"(got {fmt(t['metric'], t['value'])})" for t in report.thresholds]
        out.append("")
    if report.comparison:
        c = report.comparison
        where = c.get("previous") or "an earlier report"
        out += [f"Compared with `{where}`: newly failing {', '.join(c['newly_failing']) or 'none'}; "
                f"newly passing {', '.join(c['newly_passing']) or 'none'}.", ""]
    if report.warnings:
        out += ["## Warnings", "", *[f"- {w}" for w in report.warnings], ""]
    out += ["## Questions (failures first)", "", "| id | status | question | answer | cited | evidence | why |",
            "|---|---|---|---|---|---|---|"]
    for q in ordered_questions(report.questions):
        cited = ", ".join(f"{c['doc_id']} ¶{c['paragraph']}{'' if c['evidence'] else ' ✗'}" for c in q["citations"])
        gold = ", ".join(f"{e['doc_id']} ¶{e['paragraph']}" for e in q["evidence"]) or "—"
        answer = q["error"] if q["status"] == "error" else ("(declined) " if q["declined"] else "") + q["answer"]
        out.append(f"| {_cell(q['id'])} | {q['status']} | {_cell(q['question'])} | {_cell(answer[:300])} | "
                   f"{_cell(cited) or '—'} | {_cell(gold)} | {_cell('; '.join(q['reasons']))} |")
    return "\n".join(out) + "\n"


STATUS_ORDER = {"error": 0, "fail": 1, "pass": 2}


def ordered_questions(questions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Errors, then failures, then passes; suite order within each (a stable sort)."""
    return sorted(questions, key=lambda q: STATUS_ORDER.get(q["status"], 3))


def first_evidence_rank(q: dict[str, Any]) -> int | None:
    """1-based rank of the first retrieved paragraph that is gold evidence in a question's row, or None (a miss)."""
    return next((i for i, c in enumerate(q["retrieved"], 1) if c["evidence"]), None)
