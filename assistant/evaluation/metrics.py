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
from collections.abc import Callable, Sequence
from dataclasses import dataclass

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


# --- the metrics, each defined once ------------------------------------------------------------------------
@dataclass(frozen=True)
class Outcome:
    """What one question's run produced, as the per-question metrics see it."""

    answerable: bool
    golds: Sequence[str]
    evidence: set[Key]
    retrieved: Sequence[Key]
    cited: Sequence[Key]
    answer: str
    declined: bool

    @property
    def rank(self) -> int | None:
        return first_hit_rank(self.retrieved, self.evidence)

    @property
    def has_evidence(self) -> bool:
        return self.answerable and bool(self.evidence)

    @property
    def cites(self) -> bool:
        """Citation metrics apply: an answerable question with evidence that was answered."""
        return self.has_evidence and not self.declined


@dataclass(frozen=True)
class Metric:
    """One metric: its name (as --min/--max, --compare and report.json use it), a label for people, its
    direction, and how it is computed: per question then averaged over the questions it applies to
    (`per_question` returns None where it does not apply), or over the whole suite at once (`over_suite`, from
    the runner's rows). Judged metrics have neither: the LLM judge fills them in. Everything that prints,
    gates or compares metrics reads this table, so a new metric is one entry here."""

    name: str
    label: str
    higher_is_better: bool = True
    per_question: Callable[[Outcome], float | None] | None = None
    over_suite: Callable[[Sequence[dict]], float | None] | None = None
    unit: str = ""  # "ms" for timings
    counted: Callable[[Sequence[dict]], int] | None = None  # the rows an over-suite metric reads (default: all)
    judged: bool = False
    headline: bool = False  # a card at the top of report.html

    @property
    def volatile(self) -> bool:
        """Left out of a report's fingerprint: timings and the judge's verdicts vary between identical runs."""
        return self.unit == "ms" or self.judged


def _declines(rows: Sequence[dict]) -> dict[str, float | None]:
    return decline_scores([bool(r["declined"]) for r in rows], [not r["answerable"] for r in rows])


def _latencies(rows: Sequence[dict]) -> list[float]:
    return [r["latency_ms"] for r in rows if r.get("latency_ms") is not None]


def _citation_precision(o: Outcome) -> float | None:
    return citation_precision(o.cited, o.evidence) if o.cites else None


ALL = [
    Metric("hit@1", "evidence ranked 1st", per_question=lambda o: float(o.rank == 1) if o.has_evidence else None),
    Metric("hit@5", "evidence in top 5", headline=True,
           per_question=lambda o: hit_at(o.retrieved, o.evidence, 5) if o.has_evidence else None),
    Metric("mrr", "mean reciprocal rank of evidence",
           per_question=lambda o: reciprocal_rank(o.retrieved, o.evidence) if o.has_evidence else None),
    Metric("citation_precision", "citations that are evidence", headline=True, per_question=_citation_precision),
    Metric("citation_recall", "answers citing some evidence", headline=True,
           per_question=lambda o: citation_recall(o.cited, o.evidence) if o.cites else None),
    Metric("answer_match", "answers containing a gold answer", headline=True,
           per_question=lambda o: float(answer_match("" if o.declined else o.answer, o.golds))
           if o.answerable and o.golds else None),
    Metric("answer_f1", "token F1 vs gold answer",
           per_question=lambda o: best_f1("" if o.declined else o.answer, o.golds) if o.answerable and o.golds else None),
    Metric("decline_precision", "declines that were right", over_suite=lambda rows: _declines(rows)["decline_precision"]),
    Metric("decline_recall", "unanswerable questions declined",
           over_suite=lambda rows: _declines(rows)["decline_recall"]),
    Metric("decline_f1", "decline F1", headline=True, over_suite=lambda rows: _declines(rows)["decline_f1"]),
    Metric("answerable_declined", "answerable questions declined", higher_is_better=False,
           over_suite=lambda rows: mean([float(bool(r["declined"])) for r in rows if r["answerable"]]),
           counted=lambda rows: sum(bool(r["answerable"]) for r in rows)),
    Metric("latency_p50_ms", "median time per question", higher_is_better=False, unit="ms", headline=True,
           over_suite=lambda rows: percentile(_latencies(rows), 50)),
    Metric("latency_p95_ms", "95th percentile time", higher_is_better=False, unit="ms",
           over_suite=lambda rows: percentile(_latencies(rows), 95)),
    Metric("judged_correctness", "judge: answer correct", judged=True),
    Metric("judged_faithfulness", "judge: answer supported by citations", judged=True),
]
REGISTRY: dict[str, Metric] = {m.name: m for m in ALL}
METRICS = tuple(m.name for m in ALL if not m.judged)  # what every run computes, in display order
JUDGED = tuple(m.name for m in ALL if m.judged)  # only with --judge
LOWER_IS_BETTER = frozenset(m.name for m in ALL if not m.higher_is_better)
PER_QUESTION = tuple(m.name for m in ALL if m.per_question)


def score_question(*, answerable: bool, golds: Sequence[str], evidence: set[Key], retrieved: Sequence[Key],
                   cited: Sequence[Key], answer: str, declined: bool, failed: bool = False) -> dict[str, float | None]:
    """The per-question metrics; None where a metric does not apply to this question (see the module doc).

    A question whose run failed scores 0 on every metric that applies to it and counts as not declined, so a
    crash lowers the averages instead of vanishing from them.
    """
    if failed:
        retrieved, cited, answer, declined = [], [], "", False
    outcome = Outcome(answerable, golds, evidence, retrieved, cited, answer, declined)
    scores = {m.name: m.per_question(outcome) for m in ALL if m.per_question}
    if failed and outcome.cites and scores["citation_precision"] is None:
        scores["citation_precision"] = 0.0
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
    for m in ALL:
        if m.per_question:
            values = [r["scores"][m.name] for r in rows if r["scores"].get(m.name) is not None]
            metrics[m.name], counts[m.name] = mean(values), len(values)
        elif m.over_suite:
            metrics[m.name] = m.over_suite(rows)
            counts[m.name] = (m.counted(rows) if m.counted else len(_latencies(rows)) if m.unit == "ms"
                              else len(rows))
    return metrics, counts
