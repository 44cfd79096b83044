"""Writing a report's three files: report.json (everything, for machines and --compare), report.md (for a pull
request or a terminal) and report.html (for a person, self-contained).

It sits above report.py and html.py so that neither needs the other: the report is data, each renderer reads
it, and this is the one place that knows which files an evaluation leaves behind.
"""

from __future__ import annotations

import json
from pathlib import Path

from assistant.evaluation.html import render_html
from assistant.evaluation.report import EvalReport, render_markdown


def write_reports(report: EvalReport, out: str | Path) -> dict[str, Path]:
    """report.json, report.md and report.html in `out` (created); returns their paths by kind."""
    folder = Path(out).expanduser()
    folder.mkdir(parents=True, exist_ok=True)
    paths = {"json": folder / "report.json", "md": folder / "report.md", "html": folder / "report.html"}
    paths["json"].write_text(json.dumps(report.to_dict(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    paths["md"].write_text(render_markdown(report), encoding="utf-8")
    paths["html"].write_text(render_html(report), encoding="utf-8")
    return paths
