"""The small models the offline answerer's fitting uses (training/tune_answerer.py), in numpy: a listwise softmax
ranker, L2-regularised logistic regression by Newton's method, Platt scaling and the AUC. Every fit standardises its
features and returns weights on the raw ones, so the answerer applies them without the training statistics."""

from __future__ import annotations

import numpy as np


def standardize(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean, std = x.mean(axis=0), x.std(axis=0)
    return mean, np.where(std > 1e-9, std, 1.0)


def fit_listwise(groups: list[tuple[np.ndarray, np.ndarray]], l2: float = 1e-3, steps: int = 600) -> np.ndarray:
    """Weights w (on standardised features) maximising sum log P(positive sentences) under softmax(Xw)."""
    d = groups[0][0].shape[1]
    w = np.zeros(d)
    m, v = np.zeros(d), np.zeros(d)
    for step in range(1, steps + 1):
        grad = l2 * w
        for x, pos in groups:
            s = x @ w
            p_all = np.exp(s - s.max())
            p_all /= p_all.sum()
            sp = s[pos]
            p_pos = np.exp(sp - sp.max())
            p_pos /= p_pos.sum()
            grad += (p_all @ x - p_pos @ x[pos]) / len(groups)
        m = 0.9 * m + 0.1 * grad
        v = 0.999 * v + 0.001 * grad ** 2
        w -= 0.05 * (m / (1 - 0.9 ** step)) / (np.sqrt(v / (1 - 0.999 ** step)) + 1e-8)
    return w


def listwise_model(groups_raw, names: list[str], l2: float = 1e-3) -> dict[str, float]:
    """Fit on standardised features, return weights on the raw features (a constant offset is irrelevant)."""
    mean, std = standardize(np.vstack([x for x, _ in groups_raw]))
    w = fit_listwise([((x - mean) / std, pos) for x, pos in groups_raw], l2)
    return {n: round(float(v), 5) for n, v in zip(names, w / std)}


def fit_logistic(x: np.ndarray, y: np.ndarray, weight: np.ndarray, l2: float = 1.0,
                 steps: int = 50) -> tuple[np.ndarray, float]:
    """Newton's method for L2-regularised, sample-weighted logistic regression (x standardised; the weights are
    rescaled to sum to n so that l2 means the same whatever they are)."""
    n, d = x.shape
    sample = weight / weight.sum() * n
    xb = np.hstack([x, np.ones((n, 1))])
    w = np.zeros(d + 1)
    reg = np.full(d + 1, l2)
    reg[-1] = 0.0
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(xb @ w)))
        grad = xb.T @ (sample * (p - y)) + reg * w
        hess = (xb * (sample * p * (1 - p))[:, None]).T @ xb + np.diag(reg + 1e-9)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w[:-1], float(w[-1])


def logistic_model(x: np.ndarray, y: np.ndarray, weight: np.ndarray, names: list[str], l2: float) -> dict:
    """{"bias", "weights": {name: w}} on the raw features."""
    mean, std = standardize(x)
    w, b = fit_logistic((x - mean) / std, y, weight, l2)
    raw = w / std
    return {"bias": float(b - (raw * mean).sum()), "weights": {n: float(v) for n, v in zip(names, raw)}}


def z_of(model: dict, x: np.ndarray, names: list[str]) -> np.ndarray:
    return model["bias"] + x @ np.array([model["weights"].get(n, 0.0) for n in names])


def platt(z: np.ndarray, y: np.ndarray, weight: np.ndarray) -> tuple[float, float]:
    """(scale, shift) so that sigmoid(scale * z + shift) is calibrated on these (weighted) examples."""
    w, b = fit_logistic(z[:, None], y, weight, l2=0.0)
    return float(w[0]), b


def sigmoid(z):
    return 1 / (1 + np.exp(-np.clip(z, -50, 50)))


def auc(scores: np.ndarray, y: np.ndarray) -> float:
    order = np.argsort(scores, kind="stable")
    ranks = np.empty(len(scores))
    ranks[order] = np.arange(1, len(scores) + 1)
    n1 = y.sum()
    return float((ranks[y == 1].sum() - n1 * (n1 + 1) / 2) / (n1 * (len(y) - n1)))

