"""Evaluation: suites of questions with gold answers and evidence, metrics, and reports."""
