"""training/decline_model.py and fitting.py: the decline model's fit keeps the promises answerability.md makes.

The threshold declines the stated share of answerable questions, the confidence is calibrated, and a necessary
check keeps its veto only when it declines more negatives (ties go to fewer checks). Synthetic data with a known
answer, so a broken fit fails here in a second, not after a 10-minute refit.
"""

from __future__ import annotations

import numpy as np

from training import decline_model as dm
from training.fitting import auc, logistic_model, platt, sigmoid, z_of


def synthetic(n: int = 4000, seed: int = 3):
    """One informative feature (shifted by the label), one pure noise, labels half and half, the negatives of three
    kinds; four 'articles'."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.5).astype(float)
    x = np.column_stack([rng.normal(size=n) + 2.0 * y, rng.normal(size=n) * 5.0])
    groups = np.where(y == 1, "answerable", rng.choice(["near_topic", "off_corpus", "adversarial"], size=n))
    articles = np.array([f"a{i % 4}" for i in range(n)])
    return x, y, groups, articles


def test_logistic_fit_finds_the_informative_feature_and_ignores_noise():
    x, y, groups, _ = synthetic()
    model = logistic_model(x, y, dm.sample_weights(groups), ["signal", "noise"], l2=1.0)
    assert model["weights"]["signal"] > 1.5
    assert abs(model["weights"]["noise"]) < 0.05
    assert auc(z_of(model, x, ["signal", "noise"]), y) > 0.9


def test_platt_scaling_makes_the_confidence_a_probability():
    x, y, groups, _ = synthetic()
    weight = dm.sample_weights(groups)
    z = 3.0 * x[:, 0]  # over-confident scores
    scale, shift = platt(z, y, weight)
    conf = sigmoid(scale * z + shift)
    for lo in (0.1, 0.3, 0.5, 0.7):
        inside = (conf >= lo) & (conf < lo + 0.2)
        assert abs(np.average(y[inside], weights=weight[inside]) - conf[inside].mean()) < 0.06


def test_the_threshold_declines_the_target_share_of_answerable_questions():
    x, y, groups, articles = synthetic()
    failed = np.zeros(len(y), dtype=bool)
    model, cv_conf, report = dm.fit_answerability(x, y, groups, articles, ["signal", "noise"], 1.0, 0.05, failed, 0.1)
    declined = cv_conf < model["decline_threshold"]
    assert abs(declined[y == 1].mean() - 0.05) < 0.005
    assert 0.3 < declined[y == 0].mean() < 0.9
    assert report["auc"] > 0.9


def test_questions_failing_a_check_count_against_the_budget():
    conf = np.linspace(0.0, 1.0, 101)
    failed = np.zeros(101, dtype=bool)
    failed[50:53] = True  # three always declined, whatever their confidence
    threshold = dm.decline_threshold(conf, failed, 0.05)
    assert ((conf < threshold) | failed).sum() == 5


def test_a_check_that_adds_nothing_loses_its_veto_unless_kept():
    table = [{"checks": [], "override": float("inf"), "negatives_declined": 0.50},
             {"checks": ["money"], "override": float("inf"), "negatives_declined": 0.50},
             {"checks": ["count"], "override": 4.0, "negatives_declined": 0.49},
             {"checks": ["count", "money"], "override": 4.0, "negatives_declined": 0.495}]
    assert dm.choose_checks(table)["checks"] == []
    kept = dm.choose_checks(table, keep=("count",))
    assert kept["checks"] == ["count", "money"]

