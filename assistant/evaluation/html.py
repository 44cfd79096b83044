"""report.html: one self-contained page (inline CSS, inline SVG charts, a few lines of inline JS, no external
assets) that a person can open from a CI artefact or an e-mail and read without a server or network.

Layout: headline numbers, the gate, charts of how the per-question results are distributed (so a mean is never
read without its spread), then every question with its answer, citations and gold evidence, failures first.
Everything shown is escaped: suite text and answers come from documents and must not become markup.
"""

from __future__ import annotations

from html import escape
from typing import Any

from assistant.evaluation.metrics import REGISTRY
from assistant.evaluation.report import (
    LABELS,
    EvalReport,
    fmt,
    fmt_change,
    metric_names,
    ordered_questions,
    outcome_line,
    suite_line,
    usage_line,
)

HEADLINE = tuple(m.name for m in REGISTRY.values() if m.headline)
COLOURS = {"pass": "#2e7d32", "fail": "#c62828", "error": "#6a1b9a", "bar": "#1565c0", "prev": "#222"}

CSS = """
body{font:15px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1d1d1f;background:#f6f7f9}
main{max-width:1200px;margin:0 auto;padding:24px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 10px}
.sub{color:#555;margin:0 0 16px}.cards{display:flex;flex-wrap:wrap;gap:12px}
.card{background:#fff;border:1px solid #dde;border-radius:8px;padding:12px 16px;min-width:150px}
.card .v{font-size:26px;font-weight:600}.card .l{color:#555;font-size:13px}.card .c{font-size:12px}
.better{color:#2e7d32}.worse{color:#c62828}.same,.na{color:#777}
.gate{padding:10px 14px;border-radius:8px;margin:16px 0;font-weight:600}
.gate.ok{background:#e8f5e9;color:#1b5e20}.gate.bad{background:#ffebee;color:#b71c1c}
.charts{display:flex;flex-wrap:wrap;gap:16px}
.chart{background:#fff;border:1px solid #dde;border-radius:8px;padding:10px}
.chart h3{font-size:14px;margin:0 0 6px}
table{border-collapse:collapse;width:100%;background:#fff}#metrics{width:auto;min-width:560px}
#questions{table-layout:fixed}#questions th:nth-child(1){width:8%}#questions th:nth-child(2){width:11%}
#questions th:nth-child(3){width:14%}#questions th:nth-child(4){width:23%}#questions th:nth-child(5){width:14%}
#questions th:nth-child(6){width:9%}#questions th:nth-child(7){width:11%}#questions th:nth-child(n+8){width:3.5%}
#questions td{overflow-wrap:break-word}#questions summary{overflow-wrap:anywhere}
.gate li.met{color:#1b5e20;font-weight:400}
th,td{border:1px solid #dde;padding:6px 8px;text-align:left;vertical-align:top}
th{background:#eef1f5;position:sticky;top:0}td.num{text-align:right;white-space:nowrap}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;color:#fff;font-size:12px;font-weight:600}
.pass{background:#2e7d32}.fail{background:#c62828}.error{background:#6a1b9a}
.cite-ok{color:#2e7d32}.cite-bad{color:#c62828}.small{font-size:12px;color:#555}
details summary{cursor:pointer}.answer{white-space:pre-wrap}.declined{font-style:italic;color:#555}
.controls{margin:8px 0;display:flex;gap:8px;flex-wrap:wrap;align-items:center}
.controls button{border:1px solid #99a;background:#fff;border-radius:6px;padding:3px 10px;cursor:pointer}
.controls button.on{background:#1565c0;color:#fff}
"""

SCRIPT = """
(function(){var rows=[].slice.call(document.querySelectorAll('#questions tbody tr'));var state='all';
var box=document.getElementById('search');function apply(){var q=(box.value||'').toLowerCase();var n=0;
rows.forEach(function(r){var ok=(state==='all'||r.dataset.status===state)
&&(!q||r.textContent.toLowerCase().indexOf(q)>=0);
r.style.display=ok?'':'none';if(ok)n++;});document.getElementById('shown').textContent=n+' shown';}
[].forEach.call(document.querySelectorAll('.controls button'),function(b){b.addEventListener('click',function(){
state=b.dataset.status;[].forEach.call(document.querySelectorAll('.controls button'),
function(x){x.classList.toggle('on',x===b);});
apply();});});box.addEventListener('input',apply);apply();})();
"""


def e(value: Any) -> str:
    return escape(str(value), quote=True)


# --- charts ----------------------------------------------------------------------------------------------
def svg_bars(items: list[tuple[str, float | None, float | None]], title: str, width: int = 520) -> str:
    """Horizontal bars on a 0..1 scale; a black tick marks the previous run's value."""
    row, left, right = 24, 150, 60
    height = row * len(items) + 24
    scale = width - left - right
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
             f'aria-label="{e(title)}">']
    for x in (0, 0.25, 0.5, 0.75, 1):
        px = left + x * scale
        parts.append(f'<line x1="{px:.1f}" y1="0" x2="{px:.1f}" y2="{height - 18}" stroke="#e3e6ea"/>'
                     f'<text x="{px:.1f}" y="{height - 4}" font-size="10" text-anchor="middle" fill="#777">'
                     f"{x:g}</text>")
    for i, (name, value, previous) in enumerate(items):
        y = i * row + 4
        parts.append(f'<text x="{left - 6}" y="{y + 13}" font-size="12" text-anchor="end">{e(name)}</text>')
        if value is None:
            parts.append(f'<text x="{left + 4}" y="{y + 13}" font-size="11" fill="#777">n/a</text>')
        else:
            parts.append(f'<rect x="{left}" y="{y + 2}" width="{max(value, 0) * scale:.1f}" height="{row - 8}" '
                         f'fill="{COLOURS["bar"]}"><title>{e(name)}: {value:.3f}</title></rect>'
                         f'<text x="{left + max(value, 0) * scale + 4:.1f}" y="{y + 13}" font-size="11">'
                         f"{value:.3f}</text>")
        if previous is not None:
            px = left + previous * scale
            parts.append(f'<line x1="{px:.1f}" y1="{y}" x2="{px:.1f}" y2="{y + row - 4}" stroke="{COLOURS["prev"]}" '
                         f'stroke-width="2"><title>previous: {previous:.3f}</title></line>')
    return "".join(parts) + "</svg>"


def svg_histogram(counts: list[int], labels: list[str], title: str, colour: str = COLOURS["bar"],
                  width: int = 360, height: int = 170) -> str:
    """Vertical bars with counts on top: how many questions fall in each bin."""
    top, bottom, left = 16, 34, 8
    n = max(len(counts), 1)
    slot = (width - 2 * left) / n
    peak = max(counts, default=0) or 1
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
             f'aria-label="{e(title)}">']
    for i, (count, label) in enumerate(zip(counts, labels, strict=True)):
        h = (height - top - bottom) * count / peak
        x = left + i * slot
        y = height - bottom - h
        parts.append(f'<rect x="{x + 2:.1f}" y="{y:.1f}" width="{slot - 4:.1f}" height="{h:.1f}" fill="{colour}">'
                     f'<title>{e(label)}: {count}</title></rect>'
                     f'<text x="{x + slot / 2:.1f}" y="{y - 3:.1f}" font-size="10" text-anchor="middle">{count}</text>'
                     f'<text x="{x + slot / 2:.1f}" y="{height - bottom + 13}" font-size="9" text-anchor="middle" '
                     f'fill="#555">{e(label)}</text>')
    parts.append(f'<line x1="{left}" y1="{height - bottom}" x2="{width - left}" y2="{height - bottom}" stroke="#999"/>')
    return "".join(parts) + "</svg>"


def svg_outcomes(questions: list[dict[str, Any]], width: int = 360) -> str:
    """One stacked bar per kind of question: passed / failed / errors."""
    groups = [("answerable", [q for q in questions if q["answerable"]]),
              ("unanswerable", [q for q in questions if not q["answerable"]])]
    left, row = 96, 30
    scale = width - left - 10
    total = max((len(g) for _, g in groups), default=0) or 1
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{row * 2 + 30}" role="img" '
             f'aria-label="outcomes">']
    for i, (name, group) in enumerate(groups):
        y, x = i * row + 4, float(left)
        parts.append(f'<text x="{left - 6}" y="{y + 16}" font-size="12" text-anchor="end">{name}</text>')
        for status in ("pass", "fail", "error"):
            count = sum(q["status"] == status for q in group)
            w = scale * count / total
            if count:
                parts.append(f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{row - 8}" fill="{COLOURS[status]}">'
                             f'<title>{name} {status}: {count}</title></rect>'
                             f'<text x="{x + w / 2:.1f}" y="{y + 15}" font-size="11" fill="#fff" '
                             f'text-anchor="middle">{count}</text>')
            x += w
    legend = "".join(f'<rect x="{left + i * 80}" y="{row * 2 + 14}" width="10" height="10" fill="{COLOURS[s]}"/>'
                     f'<text x="{left + i * 80 + 14}" y="{row * 2 + 23}" font-size="11">{s}</text>'
                     for i, s in enumerate(("pass", "fail", "error")))
    return "".join(parts) + legend + "</svg>"


def charts(report: EvalReport) -> str:
    previous = {k: v.get("previous") for k, v in (report.comparison or {}).get("metrics", {}).items()}
    ratio = [m for m in metric_names(report) if REGISTRY[m].unit != "ms"]
    blocks = [("Suite metrics (black tick: previous run)" if previous else "Suite metrics",
               svg_bars([(m, report.metrics.get(m), previous.get(m)) for m in ratio], "suite metrics")),
              ("Outcomes", svg_outcomes(report.questions))]
    scored = [q for q in report.questions if q["scores"].get("answer_f1") is not None]
    if scored:
        bins = [0] * 10
        for q in scored:
            bins[min(int(q["scores"]["answer_f1"] * 10), 9)] += 1
        blocks.append(("Answer token F1 per answerable question",
                       svg_histogram(bins, [f"{i / 10:.1f}" for i in range(10)], "answer F1")))
    ranked = [q for q in report.questions if q["scores"].get("mrr") is not None]
    if ranked:
        depth = max([5, *(len(q["retrieved"]) for q in ranked)])
        counts = [0] * (depth + 1)
        for q in ranked:
            rank = next((i for i, c in enumerate(q["retrieved"], 1) if c["evidence"]), None)
            counts[rank - 1 if rank else depth] += 1
        blocks.append(("Rank of the first evidence paragraph",
                       svg_histogram(counts, [str(i) for i in range(1, depth + 1)] + ["miss"], "evidence rank")))
    latencies = sorted(q["latency_ms"] for q in report.questions if q.get("latency_ms") is not None)
    if latencies:
        hi = latencies[-1] or 1.0
        bins = [0] * 10
        for v in latencies:
            bins[min(int(v / hi * 10), 9)] += 1
        blocks.append((f"Latency per question (ms, up to {hi:,.0f})",
                       svg_histogram(bins, [f"{hi * i / 10:,.0f}" for i in range(10)], "latency", "#00838f")))
    return '<div class="charts">' + "".join(f'<div class="chart"><h3>{e(t)}</h3>{svg}</div>'
                                            for t, svg in blocks) + "</div>"


# --- sections --------------------------------------------------------------------------------------------
def headline(report: EvalReport) -> str:
    compare = (report.comparison or {}).get("metrics", {})
    cards = []
    for name in HEADLINE:
        change = compare.get(name)
        cls = change["verdict"].replace("n/a", "na") if change else ""
        delta = f'<div class="c {cls}">{e(fmt_change(name, change))}</div>' if change else ""
        value = e(fmt(name, report.metrics.get(name)))
        cards.append(f'<div class="card" data-metric="{e(name)}"><div class="v">{value}'
                     f'</div><div class="l">{e(name)} · {e(LABELS.get(name, ""))} · n={report.counts.get(name, 0)}'
                     f"</div>{delta}</div>")
    return f'<div class="cards">{"".join(cards)}</div>'


def gate(report: EvalReport) -> str:
    if not report.thresholds:
        return ""
    failed = report.failed_thresholds
    items = "".join(f"<li class={'met' if t['met'] else 'unmet'}>{'met' if t['met'] else 'NOT MET'}: "
                    f"{e(t['metric'])} {e(t['op'])} {t['target']:g} "
                    f"(got {e(fmt(t['metric'], t['value']))})</li>" for t in report.thresholds)
    state = ("bad", f"{len(failed)} threshold(s) not met") if failed else ("ok", "all thresholds met")
    return f'<div class="gate {state[0]}" id="gate">{state[1]}<ul>{items}</ul></div>'


def metric_table(report: EvalReport) -> str:
    compare = (report.comparison or {}).get("metrics", {})
    head = "<tr><th>metric</th><th>value</th><th>n</th>" + ("<th>previous</th><th>change</th>" if compare else "")
    rows = []
    for name in metric_names(report):
        extra = ""
        if compare:
            c = compare.get(name, {})
            extra = (f'<td class="num">{e(fmt(name, c.get("previous")))}</td>'
                     f'<td class="{e(c.get("verdict", "na").replace("n/a", "na"))}">{e(fmt_change(name, c))}</td>')
        rows.append(f'<tr><td>{e(name)}</td><td class="num">{e(fmt(name, report.metrics.get(name)))}</td>'
                    f'<td class="num">{report.counts.get(name, 0)}</td>{extra}<td>{e(LABELS.get(name, ""))}</td></tr>')
    return f"<table id='metrics'>{head}<th>meaning</th></tr>{''.join(rows)}</table>"


def comparison(report: EvalReport) -> str:
    c = report.comparison
    if not c:
        return ""
    where = f"<code>{e(c['previous'])}</code>" if c.get("previous") else "an earlier report"
    lines = [f"<p>Compared with {where} (suite {e(c.get('previous_suite'))}, fingerprint "
             f"{e(c.get('previous_fingerprint'))})."]
    for key, label in (("newly_failing", "Newly failing"), ("newly_passing", "Newly passing"),
                       ("added", "New questions"), ("removed", "Questions no longer in the suite")):
        ids = c.get(key) or []
        links = ", ".join(f'<a href="#q-{e(i)}">{e(i)}</a>' if key != "removed" else e(i) for i in ids)
        lines.append(f"<br>{label}: {links or 'none'}")
    return "<h2>Change since the previous run</h2>" + "".join(lines) + "</p>"


def question_row(q: dict[str, Any]) -> str:
    s = q["scores"]
    if q["status"] == "error":
        answer = f'<span class="cite-bad">{e(q["error"])}</span>'
    elif q["declined"]:
        answer = f'<span class="declined">declined:</span> <span class="answer">{e(q["answer"])}</span>'
    else:
        answer = f'<span class="answer">{e(q["answer"])}</span>'
    cites = "".join(f'<details><summary class="{"cite-ok" if c["evidence"] else "cite-bad"}">[{c["marker"]}] '
                    f'{e(c["doc_id"])} ¶{c["paragraph"]} {"✓" if c["evidence"] else "✗"}</summary>'
                    f'<div class="small">{e(c["quote"])}</div></details>' for c in q["citations"]) or "—"
    gold = "".join(f'<details><summary>{e(ev["doc_id"])} ¶{ev["paragraph"]}</summary>'
                   f'<div class="small">{e(ev["text"])}</div></details>' for ev in q["evidence"]) or "—"
    answers = "; ".join(e(a) for a in q["gold_answers"]) or ("<i>unanswerable</i>" if not q["answerable"] else "—")
    rank = next((i for i, c in enumerate(q["retrieved"], 1) if c["evidence"]), None)
    rank_text = "—" if s.get("mrr") is None else (str(rank) if rank else "miss")
    f1 = "—" if s.get("answer_f1") is None else f"{s['answer_f1']:.2f}"
    reasons = "".join(f"<li>{e(r)}</li>" for r in q["reasons"])
    return (f'<tr id="q-{e(q["id"])}" data-status="{e(q["status"])}"><td>{e(q["id"])}<div class="small">line '
            f'{q["line"]}</div></td><td><span class="badge {e(q["status"])}">{e(q["status"])}</span>'
            f'{f"<ul class=small>{reasons}</ul>" if reasons else ""}</td><td>{e(q["question"])}</td><td>{answer}</td>'
            f"<td>{cites}</td><td>{answers}</td><td>{gold}</td><td class='num'>{rank_text}</td>"
            f"<td class='num'>{f1}</td><td class='num'>{q.get('latency_ms', 0):,.0f}</td></tr>")


def question_table(report: EvalReport) -> str:
    o = report.outcomes
    filters = (("all", f"all {len(report.questions)}"), ("error", f"errors {o.get('error', 0)}"),
               ("fail", f"failed {o.get('fail', 0)}"), ("pass", f"passed {o.get('pass', 0)}"))
    buttons = "".join(f'<button type="button" data-status="{s}"{" class=on" if s == "all" else ""}>{label}</button>'
                      for s, label in filters)
    controls = (f'<div class="controls">{buttons}<input id="search" type="search" placeholder="filter text" '
                f'aria-label="filter questions"><span id="shown" class="small"></span></div>')
    head = ("<tr><th>id</th><th>status</th><th>question</th><th>answer</th><th>citations (✓ evidence)</th>"
            "<th>gold answers</th><th>gold evidence</th>"
            "<th title='rank of the first gold paragraph among those retrieved'>rank</th><th>F1</th><th>ms</th></tr>")
    body = "".join(question_row(q) for q in ordered_questions(report.questions))
    return f"{controls}<table id='questions'><thead>{head}</thead><tbody>{body}</tbody></table>"


def render_html(report: EvalReport) -> str:
    s = report.suite
    licence = (f"<p class='small'>Suite licence: {e(s['licence'])}. {e(s.get('attribution', ''))}</p>"
               if s.get("licence") else "")
    usage = f"<p>{e(usage_line(report))}</p>" if usage_line(report) else ""
    warnings = ("<h2>Warnings</h2><ul>" + "".join(f"<li>{e(w)}</li>" for w in report.warnings) + "</ul>"
                if report.warnings else "")
    judge = ""
    if report.judge:
        j = report.judge
        estimated = j.get("estimate", {}).get("cost_usd")
        judge = (f"<h2>LLM judge</h2><p>Model {e(j.get('model'))}; {j.get('calls', 0)} requests, estimated "
                 f"{'an unknown cost' if estimated is None else f'${estimated:.4f}'} before running; "
                 f"{len(j.get('errors', []))} judge error(s).</p>")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Evaluation: {e(s['name'])}</title><style>{CSS}</style></head>
<body><main>
<h1>Evaluation: {e(s['name'])}</h1>
<p class="sub">{e(suite_line(report))} · {e(report.timing.get('started', ''))} · took
{report.timing.get('seconds', 0):.1f} s · fingerprint <code>{e(report.fingerprint)}</code></p>
{licence}{gate(report)}{headline(report)}
<p>Questions: {e(outcome_line(report))}.</p>{usage}
<h2>Metrics</h2>{metric_table(report)}
<h2>Distributions</h2>{charts(report)}
{comparison(report)}{judge}{warnings}
<h2>Every question (failures first)</h2>{question_table(report)}
<p class="small">Metrics: hit@k and MRR use the rank of the first gold evidence paragraph among the retrieved
paragraphs; a citation is right when its paragraph is gold evidence (precision), and an answer has recall when
it cites some gold evidence paragraph; answer match means a gold answer appears in the answer after SQuAD
normalisation. A question that raised an error scores 0 wherever it applies.</p>
</main><script>{SCRIPT}</script></body></html>
"""
