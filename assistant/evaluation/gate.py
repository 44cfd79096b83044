"""The CI gate: --min/--max thresholds on suite metrics, and --compare against an earlier report.json.

Kept apart from the runner so a gate can be re-checked on a saved report without answering anything again.
A threshold on a metric that could not be computed (null) is not met: an unmeasured number must not pass.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.evaluation.metrics import LOWER_IS_BETTER, REGISTRY

GATED = tuple(REGISTRY)
EPSILON = 1e-9  # float noise in a mean is not a change
LATENCY_NOISE = 0.10  # timings move by a few per cent between identical runs: within this share they are "same"


class ThresholdError(ValueError):
    """A --min/--max argument that does not name a metric and a number."""


@dataclass(frozen=True)
class Threshold:
    metric: str
    op: str  # ">=" (--min) or "<=" (--max)
    target: float

    def met_by(self, value: float | None) -> bool:
        if value is None:
            return False
        return value >= self.target - EPSILON if self.op == ">=" else value <= self.target + EPSILON

    def __str__(self) -> str:
        return f"{self.metric} {self.op} {self.target:g}"


def parse_thresholds(minimum: Sequence[str] | Mapping[str, float] = (),
                     maximum: Sequence[str] | Mapping[str, float] = ()) -> list[Threshold]:
    """From "METRIC=VALUE" strings (the CLI) or {metric: value} (Python)."""
    out: list[Threshold] = []
    for op, items in ((">=", minimum), ("<=", maximum)):
        pairs = items.items() if isinstance(items, Mapping) else [_split(item, op) for item in items]
        for metric, value in pairs:
            if metric not in GATED:
                raise ThresholdError(f"unknown metric '{metric}' (metrics: {', '.join(GATED)})")
            try:
                target = float(value)
            except (TypeError, ValueError):
                raise ThresholdError(f"'{metric}={value}': the threshold must be a number") from None
            if op == ">=" and metric in LOWER_IS_BETTER:
                raise ThresholdError(f"{metric} is better when lower: use --max {metric}={value}")
            if op == "<=" and metric not in LOWER_IS_BETTER:
                raise ThresholdError(f"{metric} is better when higher: use --min {metric}={value}")
            out.append(Threshold(metric, op, target))
    return out


def _split(item: str, op: str) -> tuple[str, str]:
    flag = "--min" if op == ">=" else "--max"
    if "=" not in item:
        raise ThresholdError(f"{flag} '{item}': expected METRIC=VALUE, e.g. {flag} hit@5=0.8")
    metric, _, value = item.partition("=")
    return metric.strip(), value.strip()


def check_thresholds(thresholds: Sequence[Threshold], metrics: Mapping[str, float | None]) -> list[dict[str, Any]]:
    return [{"metric": t.metric, "op": t.op, "target": t.target, "value": metrics.get(t.metric),
             "met": t.met_by(metrics.get(t.metric))} for t in thresholds]


def load_previous(path: str | Path) -> dict[str, Any]:
    """An earlier report.json; ValueError (with the path) if it is not one."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"--compare: no such report: {path}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"--compare: {path} is not JSON ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("metrics"), dict):
        raise ValueError(f"--compare: {path} is not an evaluation report.json (it has no \"metrics\" object)")
    data.setdefault("_path", str(path))
    return data


def compare(metrics: Mapping[str, float | None], rows: Sequence[Mapping[str, Any]],
            previous: Mapping[str, Any]) -> dict[str, Any]:
    """Each metric's change against `previous`, and which questions started or stopped passing."""
    changes: dict[str, dict[str, Any]] = {}
    old_metrics = previous.get("metrics", {})
    for name in [*GATED, *[m for m in metrics if m not in GATED]]:
        if name not in metrics and name not in old_metrics:
            continue
        now, before = metrics.get(name), old_metrics.get(name)
        change = now - before if isinstance(now, (int, float)) and isinstance(before, (int, float)) else None
        if change is None:
            verdict = "n/a"
        elif abs(change) <= EPSILON * max(1.0, abs(before)) or (
                name in REGISTRY and REGISTRY[name].unit == "ms" and abs(change) <= LATENCY_NOISE * abs(before)):
            verdict = "same"
        else:
            verdict = "better" if (change < 0) == (name in LOWER_IS_BETTER) else "worse"
        changes[name] = {"previous": before, "current": now, "change": change, "verdict": verdict}
    old_status = {q.get("id"): q.get("status") for q in previous.get("questions", []) if isinstance(q, dict)}
    new_status = {q["id"]: q["status"] for q in rows}
    same_suite = previous.get("suite", {}).get("name")
    return {
        "previous": previous.get("_path"),
        "previous_suite": same_suite,
        "previous_fingerprint": previous.get("fingerprint"),
        "metrics": changes,
        "newly_failing": [i for i, s in new_status.items() if s != "pass" and old_status.get(i) == "pass"],
        "newly_passing": [i for i, s in new_status.items() if s == "pass" and old_status.get(i) not in (None, "pass")],
        "added": [i for i in new_status if i not in old_status],
        "removed": [i for i in old_status if i not in new_status],
    }
