"""The offline (extractive) answerer end to end through `Assistant.ask`, on squad2_dev and news_dev.

    python benchmarks/answerer.py [--threshold 0.5] [--sentences 3]

For answerable questions: share whose gold paragraph is cited (any evidence paragraph among the citations),
share whose gold answer string appears in the answer text (`metrics.answer_match`), share wrongly declined.
For unanswerable questions: share declined. A declined answerable question counts as neither cited nor present.
Targets (issue 19): cited >= 0.92 on both sets; answer present >= 0.90 / 0.88 and citation precision >= 0.90 / 0.88
on squad2_dev / news_dev; on squad2_dev unanswerable declined >= 0.5 with <= 5 % of answerable questions declined.
Also the reader alone, given each question's gold paragraph (`reader_alone.py`: SQuAD 2.0 exact match and F1).
Writes benchmarks/results/answerer.json.
"""

from __future__ import annotations

import argparse
import time

import _common as c

DATASETS = ["squad2_dev", "news_dev"]
TARGETS = {"gold_cited": 0.90, "answer_present": 0.80, "squad2_dev unanswerable_declined": 0.5,
           "squad2_dev answerable_declined_max": 0.10}


def evaluate(name: str, folder, overrides: dict) -> tuple[dict, list[dict]]:
    from assistant.evaluation.metrics import answer_match, best_f1, citation_precision, decline_scores

    assistant = c.assistant_for(folder / f"{name}.corpus.jsonl", **overrides)
    questions = c.read_jsonl(folder / f"{name}.qa.jsonl")
    assistant.ask(questions[0]["question"])  # builds the mirror, BM25 and IDF once
    rows, seconds = [], []
    for q in questions:
        answer = assistant.ask(q["question"])
        seconds.append(answer.seconds)
        cited = [(cit.doc_id, cit.paragraph) for cit in answer.citations]
        row = {"id": q["id"], "answerable": q["answerable"], "declined": answer.refused,
               "p": answer.confidence, "sentences": answer.text.count(" [")}
        if q["answerable"]:
            gold = c.gold_keys(assistant, q)
            row.update(cited=bool(set(cited) & gold), present=(not answer.refused) and answer_match(answer.text,
                                                                                                q["answers"]),
                       precision=citation_precision(cited, gold), f1=best_f1(answer.text, q["answers"]),
                       retrieved=any((ctx.doc_id, ctx.paragraph) in gold for ctx in answer.contexts))
        rows.append(row)
    ans = [r for r in rows if r["answerable"]]
    una = [r for r in rows if not r["answerable"]]
    precisions = [r["precision"] for r in ans if r["precision"] is not None]
    mean = lambda xs: round(sum(xs) / len(xs), 4) if xs else None  # noqa: E731
    summary = {
        "answerable": len(ans), "unanswerable": len(una),
        "gold_cited": mean([r["cited"] for r in ans]),
        "answer_present": mean([r["present"] for r in ans]),
        "answerable_declined": mean([r["declined"] for r in ans]),
        "unanswerable_declined": mean([r["declined"] for r in una]),
        "gold_retrieved_top_k": mean([r["retrieved"] for r in ans]),
        "citation_precision": mean(precisions),
        "answer_f1": mean([r["f1"] for r in ans]),
        "mean_sentences_quoted": mean([r["sentences"] for r in rows if not r["declined"]]),
        "ask_ms_p50": round(sorted(seconds)[len(seconds) // 2] * 1000, 1),
        **{k: (round(v, 4) if v is not None else None)
           for k, v in decline_scores([r["declined"] for r in rows], [not r["answerable"] for r in rows]).items()},
    }
    summary["threshold_sweep"] = sweep(rows, decline_threshold(assistant))
    return summary, rows


def decline_threshold(assistant) -> float:
    """The threshold the answerer declines below: the setting, else the one fitted with its weights."""
    from assistant.answering.extractive.answerer import thresholds
    from assistant.answering.extractive.weights import load_weights

    return thresholds(load_weights().answerability.features, assistant.settings)[0]


def sweep(rows: list[dict], current: float) -> dict:
    """What a higher decline threshold would do (exact: the answer text does not depend on the threshold)."""
    out = {}
    for threshold in sorted({round(current, 4), *[t for t in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8) if t >= current]}):
        declined = [r["declined"] or r["p"] < threshold for r in rows]
        ans = [(r, d) for r, d in zip(rows, declined) if r["answerable"]]
        una = [d for r, d in zip(rows, declined) if not r["answerable"]]
        out[f"{threshold:.2f}"] = {
            "gold_cited": round(sum(r["cited"] and not d for r, d in ans) / len(ans), 4),
            "answer_present": round(sum(r["present"] and not d for r, d in ans) / len(ans), 4),
            "answerable_declined": round(sum(d for _, d in ans) / len(ans), 4),
            "unanswerable_declined": round(sum(una) / len(una), 4) if una else None}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threshold", type=float, help="decline threshold (default: the settings default)")
    parser.add_argument("--sentences", type=int, help="max answer sentences (default: the settings default)")
    parser.add_argument("--no-write", action="store_true", help="print only; do not write the results file")
    args = parser.parse_args()
    folder = c.require(*[f"{d}.{kind}.jsonl" for d in DATASETS for kind in ("corpus", "qa")])
    overrides = {k: v for k, v in {"decline_threshold": args.threshold,
                                   "max_answer_sentences": args.sentences}.items() if v is not None}
    from assistant.answering.extractive.weights import WEIGHTS_FILE, load_weights
    from assistant.config.settings import Settings

    defaults = Settings.load(index_dir=c.CACHE, **overrides)
    started = time.perf_counter()
    results = {}
    for name in DATASETS:
        results[name], rows = evaluate(name, folder, overrides)
        results[name]["per_question"] = rows
    s2, nd = results["squad2_dev"], results["news_dev"]
    checks = {  # issue 19's targets
        "squad2_dev gold_cited >= 0.92": s2["gold_cited"] >= 0.92,
        "news_dev gold_cited >= 0.92": nd["gold_cited"] >= 0.92,
        "squad2_dev answer_present >= 0.90": s2["answer_present"] >= 0.90,
        "news_dev answer_present >= 0.88": nd["answer_present"] >= 0.88,
        "squad2_dev citation_precision >= 0.90": s2["citation_precision"] >= 0.90,
        "news_dev citation_precision >= 0.88": nd["citation_precision"] >= 0.88,
        "squad2_dev unanswerable_declined >= 0.5": s2["unanswerable_declined"] >= 0.5,
        "squad2_dev answerable_declined <= 0.05": s2["answerable_declined"] <= 0.05,
    }
    from reader_alone import squad_scores

    for name in DATASETS:
        results[name]["reader_alone (gold paragraph given)"] = squad_scores(c.read_jsonl(folder / f"{name}.qa.jsonl"))
    weights = load_weights()
    data = {"settings": {"decline_threshold": defaults.decline_threshold or "fitted (see threshold_sweep)",
                         "max_answer_sentences": defaults.max_answer_sentences, "top_k": defaults.top_k},
            "weights_file": str(WEIGHTS_FILE.relative_to(c.ROOT)), "weights_fitted_on": weights.fitted_on,
            "datasets": results, "checks": checks, "seconds": round(time.perf_counter() - started, 1)}
    if not args.no_write:
        path = c.write_result("answerer", data)
    keys = ["gold_cited", "answer_present", "answerable_declined", "unanswerable_declined", "gold_retrieved_top_k",
            "citation_precision", "answer_f1", "mean_sentences_quoted", "ask_ms_p50"]
    print(c.table(["metric", *DATASETS], [[k, *(results[d][k] for d in DATASETS)] for k in keys]))
    print(f"\nthreshold {defaults.decline_threshold}, up to {defaults.max_answer_sentences} sentences")
    for check, ok in checks.items():
        print(f"- {check}: {'met' if ok else 'NOT met'}")
    for name in DATASETS:
        print(f"reader alone on {name}, gold paragraph given: {results[name]['reader_alone (gold paragraph given)']}")
    for name in DATASETS:
        print(f"\nRaising the decline threshold on {name} (same answers, more declines):")
        sw = results[name]["threshold_sweep"]
        print(c.table(["threshold", "gold cited", "answer present", "answerable declined", "unanswerable declined"],
                      [[t, v["gold_cited"], v["answer_present"], v["answerable_declined"], v["unanswerable_declined"]]
                       for t, v in sw.items()]))
    if not args.no_write:
        print(f"Results: {path.relative_to(c.ROOT)}")


if __name__ == "__main__":
    main()
