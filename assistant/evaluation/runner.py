"""Run a suite: index its corpus in a folder of its own, ask every question, score the answers.

Why a separate index: an evaluation must never add a benchmark corpus to the user's own index (nor read the
user's documents as if they were the corpus). The folder is keyed by the corpus path and a hash of its files
and the embedding model, so a rerun on an unchanged corpus reuses it and a changed corpus gets a fresh one.

Why sequential and exception-tolerant: questions run one at a time in suite order (deterministic results,
honest latencies); a question that raises is recorded with its error and scored 0, never dropped.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from tqdm import tqdm

from assistant.evaluation.evidence import map_evidence
from assistant.evaluation.files import write_reports
from assistant.evaluation.gate import check_thresholds, compare, load_previous, parse_thresholds
from assistant.evaluation.metrics import score_question, summarize
from assistant.evaluation.report import EvalReport
from assistant.evaluation.suites import Key, Suite, load_suite
from assistant.types import Document
from assistant.ingest.readers import collect, files_under
from assistant.config.settings import Settings

ROUND = 6  # digits kept for scores: float noise in the last bits must not change a report


# --- the per-suite index ---------------------------------------------------------------------------------
def cache_root(settings: Settings) -> Path:
    """settings.eval_cache (ASSISTANT_EVAL_CACHE), else $XDG_CACHE_HOME/assistant/eval, else ~/.cache/assistant/eval."""
    if settings.eval_cache is not None:
        return settings.eval_cache.expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "assistant" / "eval"


def corpus_hash(corpus: Path) -> str:
    digest = hashlib.sha256()
    for path in files_under(corpus):
        digest.update(path.relative_to(corpus).as_posix().encode() if corpus.is_dir() else path.name.encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def eval_index_dir(corpus: Path, settings: Settings) -> Path:
    """The cache folder for this corpus (path + content + embedding model)."""
    corpus = corpus.resolve()
    where = hashlib.sha256(str(corpus).encode()).hexdigest()[:8]
    what = hashlib.sha256(f"{corpus_hash(corpus)}|{settings.embedding}".encode()).hexdigest()[:12]
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", corpus.name)[:40] or "corpus"
    return cache_root(settings) / f"{slug}-{where}-{what}"


def make_assistant(corpus: Path, index_dir: Path | None = None, mode: str | None = None,
                   settings: Settings | None = None):
    """An Assistant over `corpus` in its own index folder (never the configured one, never a Chroma server)."""
    from assistant.api import Assistant

    base = settings or Settings.load()
    folder = Path(index_dir).expanduser().resolve() if index_dir else eval_index_dir(corpus, base)
    if folder == Path(base.index_dir).expanduser().resolve():
        raise ValueError(f"{folder} is your main index: an evaluation needs its own folder (--index-dir)")
    update: dict[str, Any] = {"index_dir": folder, "corpus_dir": corpus, "chroma_host": None}
    if mode:
        update["answer_mode"] = mode
    return Assistant(settings=base.model_copy(update=update))


# --- one question ----------------------------------------------------------------------------------------
def _key(item: Any) -> Key:
    return (item.doc_id, int(item.paragraph))


def run_case(assistant, case, evidence: list[Key], paragraphs: Mapping[Key, str]) -> dict[str, Any]:
    """Ask one question and build its report row (never raises for a failing question)."""
    started = time.perf_counter()
    answer, error = None, None
    try:
        answer = assistant.ask(case.question, history=case.history or None)
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
    latency_ms = (time.perf_counter() - started) * 1000
    gold = set(evidence)
    retrieved = [_key(c) for c in answer.contexts] if answer else []
    cited = [_key(c) for c in answer.citations] if answer else []
    declined = bool(answer and answer.refused)
    scores = score_question(answerable=case.answerable, golds=case.answers, evidence=gold, retrieved=retrieved,
                            cited=cited, answer=answer.text if answer else "", declined=declined,
                            failed=answer is None)
    row: dict[str, Any] = {
        "id": case.id, "line": case.line, "question": case.question, "answerable": case.answerable,
        **({"history": [t["content"] for t in case.history if t["role"] == "user"]} if case.history else {}),
        "gold_answers": case.answers,
        "evidence": [{"doc_id": d, "paragraph": n, "text": paragraphs.get((d, n), "")} for d, n in evidence],
        "answer": answer.text if answer else "", "declined": declined, "mode": answer.mode if answer else None,
        "citations": [{"marker": c.marker, "doc_id": c.doc_id, "paragraph": c.paragraph, "quote": c.quote,
                       "verified": c.verified, "evidence": _key(c) in gold}
                      for c in (answer.citations if answer else [])],
        "retrieved": [{"doc_id": c.doc_id, "paragraph": c.paragraph, "score": round(float(c.score), ROUND),
                       "evidence": _key(c) in gold} for c in (answer.contexts if answer else [])],
        "scores": {k: (round(v, ROUND) if v is not None else None) for k, v in scores.items()},
        "notes": list(answer.notes) if answer else [], "error": error,
        "confidence": answer.confidence if answer else None, "support": answer.support if answer else None,
        "latency_ms": round(latency_ms, 1), "usage": dict(answer.usage) if answer else {},
    }
    row["status"], row["reasons"] = judge_outcome(row)
    return row


def judge_outcome(row: dict[str, Any]) -> tuple[str, list[str]]:
    """pass / fail / error, and in words why a question did not pass."""
    if row["error"]:
        return "error", [row["error"]]
    s, reasons = row["scores"], []
    if not row["answerable"]:
        return ("pass", []) if row["declined"] else ("fail", ["answered a question the documents do not answer"])
    if row["declined"]:
        reasons.append("declined a question the documents answer")
    else:
        if s["answer_match"] == 0.0:
            reasons.append("the answer contains no gold answer")
        if s["citation_recall"] == 0.0:
            reasons.append("no evidence paragraph cited")
    if s["hit@5"] == 0.0:
        reasons.append("evidence not retrieved in the top 5")
    failed = row["declined"] or s["answer_match"] == 0.0 or s["citation_recall"] == 0.0
    return ("fail" if failed else "pass"), reasons


# --- a whole suite ---------------------------------------------------------------------------------------
def run_suite(suite: Suite | str | Path, corpus: str | Path | None = None, *, mode: str | None = None,
              index_dir: str | Path | None = None, settings: Settings | None = None, progress: bool = False,
              limit: int | None = None, assistant=None) -> EvalReport:
    """Index the suite's corpus (or reuse its index), answer every question and score it. No gate, no judge."""
    started, clock = datetime.now(timezone.utc), time.perf_counter()
    if not isinstance(suite, Suite):
        suite = load_suite(suite)
    corpus_path = suite.corpus_path(corpus)
    documents = [d for d in collect([corpus_path]) if isinstance(d, Document)]
    evidence = map_evidence(suite, documents, corpus_path)  # SuiteError before any indexing work
    paragraphs = {(p.doc_id, p.number): p.text for d in documents for p in d.paragraphs}
    if assistant is None:
        assistant = make_assistant(corpus_path, index_dir, mode, settings)
    ingest = assistant.ingest([corpus_path], progress=progress)
    warnings = [f"not indexed: {s['path']} ({s['reason']})" for s in ingest.skipped]
    warnings += [f"not indexed: {d['doc_id']} has the same text as {d['same_as']}" for d in ingest.duplicates]
    index_seconds = time.perf_counter() - clock
    cases = suite.cases[:limit] if limit else suite.cases
    rows = []
    bar = tqdm(cases, desc=f"eval {suite.name}", unit="q", disable=not progress, file=sys.stderr, leave=False)
    for case in bar:
        rows.append(run_case(assistant, case, evidence[case.id], paragraphs))
    metrics, counts = summarize(rows)
    cfg = assistant.settings
    modes = sorted({r["mode"] for r in rows if r["mode"]})
    if cfg.answer_mode == "llm" and modes == ["offline"]:
        warnings.append("llm mode was asked for, but every answer came from the offline answerer (see notes)")
    return EvalReport(
        suite={"name": suite.name, "path": str(suite.path), "corpus": str(corpus_path), "questions": len(rows),
               "answerable": sum(r["answerable"] for r in rows), "unanswerable": sum(not r["answerable"] for r in rows),
               **suite.info},
        config={"mode": cfg.answer_mode, "answer_modes": modes, "top_k": cfg.top_k, "embedding": cfg.embedding,
                "decline_threshold": cfg.decline_threshold, "llm_model": cfg.llm_model if cfg.answer_mode == "llm"
                else None, "index_dir": str(cfg.index_dir), "limit": limit},
        metrics={k: (round(v, ROUND) if v is not None and k not in ("latency_p50_ms", "latency_p95_ms") else v)
                 for k, v in metrics.items()},
        counts=counts, questions=rows,
        outcomes={s: sum(r["status"] == s for r in rows) for s in ("pass", "fail", "error")},
        usage=total_usage(rows),
        timing={"started": started.isoformat(timespec="seconds"), "seconds": round(time.perf_counter() - clock, 2),
                "index_seconds": round(index_seconds, 2), "indexed_paragraphs": ingest.paragraphs},
        warnings=warnings,
    )


def total_usage(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Tokens and cost summed over questions; cost is None unless some answer reported one."""
    prompt = sum(int(r["usage"].get("prompt_tokens") or 0) for r in rows)
    completion = sum(int(r["usage"].get("completion_tokens") or 0) for r in rows)
    costs = [r["usage"].get("cost_usd") for r in rows if r["usage"].get("cost_usd") is not None]
    return {"prompt_tokens": prompt, "completion_tokens": completion,
            "cost_usd": round(sum(costs), 6) if costs else None, "questions_with_cost": len(costs)}


def apply_gate(report: EvalReport, minimum: Sequence[str] | Mapping[str, float] = (),
               maximum: Sequence[str] | Mapping[str, float] = (),
               previous: str | Path | Mapping[str, Any] | None = None) -> EvalReport:
    """Fill in thresholds (and their verdicts) and the comparison with an earlier report."""
    report.thresholds = check_thresholds(parse_thresholds(minimum, maximum), report.metrics)
    if previous is not None:
        old = load_previous(previous) if isinstance(previous, (str, Path)) else previous
        report.comparison = compare(report.metrics, report.questions, old)
        before = report.comparison.get("previous_suite")
        if before and before != report.suite["name"]:
            report.warnings.append(f"--compare: the previous report is of suite '{before}', not "
                                   f"'{report.suite['name']}': the changes compare different questions")
    return report


def evaluate(suite: Suite | str | Path, corpus: str | Path | None = None, *, mode: str | None = None,
             out: str | Path | None = None, minimum: Sequence[str] | Mapping[str, float] = (),
             maximum: Sequence[str] | Mapping[str, float] = (), compare_with: str | Path | None = None,
             index_dir: str | Path | None = None, settings: Settings | None = None, progress: bool = False,
             limit: int | None = None, judge: Callable[[EvalReport], None] | None = None) -> EvalReport:
    """The Python equivalent of `assistant eval`: run, optionally judge, gate, and write reports to `out`.

    >>> report = evaluate("benchmarks/suites/seed_article.qa.jsonl", minimum={"hit@5": 0.8})
    >>> report.metrics["answer_match"], report.passed
    """
    parse_thresholds(minimum, maximum)  # bad thresholds fail before the run, not after it
    previous = load_previous(compare_with) if compare_with else None
    report = run_suite(suite, corpus, mode=mode, index_dir=index_dir, settings=settings, progress=progress,
                       limit=limit)
    if judge is not None:
        judge(report)
    apply_gate(report, minimum, maximum, previous)
    if out is not None:
        write_reports(report, out)
    return report
