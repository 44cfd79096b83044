"""The decline model of the offline answerer ("do the documents answer this question?"), fitted by
training/tune_answerer.py: how the kinds of example weigh, the cross-validated logistic model with its calibration
and threshold, the operating points and reliability table it reports, which necessary checks keep their veto, and
the reader margin LLM mode calls "no answer". The examples and their features come from tune_answerer's simulation
of the answerer (`answerability_data.py` makes the examples)."""

from __future__ import annotations

import numpy as np

from training import answerability_data as data
from training.fitting import auc, logistic_model, platt, sigmoid, z_of

# relative weight of a group of negatives (default 1): off-corpus questions asked of news articles count three times
# (with equal weights only 66 % of them were declined, cross-validated; 85 % with this, near-topic 43.7 -> 40.8 %)
GROUP_WEIGHT = {"off_corpus:news_dev": 3.0}


def weight_groups(examples) -> np.ndarray:
    """The groups that share the weight: the kinds, off-corpus split by the corpus asked (news articles are far
    harder to tell from an answer than Wikipedia articles on other subjects, and would otherwise count for half
    as much as the other kinds of negative)."""
    return np.array([f"{e.kind}:{e.corpus}" if e.kind == "off_corpus" else e.kind for e in examples])


def kind_mask(groups: np.ndarray, kind: str) -> np.ndarray:
    """The examples of one kind, whatever group they weigh in (the functions below take the groups of
    `weight_groups`, which `sample_weights` needs, and find the kinds through this)."""
    return np.char.startswith(groups.astype(str), kind)


def sample_weights(groups: np.ndarray) -> np.ndarray:
    """Answerable examples weigh as much as all the negatives, shared among the groups by `GROUP_WEIGHT`."""
    w = np.zeros(len(groups))
    w[groups == "answerable"] = 0.5 / max((groups == "answerable").sum(), 1)
    negatives = sorted(set(groups) - {"answerable"})
    total = sum(GROUP_WEIGHT.get(g, 1.0) for g in negatives)
    for group in negatives:
        w[groups == group] = 0.5 * GROUP_WEIGHT.get(group, 1.0) / total / max((groups == group).sum(), 1)
    return w


def operating_points(conf: np.ndarray, y: np.ndarray, groups: np.ndarray, shares=(0.01, 0.02, 0.03, 0.05, 0.08,
                                                                                   0.1)) -> dict:
    """Declines per kind at thresholds that decline given shares of the answerable examples (a confidence
    capped by a failed check sits below every threshold that matters: pass it lowered, e.g. -1)."""
    out = {}
    for share in shares:
        cut = float(np.quantile(conf[y == 1], share))
        out[f"{share:.2f}"] = {"threshold": round(cut, 4), **{
            f"{kind}_declined": round(float((conf[kind_mask(groups, kind)] < cut).mean()), 4)
            for kind in data.KINDS[1:]}}
    return out


def reliability(conf: np.ndarray, y: np.ndarray, weight: np.ndarray) -> list[dict]:
    table = []
    for lo in np.arange(0, 1, 0.1):
        inside = (conf >= lo) & (conf < lo + 0.1 + (1e-9 if lo >= 0.9 else 0))
        if inside.any():
            table.append({"bin": f"{lo:.1f}-{lo + 0.1:.1f}", "examples": int(inside.sum()),
                          "mean_confidence": round(float(np.average(conf[inside], weights=weight[inside])), 3),
                          "answerable_share (weighted)": round(float(np.average(y[inside], weights=weight[inside])), 3)})
    return table


def check_confidence(failed: np.ndarray, y: np.ndarray, groups: np.ndarray) -> float:
    """The share of the examples failing a necessary check that the documents answer (prior 50/50, as the
    calibration): what the confidence is capped at when a check fails."""
    weight = sample_weights(groups)
    return float(np.average(y[failed], weights=weight[failed])) if failed.any() else 0.0


def decline_threshold(conf: np.ndarray, failed: np.ndarray, target: float) -> float:
    """The confidence below which, together with the questions failing a necessary check (always declined),
    `target` of these answerable questions are declined."""
    rest = np.sort(conf[~failed])
    budget = int(round(target * len(conf))) - int(failed.sum())
    return float(rest[budget]) if 0 <= budget < len(rest) else (float(rest[0]) if budget < 0 else 1.0)


def fit_answerability(x, y, groups, articles, names, l2, target, failed, cap) -> tuple[dict, np.ndarray, dict]:
    """The decline model, cross-validated by article: (model with calibration and thresholds, CV confidence
    with the failed checks' cap applied, report). The decline threshold declines, with the failed checks,
    `target` of the answerable examples (cross-validated)."""
    weight = sample_weights(groups)
    cv_z = np.zeros(len(y))
    for article in sorted(set(articles)):
        fold = articles == article
        model = logistic_model(x[~fold], y[~fold], sample_weights(groups[~fold]), names, l2)
        cv_z[fold] = z_of(model, x[fold], names)
    scale, shift = platt(cv_z, y, weight)
    cv_conf = sigmoid(scale * cv_z + shift)
    model = logistic_model(x, y, weight, names, l2)
    model["calibration"] = [scale, shift]
    decline = decline_threshold(cv_conf[y == 1], failed[y == 1], target)
    model["decline_threshold"] = round(decline, 4)
    model["confident_threshold"] = round(max(0.5, decline), 4)
    cv_conf = np.where(failed, np.minimum(cv_conf, cap), cv_conf)  # what the user is shown
    report = {"auc": round(auc(cv_conf, y), 4), **{
        f"auc answerable vs {kind}": round(auc(cv_conf[kind_mask(groups, kind) | (y == 1)], y[kind_mask(groups, kind) | (y == 1)]), 4)
        for kind in data.KINDS[1:]}, "operating_points (share of answerable declined)":
        operating_points(np.where(failed, -1.0, cv_conf), y, groups), "reliability": reliability(cv_conf, y, weight)}
    return model, cv_conf, report


CHECK_SETS = [[], ["count"], ["money"], ["date"], ["count", "date"], ["count", "money", "date"]]
CHECK_OVERRIDES = [float("inf"), 0.0, 2.0, 4.0, 6.0]


def negatives_declined(conf: np.ndarray, y: np.ndarray, groups: np.ndarray, threshold: float) -> float:
    """The mean share declined over the kinds of negative (each kind counts alike)."""
    return float(np.mean([(conf[kind_mask(groups, kind)] < threshold).mean() for kind in data.KINDS[1:]]))


def still_failed(failed: list[str], kept: list[str], margin: float, override: float, span: str | None) -> bool:
    """As the answerer decides (`extractive.estimate`): a kept check failed and the reader did not lift it."""
    from assistant.answering.extractive.answerer import reader_lifts

    failing = [f for f in failed if f in kept]
    return bool(failing) and not reader_lifts(failing, margin, span, override)


def check_candidates(x, y, groups, articles, names, l2, target, failed_lists, margins, span_texts) -> list[dict]:
    """Every combination of necessary checks with every reader margin above which they give up their veto: the
    shares declined (cross-validated) with `target` of the answerable questions declined (`choose_checks` picks)."""
    table = []
    for kept in CHECK_SETS:
        for override in CHECK_OVERRIDES:
            failed = np.array([still_failed(fl, kept, m, override, span)
                               for fl, m, span in zip(failed_lists, margins, span_texts)])
            cap = check_confidence(failed, y, groups)
            model, cv_conf, _report = fit_answerability(x, y, groups, articles, names, l2, target, failed, cap)
            threshold, shown = model["decline_threshold"], np.where(failed, -1.0, cv_conf)
            declined = shown < threshold
            table.append({"checks": kept, "override": override, "cap": round(cap, 4),
                          "answerable_declined": round(float(declined[y == 1].mean()), 4),
                          "negatives_declined": round(negatives_declined(shown, y, groups, threshold), 4),
                          **{f"{k}_declined": round(float(declined[kind_mask(groups, k)].mean()), 4) for k in data.KINDS[1:]}})
    return table


def choose_checks(table: list[dict], keep: tuple[str, ...] = ()) -> dict:
    """Which necessary checks keep their power to decline, and above which reader margin they give it up: the
    candidate (`check_candidates`) that declines the most negatives (mean over kinds); a check survives only when
    it adds declines over fewer checks (ties go to fewer checks). `keep`: checks kept whatever this says
    (`--keep-checks`); the choice is then made among the combinations holding them, and main() reports what it
    costs against the free choice."""
    allowed = [r for r in table if set(keep) <= set(r["checks"])]
    best = max(allowed, key=lambda r: r["negatives_declined"])
    return min((r for r in allowed if r["negatives_declined"] >= best["negatives_declined"]),
               key=lambda r: (len(r["checks"]), -r["override"]))


def reader_no_answer(rows, examples, share: float = 0.03) -> float:
    """The reader margin below which `share` of answerable train questions' gold paragraphs fall: under it, the
    reader finds no answer in a paragraph (LLM mode labels an answer citing only such paragraphs weak)."""
    margins = []
    for e, row in zip(examples, rows):
        gold = [r.margin for r in row["readings"]
                if (e.contexts[r.passage].doc_id, e.contexts[r.passage].paragraph) in e.gold]
        if e.kind == "answerable" and gold:
            margins.append(max(gold))
    return round(float(np.quantile(margins, share)), 4) if margins else 0.0

