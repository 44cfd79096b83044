"""Fit the offline answerer's weights on SQuAD 2.0 train questions and write assistant/data/answerer.json.

    python benchmarks/tune_answerer.py [--keep 0] [--target-declined 0.01]

Data: ../shared/datasets/squad2_train.qa.jsonl (2,572 questions, 45 % answerable) over the squad2_dev corpus.
The dev sets (squad2_dev, news_dev) are never read here: their numbers come from benchmarks/answerer.py.

Every question goes through the real pipeline (hybrid retrieval, top 5 paragraphs) and the answerer's own feature
code (`assistant.answering.extractive`), with sentence vectors cached on disk so a re-run is fast.

Three models, all linear (numpy only; the package itself needs nothing but the weights):
1. prefilter: listwise softmax over the sentences of the 5 paragraphs, lexical features only (no embedding):
   a positive is a sentence of a gold paragraph that contains a gold answer string.
2. rank: the same with the sentence's embedding similarity added, over the `--keep` best prefiltered sentences.
   The default is --keep 0: no sentence is embedded and the prefilter is the ranking. On these train questions
   embedding the best 3/4/6/8 sentences moved the best-sentence accuracy by about one point (0.772 -> 0.785)
   and the composed answers not at all (cited 0.909 either way), while it cost 30-110 ms per question on this
   machine (most of `Assistant.ask`).
3. answerable: L2-regularised logistic regression (classes balanced) on question-level features of the best
   sentence; label = the question is answerable. Its bias is then shifted so that p = 0.5 declines
   `--target-declined` of the answerable train questions: the shipped settings.decline_threshold (0.5) is that
   operating point. The 8-fold cross-validation by article reports what other shares would cost and gain.
   The default 0.01 is the largest share that keeps the train questions' gold-paragraph citation rate at 0.90
   (cross-validated): the features separate SQuAD 2.0's adversarial unanswerable questions poorly (AUC ~0.66),
   so every further point of declines costs more answers than it saves.
How many sentences to quote (keep_within, a score margin below the best sentence; settings.max_answer_sentences
caps the count): the smallest margin that gets 90 % of the answer-present gain of always quoting the maximum.

Features (sentence level; all in [0, 1] except cosine similarities):
  dense_sentence   cosine(question, sentence) with MiniLM
  dense_paragraph  cosine(question, the paragraph's best chunk), from retrieval
  cover_sentence   IDF-weighted share of the question's content terms (stemmed, stop words out) in the sentence
  cover_window     the same in the sentence plus its neighbours
  cover_paragraph  the same in the whole paragraph
  bigram           share of the question's consecutive term pairs found consecutively in the sentence
  rank_prior       1 / retrieval rank of the paragraph
  bm25_paragraph   the paragraph's BM25 score over the best BM25 score among the retrieved (0: not a BM25 hit)
  type_match       the question asks for a time / number / person / place and the sentence holds one
  type_miss        it asks for one and the sentence holds none
  length           content terms in the sentence / 40 (capped at 1)
  first            the paragraph's first sentence
  novel            the sentence has a content term the question does not (an answer must add something)
Question level (answerability), from the best sentence:
  score, margin    its ranking score and the gap to the second sentence
  dense_*, cover_*, bigram, type_miss   as above, of the best sentence
  missing_max      IDF of the rarest question term missing from its paragraph, over the largest IDF possible
  missing_max_window   the same for the sentence and its neighbours
  negation_miss    the question has a negation (not, never, failed, ...) the sentence and neighbours lack
  dense_top        the best paragraph similarity among the retrieved
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

import _common as c

WEIGHTS_OUT = c.ROOT / "assistant" / "data" / "answerer.json"
CACHE = c.CACHE / "tune"


class CachedEmbedder:
    """The real embedder behind a text -> vector cache kept on disk between runs."""

    def __init__(self, embedder, path) -> None:
        self.embedder, self.path, self.name = embedder, path, embedder.name
        self.vectors: dict[str, np.ndarray] = {}
        if path.is_file():
            data = np.load(path, allow_pickle=False)
            self.vectors = dict(zip(data["texts"].tolist(), data["vectors"]))
        self.dirty = False

    def embed(self, texts, progress=None):
        new = list(dict.fromkeys(t for t in texts if t not in self.vectors))
        if new:
            for text, vector in zip(new, self.embedder.embed(new)):
                self.vectors[text] = vector
            self.dirty = True
        return np.stack([self.vectors[t] for t in texts]) if texts else np.zeros((0, 384), np.float32)

    def save(self) -> None:
        if self.dirty:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            texts = list(self.vectors)
            np.savez(self.path, texts=np.array(texts), vectors=np.stack([self.vectors[t] for t in texts]))
            self.dirty = False


# --- models -------------------------------------------------------------------------------------------
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
    raw = w / std
    return {n: round(float(v), 5) for n, v in zip(names, raw)}


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1.0, steps: int = 50) -> tuple[np.ndarray, float]:
    """Newton's method for L2-regularised logistic regression with balanced class weights (standardised x)."""
    n, d = x.shape
    sample = np.where(y == 1, 0.5 / y.mean(), 0.5 / (1 - y.mean()))
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


def logistic_model(x: np.ndarray, y: np.ndarray, names: list[str], l2: float) -> dict[str, float]:
    mean, std = standardize(x)
    w, b = fit_logistic((x - mean) / std, y, l2)
    raw = w / std
    return {"bias": float(b - (raw * mean).sum()), **{n: float(v) for n, v in zip(names, raw)}}


def z_of(model: dict[str, float], x: np.ndarray, names: list[str]) -> np.ndarray:
    return model["bias"] + x @ np.array([model[n] for n in names])


def auc(scores: np.ndarray, y: np.ndarray) -> float:
    order = np.argsort(scores)
    ranks = np.empty(len(scores))
    ranks[order] = np.arange(1, len(scores) + 1)
    n1 = y.sum()
    return float((ranks[y == 1].sum() - n1 * (n1 + 1) / 2) / (n1 * (len(y) - n1)))


# --- data -----------------------------------------------------------------------------------------------
def prepare(assistant, questions, embedder):
    """Per question: contexts (real retrieval), gold keys, lexical candidates with dense_sentence added."""
    from assistant.answering.extractive import lexical_candidates
    from assistant.answering.text import Idf
    from assistant.evaluation.metrics import answer_match
    from assistant.retrieval import retrieve

    s = assistant.settings
    texts = [" ".join(q["question"].split()) for q in questions]
    qvecs = embedder.embed(texts)
    idf = assistant.index.derived("idf", lambda mirror: Idf(mirror.texts))
    items = []
    for q, text, vector in zip(questions, texts, qvecs):
        contexts = retrieve(assistant.index, text, vector, s.top_k, s.candidates, s.rrf_k)
        cands = lexical_candidates(text, contexts, idf)
        gold = c.gold_keys(assistant, q) if q["answerable"] else set()
        pos = np.array([(cd.context.doc_id, cd.context.paragraph) in gold and answer_match(cd.text, q["answers"])
                        for cd in cands], dtype=bool)
        items.append({"q": q, "text": text, "vector": vector, "contexts": contexts, "cands": cands, "pos": pos,
                      "gold": gold, "article": q["meta"].get("article", "")})
    # all sentences at once: length-sorted batches, one pass
    embedder.embed(list(dict.fromkeys(cd.text for it in items for cd in it["cands"])))
    for it in items:
        if it["cands"]:
            sims = embedder.embed([cd.text for cd in it["cands"]]) @ it["vector"]
            for cd, sim in zip(it["cands"], sims):
                cd.features["dense_sentence"] = float(sim)
    return items, idf


def _key(cd) -> tuple:
    return cd.context.doc_id, cd.context.paragraph, cd.start


def matrix(cands, names) -> np.ndarray:
    return np.array([[cd.features.get(n, 0.0) for n in names] for cd in cands], dtype=np.float64)


def simulate(items, weights, embedder, idf, max_sentences: int):
    """Run the answerer's own scoring on every question: answerability features and the ranked sentences."""
    from assistant.answering.extractive import ANSWERABLE, answerable_features, score_sentences

    rows = []
    for it in items:
        ranked = score_sentences(it["text"], it["vector"], it["contexts"], embedder, idf, weights)
        feats = answerable_features(it["text"], ranked, it["contexts"], idf) if ranked else None
        rows.append({"ranked": ranked, "x": [feats[n] for n in ANSWERABLE] if feats else [0.0] * len(ANSWERABLE)})
    return rows


def answer_quality(items, rows, keep_within: float, max_sentences: int, declined=None):
    """Share of answerable questions citing a gold paragraph / containing a gold answer (not declined)."""
    from assistant.answering.extractive import choose
    from assistant.evaluation.metrics import answer_match

    cited = present = n = sentences = 0
    for i, (it, row) in enumerate(zip(items, rows)):
        if not it["q"]["answerable"]:
            continue
        n += 1
        if declined is not None and declined[i] or not row["ranked"]:
            continue
        chosen = choose(row["ranked"], max_sentences, keep_within)
        sentences += len(chosen)
        cited += any((cd.context.doc_id, cd.context.paragraph) in it["gold"] for cd in chosen)
        present += answer_match(" ".join(cd.text for cd in chosen), it["q"]["answers"])
    return cited / n, present / n, sentences / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=int, default=0, help="sentences embedded per question (speed vs quality)")
    parser.add_argument("--target-declined", type=float, default=0.01,
                        help="share of answerable train questions declined (cross-validated) at p = 0.5")
    parser.add_argument("--keep-within", type=float, default=None, help="fix keep_within instead of choosing it")
    parser.add_argument("--l2", type=float, default=1.0, help="L2 strength of the answerability model")
    parser.add_argument("--dry-run", action="store_true", help="do not write answerer.json")
    args = parser.parse_args()
    folder = c.require("squad2_dev.corpus.jsonl", "squad2_train.qa.jsonl")
    from assistant.answering.extractive import ANSWERABLE, FEATURES, LEXICAL

    started = time.perf_counter()
    assistant = c.assistant_for(folder / "squad2_dev.corpus.jsonl")
    embedder = CachedEmbedder(assistant.embedder, CACHE / "vectors.npz")
    questions = c.read_jsonl(folder / "squad2_train.qa.jsonl")
    items, idf = prepare(assistant, questions, embedder)
    embedder.save()
    print(f"{len(items)} questions prepared in {time.perf_counter() - started:.0f} s")
    max_sentences = assistant.settings.max_answer_sentences

    # 1-2. sentence ranking models, on answerable questions with at least one positive sentence
    trainable = [it for it in items if it["pos"].any()]
    prefilter = listwise_model([(matrix(it["cands"], LEXICAL), it["pos"]) for it in trainable], LEXICAL)
    keep = args.keep
    groups = []
    for it in trainable:
        x = matrix(it["cands"], LEXICAL)
        order = np.argsort(-(x @ np.array([prefilter[n] for n in LEXICAL])), kind="stable")[:max(keep, 1)]
        if it["pos"][order].any():
            groups.append((matrix([it["cands"][i] for i in order], FEATURES), it["pos"][order]))
    rank = listwise_model(groups, FEATURES) if keep > 0 else prefilter
    weights = {"prefilter": prefilter, "prefilter_keep": keep, "rank": rank}

    # recall of the prefilter: a positive survives among the kept sentences
    survive = np.mean([it["pos"][np.argsort(-(matrix(it["cands"], LEXICAL) @ np.array(
        [prefilter[n] for n in LEXICAL])), kind="stable")[:keep]].any() for it in trainable])

    # how many sentences to quote: the smallest keep_within that gets 90 % of the answer-present gain of
    # quoting all max_answer_sentences (ranking does not depend on the answerability model)
    rows = simulate(items, {**weights, "answerable": {"bias": 0.0}}, embedder, idf, max_sentences)
    grid = [0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 5.0, 100.0]
    by_margin = {m: answer_quality(items, rows, m, max_sentences) for m in grid}
    if args.keep_within is not None:
        keep_within = args.keep_within
    else:
        best, base = by_margin[100.0][1], by_margin[0.0][1]
        keep_within = next(m for m in grid if by_margin[m][1] >= base + 0.9 * (best - base))
    cited, present, n_sent = answer_quality(items, rows, keep_within, max_sentences)

    # 3. answerability, cross-validated by article (8 folds)
    x = np.array([r["x"] for r in rows])
    y = np.array([it["q"]["answerable"] for it in items], dtype=float)
    articles = sorted({it["article"] for it in items})
    fold = np.array([articles.index(it["article"]) for it in items])
    cv_z = np.zeros(len(items))
    for k in range(len(articles)):
        model = logistic_model(x[fold != k], y[fold != k], ANSWERABLE, args.l2)
        cv_z[fold == k] = z_of(model, x[fold == k], ANSWERABLE)
    curve = {}
    for share in (0.0, 0.01, 0.02, 0.03, 0.05, 0.08, 0.1, 0.15, 0.2, 0.3, 0.5):
        cut = float(np.quantile(cv_z[y == 1], share)) if share else -np.inf
        declined = cv_z < cut
        c_cited, c_present, _ = answer_quality(items, rows, keep_within, max_sentences, declined)
        curve[f"{share:.2f}"] = {"unanswerable_declined": round(float(declined[y == 0].mean()), 4),
                                 "gold_cited": round(c_cited, 4), "answer_present": round(c_present, 4)}
    answerable = logistic_model(x, y, ANSWERABLE, args.l2)
    full_z = z_of(answerable, x, ANSWERABLE)
    full_cut = float(np.quantile(full_z[y == 1], args.target_declined))
    answerable["bias"] -= full_cut  # p = 0.5 exactly where the target share of answerable ones is declined
    shifted = full_z - full_cut
    thresholds = {f"{share:.2f}": round(float(1 / (1 + np.exp(-np.quantile(shifted[y == 1], share)))), 4)
                  for share in (0.01, 0.02, 0.05, 0.1, 0.2, 0.3)}
    cut = float(np.quantile(cv_z[y == 1], args.target_declined))
    cv_declined = cv_z < cut
    cv = {"auc": round(auc(cv_z, y), 4),
          "answerable_declined": round(float(cv_declined[y == 1].mean()), 4),
          "unanswerable_declined": round(float(cv_declined[y == 0].mean()), 4),
          "by share of answerable declined": curve}
    total = {"questions": len(items), "answerable": int(y.sum()), "ranking_questions": len(trainable),
             "prefilter_positive_kept": round(float(survive), 4) if keep > 0 else None,
             "top1_sentence_is_positive": round(float(np.mean([
                 bool(r["ranked"]) and _key(r["ranked"][0]) in {_key(cd) for cd, p in zip(it["cands"], it["pos"]) if p}
                 for it, r in zip(items, rows) if it["pos"].any()])), 4),
             "cross_validated_answerability": cv,
             "keep_within_grid (cited, present, sentences per answerable)": {
                 str(m): [round(v, 4) for v in q] for m, q in by_margin.items()},
             "gold_cited_if_never_declined": round(cited, 4), "answer_present_if_never_declined": round(present, 4),
             "sentences_per_answer": round(n_sent, 3)}
    out = {
        "about": "Offline answerer weights; fitted by benchmarks/tune_answerer.py (feature list in its docstring).",
        "fitted_on": "SQuAD 2.0 train questions (squad2_train.qa.jsonl) over the squad2_dev corpus",
        "prefilter": prefilter, "prefilter_keep": keep, "rank": rank,
        "answerable": {k: round(v, 5) for k, v in answerable.items()},
        "keep_within": keep_within,
        "decline_threshold_note": f"p = 0.5 declines {args.target_declined:.0%} of answerable train questions",
        "decline_threshold_for_share_of_answerable_train_declined": thresholds,
        "train": total,
    }
    print(json.dumps({k: v for k, v in out.items() if k != "about"}, indent=1))
    if not args.dry_run:
        WEIGHTS_OUT.parent.mkdir(parents=True, exist_ok=True)
        WEIGHTS_OUT.write_text(json.dumps(out, indent=1) + "\n")
        print(f"wrote {WEIGHTS_OUT.relative_to(c.ROOT)} in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
