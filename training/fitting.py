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
    """The score of a linear model (`logistic_model`) or of boosted trees (`fit_trees`) on rows of `x`."""
    z = model["bias"] + x @ np.array([model["weights"].get(n, 0.0) for n in names])
    for tree in model.get("trees", []):
        z = z + _tree_output(tree, x, names)
    return z


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



# --- boosted trees (the decline model) ------------------------------------------------------------------
TREES = {"depth": 3, "rounds": 200, "rate": 0.05, "min_leaf": 40, "l2": 1.0, "bins": 64}


def fit_trees(x: np.ndarray, y: np.ndarray, weight: np.ndarray, names: list[str], depth: int = 3, rounds: int = 200,
              rate: float = 0.05, min_leaf: int = 40, l2: float = 1.0, bins: int = 64) -> dict:
    """Gradient-boosted regression trees for the sample-weighted logistic loss, with Newton leaf values (as in
    XGBoost or LightGBM): {"bias", "weights": {}, "trees"}, a tree as parallel lists (`feature` None at a leaf; a
    row goes left when its feature is <= `threshold`), its values already scaled by `rate`. Splits are tried at
    `bins` quantiles of each feature; a leaf keeps at least `min_leaf` examples. The trees see interactions a
    linear model misses (a large reader margin means little when the words of the question are not there)."""
    n, d = x.shape
    sample = weight / weight.sum() * n
    edges = [np.unique(np.quantile(x[:, j], np.linspace(0, 1, bins + 1)[1:-1])) for j in range(d)]
    binned = np.column_stack([np.searchsorted(edges[j], x[:, j], side="left") for j in range(d)])
    prior = float(np.clip(np.average(y, weights=sample), 1e-6, 1 - 1e-6))
    bias = float(np.log(prior / (1 - prior)))
    f = np.full(n, bias)
    trees = []
    for _ in range(rounds):
        p = 1 / (1 + np.exp(-f))
        g, h = sample * (p - y), sample * p * (1 - p)
        tree = {"feature": [], "threshold": [], "left": [], "right": [], "value": []}
        _grow(tree, np.arange(n), 0, binned, edges, g, h, names, depth, min_leaf, l2, rate, bins)
        f += _tree_output(tree, x, names)
        trees.append(tree)
    return {"bias": bias, "weights": {}, "trees": trees}


def _grow(tree: dict, rows: np.ndarray, level: int, binned, edges, g, h, names, depth, min_leaf, l2, rate,
          bins) -> int:
    """Add the node for `rows` (and its subtree) to `tree`; its index."""
    node = len(tree["value"])
    G, H = g[rows].sum(), h[rows].sum()
    for key, value in (("feature", None), ("threshold", 0.0), ("left", -1), ("right", -1),
                       ("value", float(-G / (H + l2) * rate))):
        tree[key].append(value)
    if level >= depth or len(rows) < 2 * min_leaf:
        return node
    k = binned.shape[1], bins
    parent = G * G / (H + l2)
    lengths = np.array([len(e) for e in edges])  # the splits each feature has
    flat = (binned[rows] + np.arange(k[0]) * k[1]).ravel()  # every feature's histogram in one bincount
    gl = np.cumsum(np.bincount(flat, np.repeat(g[rows], k[0]), k[0] * k[1]).reshape(k), axis=1)
    hl = np.cumsum(np.bincount(flat, np.repeat(h[rows], k[0]), k[0] * k[1]).reshape(k), axis=1)
    nl = np.cumsum(np.bincount(flat, minlength=k[0] * k[1]).reshape(k), axis=1)
    gain = gl ** 2 / (hl + l2) + (G - gl) ** 2 / (H - hl + l2) - parent
    gain[(nl < min_leaf) | (len(rows) - nl < min_leaf) | (np.arange(k[1]) >= lengths[:, None])] = -np.inf
    j, split = (int(i) for i in np.unravel_index(int(np.argmax(gain)), k))
    if not gain[j, split] > 1e-9:  # no split helps (or none keeps min_leaf on both sides)
        return node
    goes_left = binned[rows, j] <= split
    tree["feature"][node], tree["threshold"][node] = names[j], float(edges[j][split])
    tree["left"][node] = _grow(tree, rows[goes_left], level + 1, binned, edges, g, h, names, depth, min_leaf, l2, rate,
                                bins)
    tree["right"][node] = _grow(tree, rows[~goes_left], level + 1, binned, edges, g, h, names, depth, min_leaf, l2,
                                rate, bins)
    return node


def _tree_output(tree: dict, x: np.ndarray, names: list[str]) -> np.ndarray:
    """Each row's leaf value, all rows at once, one level at a time."""
    column = {n: i for i, n in enumerate(names)}
    feature = np.array([column[f] if f is not None else -1 for f in tree["feature"]])
    threshold, left, right = (np.array(tree[k]) for k in ("threshold", "left", "right"))
    node = np.zeros(len(x), dtype=int)
    rows = np.arange(len(x))
    while True:
        inner = feature[node] >= 0
        if not inner.any():
            return np.array(tree["value"])[node]
        goes_left = x[rows, np.maximum(feature[node], 0)] <= threshold[node]
        node = np.where(inner, np.where(goes_left, left[node], right[node]), node)
