"""Metric functions on plain values, one question at a time; the runner averages them.

Paragraphs are identified by (doc_id, paragraph number) keys. Conventions:
- hit@k / MRR: rank of the first evidence paragraph among the retrieved contexts.
- citation precision (ALCE-style): share of cited paragraphs that are evidence; recall: 1 if any evidence
  paragraph is cited, else 0. Both are None for a declined answer or an unanswerable question.
- answer match: some gold answer is contained in the answer after SQuAD normalisation; answer F1: the best
  SQuAD token F1 against any gold answer.
- decline precision/recall/F1 are computed over a whole suite (the positive class is "declined");
  answerable_declined is the share of answerable questions declined (lower is better: a gate with
  `--max answerable_declined=0` proves no answerable question was turned away).
- latency percentiles are nearest-rank: p95 of 20 values is the 19th smallest.
"""

from __future__ import annotations

import math
import re
import string
from collections import Counter
from collections.abc import Sequence

Key = tuple[str, int]

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCT = set(string.punctuation) | {"’", "‘", "“", "”", "—", "–"}


def normalize_answer(text: str) -> str:
    """SQuAD normalisation: lower case, no punctuation, no articles, single spaces."""
    text = "".join(ch for ch in text.lower() if ch not in _PUNCT)
    return " ".join(_ARTICLES.sub(" ", text).split())


def answer_match(prediction: str, golds: Sequence[str]) -> bool:
    normalized = f" {normalize_answer(prediction)} "
    return any(f" {normalize_answer(g)} " in normalized for g in golds if normalize_answer(g))


def token_f1(prediction: str, gold: str) -> float:
    pred, ref = normalize_answer(prediction).split(), normalize_answer(gold).split()
    common = sum((Counter(pred) & Counter(ref)).values())
    if not pred or not ref or common == 0:
        return float(pred == ref)
    precision, recall = common / len(pred), common / len(ref)
    return 2 * precision * recall / (precision + recall)


def best_f1(prediction: str, golds: Sequence[str]) -> float:
    return max((token_f1(prediction, g) for g in golds), default=0.0)


def first_hit_rank(retrieved: Sequence[Key], evidence: set[Key]) -> int | None:
    """1-based rank of the first evidence paragraph, or None."""
    for rank, key in enumerate(retrieved, start=1):
        if key in evidence:
            return rank
    return None


def hit_at(retrieved: Sequence[Key], evidence: set[Key], k: int) -> float:
    rank = first_hit_rank(retrieved, evidence)
    return float(rank is not None and rank <= k)


def reciprocal_rank(retrieved: Sequence[Key], evidence: set[Key]) -> float:
    rank = first_hit_rank(retrieved, evidence)
    return 1.0 / rank if rank else 0.0


def citation_precision(cited: Sequence[Key], evidence: set[Key]) -> float | None:
    unique = list(dict.fromkeys(cited))
    return sum(k in evidence for k in unique) / len(unique) if unique else None


def citation_recall(cited: Sequence[Key], evidence: set[Key]) -> float:
    return float(any(k in evidence for k in cited))


def decline_scores(declined: Sequence[bool], unanswerable: Sequence[bool]) -> dict[str, float | None]:
    """Precision, recall and F1 of declining, where the positives are the unanswerable questions."""
    tp = sum(d and u for d, u in zip(declined, unanswerable, strict=True))
    n_declined, n_unanswerable = sum(declined), sum(unanswerable)
    precision = tp / n_declined if n_declined else None
    recall = tp / n_unanswerable if n_unanswerable else None
    # F1 = 2TP / (2TP + FP + FN): defined whenever anything was declined or should have been, so a system that
    # never declines scores 0 (not "undefined") on a suite with unanswerable questions.
    denominator = n_declined + n_unanswerable
    f1 = 2 * tp / denominator if denominator else None
    return {"decline_precision": precision, "decline_recall": recall, "decline_f1": f1}


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = math.ceil(q * len(ordered) / 100)  # the smallest value with at least q % of values at or below it
    return ordered[max(0, min(len(ordered), rank) - 1)]


# --- one question, then a whole suite ---------------------------------------------------------------------
# Metric names as --min, --compare and report.json use them, in display order.
RETRIEVAL = ("hit@1", "hit@5", "mrr")
PER_QUESTION = (*RETRIEVAL, "citation_precision", "citation_recall", "answer_match", "answer_f1")
DECLINE = ("decline_precision", "decline_recall", "decline_f1", "answerable_declined")
LATENCY = ("latency_p50_ms", "latency_p95_ms")
METRICS = (*PER_QUESTION, *DECLINE, *LATENCY)
LOWER_IS_BETTER = frozenset((*LATENCY, "answerable_declined"))


def score_question(*, answerable: bool, golds: Sequence[str], evidence: set[Key], retrieved: Sequence[Key],
                   cited: Sequence[Key], answer: str, declined: bool, failed: bool = False) -> dict[str, float | None]:
    """The per-question metrics; None where a metric does not apply to this question (see the module doc).

    A question whose run failed scores 0 on every metric that applies to it and counts as not declined, so a
    crash lowers the averages instead of vanishing from them.
    """
    if failed:
        retrieved, cited, answer, declined = [], [], "", False
    scores: dict[str, float | None] = dict.fromkeys(PER_QUESTION)
    if answerable and evidence:
        rank = first_hit_rank(retrieved, evidence)
        scores["hit@1"] = float(rank == 1)
        scores["hit@5"] = float(rank is not None and rank <= 5)
        scores["mrr"] = 1.0 / rank if rank else 0.0
        if not declined:
            precision = citation_precision(cited, evidence)
            scores["citation_precision"] = 0.0 if precision is None and failed else precision
            scores["citation_recall"] = citation_recall(cited, evidence)
    if answerable and golds:
        text = "" if declined else answer
        scores["answer_match"] = float(answer_match(text, golds))
        scores["answer_f1"] = best_f1(text, golds)
    return scores


def mean(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


def summarize(rows: Sequence[dict]) -> tuple[dict[str, float | None], dict[str, int]]:
    """Suite metrics and how many questions each is computed over, from per-question rows.

    Each row has "scores" (from score_question), "declined", "answerable" and "latency_ms". A metric that no
    question supports is None (JSON null), never NaN, and its count of 0 says why.
    """
    metrics: dict[str, float | None] = {}
    counts: dict[str, int] = {}
    for name in PER_QUESTION:
        values = [r["scores"][name] for r in rows if r["scores"].get(name) is not None]
        metrics[name], counts[name] = mean(values), len(values)
    declines = decline_scores([bool(r["declined"]) for r in rows], [not r["answerable"] for r in rows])
    metrics.update(declines)
    metrics["answerable_declined"] = mean([float(bool(r["declined"])) for r in rows if r["answerable"]])
    for name in DECLINE:
        counts[name] = len(rows)
    counts["answerable_declined"] = sum(bool(r["answerable"]) for r in rows)
    latencies = [r["latency_ms"] for r in rows if r.get("latency_ms") is not None]
    metrics["latency_p50_ms"] = percentile(latencies, 50)
    metrics["latency_p95_ms"] = percentile(latencies, 95)
    counts["latency_p50_ms"] = counts["latency_p95_ms"] = len(latencies)
    return metrics, counts
