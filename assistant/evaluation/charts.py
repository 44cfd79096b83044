"""The geometry of report.html's three kinds of chart, as plain numbers: where each bar, tick and label goes.

The SVG markup itself lives in templates/charts.svg.j2; keeping the arithmetic here means the templates only
place what was measured, and a chart's layout can be checked without rendering anything. All three draw on
data already in the report (per-question scores, ranks, latencies), so a mean is never read without its spread.
"""

from __future__ import annotations

from typing import Any

from assistant.evaluation.metrics import REGISTRY
from assistant.evaluation.report import EvalReport, first_evidence_rank, metric_names

COLOURS = {"pass": "#2e7d32", "fail": "#c62828", "error": "#6a1b9a", "bar": "#1565c0", "prev": "#222"}
STATUSES = ("pass", "fail", "error")


def bars(items: list[tuple[str, float | None, float | None]], title: str, width: int = 520) -> dict[str, Any]:
    """Horizontal bars on a 0..1 scale, one per (name, value, previous value); the previous run is a tick."""
    row, left, right = 24, 150, 60
    height = row * len(items) + 24
    scale = width - left - right
    rows = []
    for i, (name, value, previous) in enumerate(items):
        length = None if value is None else max(value, 0) * scale
        rows.append({"name": name, "y": i * row + 4, "value": value, "length": length,
                     "previous": previous, "previous_x": None if previous is None else left + previous * scale})
    return {"kind": "bars", "title": title, "width": width, "height": height, "left": left, "row": row,
            "grid": [{"x": left + x * scale, "label": f"{x:g}"} for x in (0, 0.25, 0.5, 0.75, 1)],
            "rows": rows, "colour": COLOURS["bar"], "tick_colour": COLOURS["prev"]}


def histogram(counts: list[int], labels: list[str], title: str, colour: str = COLOURS["bar"],
              width: int = 360, height: int = 170) -> dict[str, Any]:
    """Vertical bars with counts on top: how many questions fall in each bin (the tallest fills the height)."""
    top, bottom, left = 16, 34, 8
    slot = (width - 2 * left) / max(len(counts), 1)
    peak = max(counts, default=0) or 1
    columns = []
    for i, (count, label) in enumerate(zip(counts, labels, strict=True)):
        h = (height - top - bottom) * count / peak
        columns.append({"x": left + i * slot, "y": height - bottom - h, "height": h, "count": count, "label": label})
    return {"kind": "histogram", "title": title, "width": width, "height": height, "left": left, "slot": slot,
            "base": height - bottom, "columns": columns, "colour": colour}


def outcomes(questions: list[dict[str, Any]], width: int = 360) -> dict[str, Any]:
    """One stacked bar per kind of question (answerable, unanswerable): passed / failed / errors."""
    groups = [("answerable", [q for q in questions if q["answerable"]]),
              ("unanswerable", [q for q in questions if not q["answerable"]])]
    left, row = 96, 30
    scale = width - left - 10
    total = max((len(g) for _, g in groups), default=0) or 1
    rows = []
    for i, (name, group) in enumerate(groups):
        x, segments = float(left), []
        for status in STATUSES:
            count = sum(q["status"] == status for q in group)
            w = scale * count / total
            if count:
                segments.append({"status": status, "x": x, "width": w, "count": count, "colour": COLOURS[status]})
            x += w
        rows.append({"name": name, "y": i * row + 4, "segments": segments})
    return {"kind": "outcomes", "title": "outcomes", "width": width, "height": row * 2 + 30, "left": left,
            "row": row, "rows": rows, "legend_y": row * 2 + 14,
            "legend": [{"x": left + i * 80, "status": s, "colour": COLOURS[s]} for i, s in enumerate(STATUSES)]}


def report_charts(report: EvalReport) -> list[dict[str, Any]]:
    """Every chart of the Distributions section, each with its heading; charts without data are left out."""
    previous = {k: v.get("previous") for k, v in (report.comparison or {}).get("metrics", {}).items()}
    ratio = [m for m in metric_names(report) if REGISTRY[m].unit != "ms"]
    blocks = [("Suite metrics (black tick: previous run)" if previous else "Suite metrics",
               bars([(m, report.metrics.get(m), previous.get(m)) for m in ratio], "suite metrics")),
              ("Outcomes", outcomes(report.questions))]
    scored = [q for q in report.questions if q["scores"].get("answer_f1") is not None]
    if scored:
        bins = [0] * 10
        for q in scored:
            bins[min(int(q["scores"]["answer_f1"] * 10), 9)] += 1
        blocks.append(("Answer token F1 per answerable question",
                       histogram(bins, [f"{i / 10:.1f}" for i in range(10)], "answer F1")))
    ranked = [q for q in report.questions if q["scores"].get("mrr") is not None]
    if ranked:
        depth = max([5, *(len(q["retrieved"]) for q in ranked)])
        counts = [0] * (depth + 1)
        for q in ranked:
            rank = first_evidence_rank(q)
            counts[rank - 1 if rank else depth] += 1
        blocks.append(("Rank of the first evidence paragraph",
                       histogram(counts, [str(i) for i in range(1, depth + 1)] + ["miss"], "evidence rank")))
    latencies = sorted(q["latency_ms"] for q in report.questions if q.get("latency_ms") is not None)
    if latencies:
        hi = latencies[-1] or 1.0
        bins = [0] * 10
        for v in latencies:
            bins[min(int(v / hi * 10), 9)] += 1
        blocks.append((f"Latency per question (ms, up to {hi:,.0f})",
                       histogram(bins, [f"{hi * i / 10:,.0f}" for i in range(10)], "latency", "#00838f")))
    return [{**chart, "heading": heading} for heading, chart in blocks]
