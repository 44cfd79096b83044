"""Metric functions on plain values, one question at a time; the runner averages them.

Paragraphs are identified by (doc_id, paragraph number) keys. Conventions:
- hit@k / MRR: rank of the first evidence paragraph among the retrieved contexts.
- citation precision (ALCE-style): share of cited paragraphs that are evidence; recall: 1 if any evidence
  paragraph is cited, else 0. Both are None for a declined answer or an unanswerable question.
- answer match: some gold answer is contained in the answer after SQuAD normalisation; answer F1: the best
  SQuAD token F1 against any gold answer.
- decline precision/recall/F1 are computed over a whole suite (the positive class is "declined").
"""

from __future__ import annotations

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
    tp = sum(d and u for d, u in zip(declined, unanswerable))
    n_declined, n_unanswerable = sum(declined), sum(unanswerable)
    precision = tp / n_declined if n_declined else None
    recall = tp / n_unanswerable if n_unanswerable else None
    f1 = (2 * precision * recall / (precision + recall)) if precision and recall else (
        0.0 if precision is not None and recall is not None else None)
    return {"decline_precision": precision, "decline_recall": recall, "decline_f1": f1}


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, int(round(q / 100 * len(ordered) + 0.5)) - 1))
    return ordered[index]
