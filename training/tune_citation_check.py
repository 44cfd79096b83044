"""Fit the citation check's scorer on SQuAD 2.0 train questions and write assistant/data/citation_check.json.

    python training/tune_citation_check.py [--limit N] [--index DIR] [--dry-run]

For squad2_train questions (the squad2_dev corpus: same articles, other questions) whose gold paragraph is
retrieved, three kinds of claim are made from the gold sentence (benchmarks/citation_check.py's STYLES); each is
scored against every retrieved paragraph with the checker's own features, the gold paragraph a positive and every
other one a negative. A logistic model (numpy, classes balanced) is fitted, and the threshold where the two error
rates are equal is kept. benchmarks/citation_check.py measures the result on the dev questions.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]  # `python training/tune_citation_check.py` from anywhere

from citation_check import STYLES, answer_sentence, build_assistant, claim  # noqa: E402
from _common import datasets_dir, gold_keys, read_jsonl  # noqa: E402


def tune(index_dir: Path, limit: int | None, dry_run: bool = False) -> None:
    import numpy as np

    from assistant.answering.citations import WEIGHTS_FILE, CitationChecker, CitationWeights, SentenceVectors
    from assistant.text.terms import Idf

    assistant = build_assistant(index_dir)
    idf = assistant.index.derived("idf", lambda mirror: Idf(mirror.texts))
    checker = CitationChecker(SentenceVectors(assistant.embedder), idf)
    questions = [q for q in read_jsonl(datasets_dir() / "squad2_train.qa.jsonl") if q["answerable"]]
    random.Random(7).shuffle(questions)
    questions = questions[:limit] if limit else questions
    names = ["lex", "dense", "missing", "lex_margin", "dense_margin"]  # the order CitationChecker.features has
    X, y, styles = [], [], []
    started = time.perf_counter()
    for i, q in enumerate(questions):
        key = next(iter(gold_keys(assistant, q)), None)  # one evidence paragraph per SQuAD question
        if key is None:
            continue
        contexts = assistant.retrieve(q["question"])
        keys = [(c.doc_id, c.paragraph) for c in contexts]
        if key not in keys:
            continue
        found = answer_sentence(contexts[keys.index(key)].text, q["answers"])
        if not found:
            continue
        for style in STYLES:
            text = claim(style, q["question"], *found)
            rows = checker.features(text, [c.text for c in contexts], q["question"])
            for k, row in zip(keys, rows):
                X.append([row[n] for n in names])
                y.append(1.0 if k == key else 0.0)
                styles.append(style)
        if (i + 1) % 200 == 0:
            print(f"  {i + 1}/{len(questions)} questions, {time.perf_counter() - started:.0f} s", file=sys.stderr)
    X, y = np.array(X), np.array(y)
    w = np.zeros(X.shape[1])
    b = 0.0
    pos_weight = (1 - y).sum() / max(y.sum(), 1)  # balance the classes
    sample_w = np.where(y == 1, pos_weight, 1.0)
    for _ in range(6000):
        p = 1 / (1 + np.exp(-(X @ w + b)))
        g = (p - y) * sample_w
        w -= 0.5 * (X.T @ g / len(y) + 1e-3 * w)
        b -= 0.5 * g.mean()
    p = 1 / (1 + np.exp(-(X @ w + b)))
    best = min(np.linspace(0.05, 0.95, 181),
               key=lambda t: max(((p < t) & (y == 1)).sum() / (y == 1).sum(),
                                 ((p >= t) & (y == 0)).sum() / (y == 0).sum()))
    false_flag = float(((p < best) & (y == 1)).sum() / (y == 1).sum())
    caught = float(((p < best) & (y == 0)).sum() / (y == 0).sum())
    fitted = CitationWeights(
        about="The citation check's scorer (assistant/answering/citations.py): a logistic model over lex, dense, "
              "missing, lex_margin and dense_margin, and the support threshold; fitted by "
              "training/tune_citation_check.py.",
        fitted_on=f"SQuAD 2.0 train questions: {len(y):,} claim/paragraph pairs from {len(questions):,} questions; "
                  f"there it catches {caught:.1%} of wrong citations and flags {false_flag:.1%} of correct ones "
                  "(measured on dev: benchmarks/results/citation_check.json)",
        scorer={"bias": round(float(b), 3), "weights": {n: round(float(v), 3) for n, v in zip(names, w)}},
        threshold=round(float(best), 3))
    print(f"pairs: {len(y)} ({int(y.sum())} correct); train: catches {caught:.3f} of wrong, flags {false_flag:.3f} "
          f"of correct at threshold {best:.3f}")
    text = json.dumps(fitted.model_dump(), indent=1) + "\n"
    if dry_run:
        print(text)
    else:
        WEIGHTS_FILE.write_text(text, encoding="utf-8")
        print(f"wrote {WEIGHTS_FILE}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--limit", type=int, help="only the first N questions")
    parser.add_argument("--index", type=Path, help="index folder to (re)use (default: a temporary one)")
    parser.add_argument("--dry-run", action="store_true", help="print the fitted weights, write nothing")
    args = parser.parse_args()
    missing = [n for n in ("squad2_dev.corpus.jsonl", "squad2_train.qa.jsonl") if not (datasets_dir() / n).is_file()]
    if missing:
        print(f"Datasets not found ({', '.join(missing)} in {datasets_dir()}); set ASSISTANT_DATASETS. Skipping.")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        tune(args.index or Path(tmp) / "index", args.limit, args.dry_run)
    return 0


if __name__ == "__main__":
    sys.exit(main())
