"""Evaluation: suites of questions with gold answers and evidence, metrics, and reports.

    from assistant.evaluation import evaluate
    report = evaluate("benchmarks/suites/squad2_subset.qa.jsonl", out="reports/eval/squad", minimum={"hit@5": 0.8})
    report.metrics["answer_match"], report.passed

The CLI equivalent is `assistant eval SUITE` (assistant/evaluation/cli.py).
"""

from assistant.evaluation.files import write_reports
from assistant.evaluation.report import EvalReport
from assistant.evaluation.runner import apply_gate, evaluate, run_suite
from assistant.evaluation.suites import Suite, SuiteError, load_suite

__all__ = ["EvalReport", "Suite", "SuiteError", "apply_gate", "evaluate", "load_suite", "run_suite", "write_reports"]
