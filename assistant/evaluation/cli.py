"""`assistant eval SUITE`: run a suite of questions, print the summary, write the reports, apply the gate.

Exit codes (as the rest of the CLI, plus one for the gate): 0 done and every threshold met; 1 an operational
error (locked index, unreachable LLM server); 2 bad input (suite file, corpus, threshold or --compare file);
3 the run finished but a --min/--max threshold was not met (the summary says which).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from assistant.evaluation.metrics import JUDGED, METRICS

GATE_FAILED = 3
BAD_INPUT = 2

EPILOG = f"""metrics: {" ".join(METRICS)} (and {" ".join(JUDGED)} with --judge)

examples:
  assistant eval benchmarks/suites/squad2_subset.qa.jsonl
  assistant eval my_suite.yaml --corpus docs/ --min answer_match=0.7 hit@5=0.9 --max latency_p95_ms=2000
  assistant eval suite.jsonl --out runs/new --compare runs/old/report.json

exit codes: 0 ok, 1 operational error, 2 bad input, 3 a threshold not met"""


def add_parsers(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser("eval", help="evaluate answers, citations and declines on a suite of questions",
                              description="Ask every question of a suite, score answers, citations and declines "
                                          "against the gold ones, write report.json/.md/.html and apply thresholds.",
                              epilog=EPILOG,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("suite", help="suite file: .jsonl (datasets' qa format), .csv or .yaml")
    p.add_argument("--corpus", help="documents to answer from (default: the corpus the suite names)")
    p.add_argument("--mode", choices=["offline", "llm"], help="answer mode (default: your configured one)")
    p.add_argument("--out", help="folder for report.json, report.md and report.html "
                                 "(default: reports/eval/<suite name>)")
    p.add_argument("--min", dest="minimum", nargs="+", action="extend", default=[], metavar="METRIC=VALUE",
                   help="fail (exit 3) when a metric is below VALUE, e.g. --min hit@5=0.8 answer_match=0.6")
    p.add_argument("--max", dest="maximum", nargs="+", action="extend", default=[], metavar="METRIC=VALUE",
                   help="fail (exit 3) when a lower-is-better metric is above VALUE, e.g. --max latency_p95_ms=1500")
    p.add_argument("--compare", metavar="PREVIOUS.json", help="show each metric's change against an earlier report")
    p.add_argument("--index-dir", help="index folder for the suite's corpus (default: a cache folder keyed by "
                                       "the corpus; never your main index)")
    p.add_argument("--limit", type=int, help="only the first N questions (a quick check)")
    p.add_argument("--judge", action="store_true", help="add LLM-judged correctness and faithfulness (costs money: "
                                                        "the estimate is shown first)")
    p.add_argument("--yes", action="store_true", help="run the judge without asking to confirm its cost")
    p.add_argument("--json", action="store_true", help="print report.json to stdout instead of the table")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_eval)
    return p


def _confirm_judge(report, settings, assume_yes: bool) -> None:
    """Plan the judge, show its cost, and run it only when confirmed."""
    from assistant.evaluation.judge import client_complete, describe_estimate, estimate, plan, run_judge
    from assistant.answering.generative.prompts import load_prompts

    calls, known = plan(report, load_prompts(settings.prompts_dir))
    est = estimate(calls, settings)
    print(describe_estimate(est), file=sys.stderr)
    if not assume_yes:
        if not sys.stdin.isatty():
            report.warnings.append("LLM judge not run: pass --yes to accept its estimated cost")
            print("judge skipped: pass --yes to run it without a prompt", file=sys.stderr)
            return
        if input("Run the judge? [y/N] ").strip().lower() not in ("y", "yes"):
            report.warnings.append("LLM judge not run: declined at the cost prompt")
            return
    run_judge(report, calls, known, client_complete(settings), est, settings)


def cmd_eval(args) -> int:
    from assistant.errors import AssistantError
    from assistant.evaluation.files import write_reports
    from assistant.evaluation.gate import ThresholdError, load_previous, parse_thresholds
    from assistant.evaluation.report import render_console
    from assistant.evaluation.runner import apply_gate, run_suite
    from assistant.evaluation.suites import SuiteError, load_suite
    from assistant.config.settings import Settings

    try:
        parse_thresholds(args.minimum, args.maximum)
        previous = load_previous(args.compare) if args.compare else None  # read before `out` may overwrite it
        suite = load_suite(args.suite)
        if args.limit is not None and args.limit < 1:
            raise ValueError("--limit must be 1 or more")
        settings = Settings.load()
        if args.mode:
            settings = settings.model_copy(update={"answer_mode": args.mode})
        if args.judge and not (settings.openai_api_key or settings.openai_base_url):
            raise ValueError("--judge needs an LLM: set OPENAI_API_KEY, or OPENAI_BASE_URL for a local server")
        report = run_suite(suite, args.corpus, index_dir=args.index_dir, settings=settings,
                           progress=not args.quiet and sys.stderr.isatty(), limit=args.limit)
    except (SuiteError, ThresholdError, ValueError) as exc:
        if isinstance(exc, AssistantError):  # e.g. QuestionError is also a ValueError: let main() decide
            raise
        print(f"error: {exc}", file=sys.stderr)
        return BAD_INPUT
    if args.judge:
        _confirm_judge(report, settings, args.yes)
    apply_gate(report, args.minimum, args.maximum, previous)
    out = Path(args.out) if args.out else Path("reports") / "eval" / suite.name
    paths = write_reports(report, out)
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=1))
    else:
        print(render_console(report))
        print(f"reports: {paths['json']}  {paths['md']}  {paths['html']}")
    if not report.passed:
        names = ", ".join(f"{t['metric']} {t['op']} {t['target']:g}" for t in report.failed_thresholds)
        print(f"FAILED: threshold(s) not met: {names}", file=sys.stderr)
        return GATE_FAILED
    return 0
