"""Does the assistant decline what the documents do not say, and answer what they do? (issue 9's benchmark)

    python benchmarks/declines.py [--no-write] [--answers FILE]

Every set is built from ../shared/datasets/ with fixed seeds and asked through `Assistant.ask` (the default,
offline answerer). Nothing here is fitted: the decline model is fitted on squad2_train by
training/tune_answerer.py; these dev sets are only reported.

Sets:
- squad2_dev: 140 answerable questions, 60 adversarial unanswerable ones (SQuAD 2.0's own).
- news_dev: 170 answerable, 30 unanswerable (news quiz questions whose article is not in the corpus).
- near_topic: squad2_dev with the gold paragraphs of 40 answerable questions (chosen with random seed 7) cut out
  of the corpus; the rest of each article stays indexed. Those 40 should be declined; the answerable questions
  whose gold paragraphs are all still there ("still answerable") should not. Other answerable questions whose
  every gold paragraph was cut too are reported apart ("collateral") and in neither group. The cut questions whose
  gold answer string still appears elsewhere in the cut corpus are counted apart as well (`answer_still_there`):
  the target counts all 40, but some of those are answerable still.
- off_corpus: squad2_dev's 140 answerable questions asked against the news_dev corpus (not about them).
- seed_article: benchmarks/suites/seed_article.qa.jsonl over seeds/ (the demo corpus): answerable questions,
  two-turn conversations, off-topic and near-topic unanswerable ones.

For answerable questions: gold paragraph cited, gold answer string present (SQuAD-normalised containment),
citation precision (share of cited paragraphs that are gold) and recall, declined. A declined answerable question
is neither cited nor present. For unanswerable ones: declined. `confidence` (Answer.confidence) is the answerer's
estimated probability that the documents answer the question: its AUC per kind of negative and its reliability
table (pooled over every set's questions) say how far it can be trusted.

Speed: `Assistant.ask` p50 per set (the first question of each set, which builds BM25 and the IDF table, is
asked once before and not counted).

Writes benchmarks/results/declines.json (summary, per-question declines and confidences). `--answers FILE` also
writes every answer as the user got it (text, citations, span, declined, confidence), one JSON line per question:
two such files from two commits, compared with `diff`, show whether a change moved any answer.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from pathlib import Path

import _common as c

SEED, CUT = 7, 40
RESULT = "declines"
TARGETS = [  # (set, metric, op, target): issue 19's table
    ("near_topic", "cut_declined", ">=", 0.70), ("near_topic", "answerable_declined", "<=", 0.05),
    ("squad2_dev", "unanswerable_declined", ">=", 0.50), ("squad2_dev", "answerable_declined", "<=", 0.05),
    ("news_dev", "unanswerable_declined", ">=", 0.85), ("news_dev", "answerable_declined", "<=", 0.03),
    ("squad2_dev", "answer_present", ">=", 0.90), ("news_dev", "answer_present", ">=", 0.88),
    ("squad2_dev", "gold_cited", ">=", 0.92), ("news_dev", "gold_cited", ">=", 0.92),
    ("squad2_dev", "citation_precision", ">=", 0.90), ("news_dev", "citation_precision", ">=", 0.88),
    ("seed_article", "answerable_declined", "<=", 0.0), ("seed_article", "unanswerable_declined", ">=", 16 / 18),
]
POOLED_TARGETS = [("ece", "<=", 0.05), ("auc", ">=", 0.93)]  # confidence over the pooled dev sets
BINS = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0000001]


def cut_corpus(folder: Path) -> tuple[Path, set[str], set[str]]:
    """The squad2_dev corpus without the gold paragraphs of CUT answerable questions chosen with SEED.

    Returns (corpus file, ids of the chosen questions, ids of other answerable questions left with no gold)."""
    questions = c.read_jsonl(folder / "squad2_dev.qa.jsonl")
    answerable = sorted((q for q in questions if q["answerable"]), key=lambda q: q["id"])
    chosen = random.Random(SEED).sample(answerable, CUT)
    cut = {(ev["doc_id"], ev["quote"].strip()) for q in chosen for ev in q["evidence"]}
    out = c.CACHE / "declines" / f"squad2_dev_cut{CUT}_seed{SEED}.corpus.jsonl"
    out.parent.mkdir(parents=True, exist_ok=True)
    lines = []
    for doc in c.read_jsonl(folder / "squad2_dev.corpus.jsonl"):
        kept = [p for p in doc["text"].split("\n\n") if (doc["doc_id"], p.strip()) not in cut]
        lines.append(json.dumps({**doc, "text": "\n\n".join(kept)}, ensure_ascii=False))
    text = "\n".join(lines) + "\n"
    if not out.is_file() or out.read_text(encoding="utf-8") != text:
        out.write_text(text, encoding="utf-8")
    chosen_ids = {q["id"] for q in chosen}
    collateral = {q["id"] for q in answerable if q["id"] not in chosen_ids
                  and all((ev["doc_id"], ev["quote"].strip()) in cut for ev in q["evidence"])}
    return out, chosen_ids, collateral


def answer_still_there(cut_path: Path, questions: list[dict], ids: set[str]) -> set[str]:
    """The chosen questions whose gold answer string (SQuAD-normalised) is still in some paragraph of the cut corpus.

    The benchmark cuts paragraphs, not facts: a Wikipedia article often says a thing twice ("the Court of Justice"
    in its introduction and again in its section). These are reported apart because some of them are answerable
    still. training/answerability_data.py leaves such questions out of the training negatives for that reason."""
    from assistant.evaluation.metrics import answer_match

    paragraphs = [p for doc in c.read_jsonl(cut_path) for p in doc["text"].split("\n\n")]
    return {q["id"] for q in questions if q["id"] in ids and any(answer_match(p, q["answers"]) for p in paragraphs)}


def ask_all(assistant, questions: list[dict], kind_of, answers: list | None = None) -> list[dict]:
    """One row per question: what the user got, scored against the gold answers and paragraphs.

    With `answers`, each answer as the user saw it is appended there too (for comparing two commits)."""
    from assistant.evaluation.metrics import answer_match, citation_precision

    assistant.ask(questions[0]["question"])  # builds the mirror, BM25 and IDF once: not a user's latency
    rows = []
    for q in questions:
        answer = assistant.ask(q["question"], history=q.get("history"))
        kind = kind_of(q)
        if answers is not None:
            answers.append({"id": q["id"], "kind": kind, "text": answer.text, "declined": answer.refused,
                            "confidence": answer.confidence, "support": answer.support,
                            "citations": [(cit.doc_id, cit.paragraph, cit.quote) for cit in answer.citations]})
        row = {"id": q["id"], "kind": kind, "declined": answer.refused, "confidence": answer.confidence,
               "support": answer.support, "ms": round(answer.seconds * 1000, 1)}
        if kind == "answerable":
            gold = c.gold_keys(assistant, q)
            cited = [(cit.doc_id, cit.paragraph) for cit in answer.citations]
            row.update(cited=not answer.refused and bool(set(cited) & gold),
                       present=not answer.refused and answer_match(answer.text, q["answers"]),
                       precision=None if answer.refused else citation_precision(cited, gold))
        rows.append(row)
    return rows


def mean(values) -> float | None:
    values = [float(v) for v in values if v is not None]
    return round(sum(values) / len(values), 4) if values else None


def auc(pos: list[float], neg: list[float]) -> float | None:
    """P(a random answerable question gets a higher confidence than a random negative one), ties half."""
    if not pos or not neg:
        return None
    wins = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
    return round(wins / (len(pos) * len(neg)), 4)


def summarize(rows: list[dict]) -> dict:
    ans = [r for r in rows if r["kind"] == "answerable"]
    neg = [r for r in rows if r["kind"] not in ("answerable", "collateral")]
    out = {"answerable": len(ans), "unanswerable": len(neg),
           "answerable_declined": mean(r["declined"] for r in ans),
           "unanswerable_declined": mean(r["declined"] for r in neg),
           "gold_cited": mean(r["cited"] for r in ans), "answer_present": mean(r["present"] for r in ans),
           "citation_precision": mean(r["precision"] for r in ans),
           "auc": auc([r["confidence"] for r in ans if r["confidence"] is not None],
                      [r["confidence"] for r in neg if r["confidence"] is not None]),
           "ask_ms_p50": round(statistics.median(r["ms"] for r in rows), 1)}
    for kind in sorted({r["kind"] for r in rows} - {"answerable"}):
        some = [r for r in rows if r["kind"] == kind]
        out[f"{kind}_declined"] = mean(r["declined"] for r in some)
        out[f"{kind}_count"] = len(some)
    out["unanswerable_declined"] = mean(r["declined"] for r in neg)  # every kind of negative (the loop's is one)
    return out


def reliability(rows: list[dict]) -> dict:
    """Confidence bins: how many questions, mean confidence, share that the documents answer; and the ECE."""
    scored = [r for r in rows if r["confidence"] is not None and r["kind"] != "collateral"]
    table, ece = [], 0.0
    for lo, hi in zip(BINS, BINS[1:]):
        inside = [r for r in scored if lo <= r["confidence"] < hi]
        if not inside:
            continue
        conf = sum(r["confidence"] for r in inside) / len(inside)
        real = sum(r["kind"] == "answerable" for r in inside) / len(inside)
        ece += len(inside) / len(scored) * abs(conf - real)
        table.append({"bin": f"{lo:.1f}-{min(hi, 1.0):.1f}", "questions": len(inside),
                      "mean_confidence": round(conf, 3), "answerable_share": round(real, 3)})
    return {"bins": table, "ece": round(ece, 4), "questions": len(scored)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-write", action="store_true", help="print only; do not write the results file")
    parser.add_argument("--answers", type=Path, help="also write every answer, one JSON line per question, here")
    args = parser.parse_args()
    answers: list | None = [] if args.answers else None
    folder = c.require(*[f"{d}.{kind}.jsonl" for d in ("squad2_dev", "news_dev") for kind in ("corpus", "qa")])
    started = time.perf_counter()
    squad = c.read_jsonl(folder / "squad2_dev.qa.jsonl")
    news = c.read_jsonl(folder / "news_dev.qa.jsonl")
    seed = c.read_jsonl(c.ROOT / "benchmarks" / "suites" / "seed_article.qa.jsonl")
    cut_path, cut_ids, collateral = cut_corpus(folder)

    def labelled(q: dict) -> str:
        return "answerable" if q["answerable"] else "unanswerable"

    def seed_kind(q: dict) -> str:  # the seed suite's own near-topic questions, apart from the off-topic ones
        return "near_topic" if q["id"].startswith("seed-near-") else labelled(q)

    def near_topic(q: dict) -> str:
        if q["id"] in cut_ids:
            return "cut"
        return "collateral" if q["id"] in collateral else labelled(q)

    squad_assistant = c.assistant_for(folder / "squad2_dev.corpus.jsonl")
    news_assistant = c.assistant_for(folder / "news_dev.corpus.jsonl")
    sets = {
        "squad2_dev": ask_all(squad_assistant, squad, labelled, answers),
        "news_dev": ask_all(news_assistant, news, labelled, answers),
        "near_topic": ask_all(c.assistant_for(cut_path, name=cut_path.name.removesuffix(".corpus.jsonl")),
                              [q for q in squad if q["answerable"]], near_topic, answers),
        "off_corpus": ask_all(news_assistant, [q for q in squad if q["answerable"]], lambda q: "off_corpus", answers),
        "seed_article": ask_all(c.assistant_for(c.ROOT / "seeds", name="seeds"), seed, seed_kind, answers),
    }
    summary = {name: summarize(rows) for name, rows in sets.items()}
    summary["near_topic"]["cut_declined"] = summary["near_topic"].pop("cut_declined", None)
    still = answer_still_there(cut_path, squad, cut_ids)
    cut_rows = [r for r in sets["near_topic"] if r["kind"] == "cut"]
    summary["near_topic"].update(
        cut_answer_elsewhere_count=len(still),
        cut_answer_elsewhere_declined=mean(r["declined"] for r in cut_rows if r["id"] in still),
        cut_answer_gone_declined=mean(r["declined"] for r in cut_rows if r["id"] not in still))
    checks = {f"{s} {m} {op} {t}": (summary[s][m] is not None and (summary[s][m] >= t if op == ">=" else
                                                                    summary[s][m] <= t))
              for s, m, op, t in TARGETS}
    pooled = [r for name, rows in sets.items() if name != "seed_article" for r in rows]
    rel = reliability(pooled)
    pooled_auc = auc([r["confidence"] for r in pooled if r["kind"] == "answerable"],
                     [r["confidence"] for r in pooled if r["kind"] not in ("answerable", "collateral")])
    for metric, op, target in POOLED_TARGETS:
        value = rel["ece"] if metric == "ece" else pooled_auc
        checks[f"pooled {metric} {op} {target}"] = value <= target if op == "<=" else value >= target
    from reader_alone import squad_scores

    reader = {"squad2_dev": squad_scores(squad), "news_dev": squad_scores(news)}
    data = {"sets": summary, "checks": checks, "pooled_auc": pooled_auc, "reader_alone (gold paragraph given)": reader,
            "reliability (squad2_dev, news_dev, near_topic, off_corpus)": rel, "near_topic_cut_ids": sorted(cut_ids), "near_topic_collateral_ids": sorted(collateral),
            "seconds": round(time.perf_counter() - started, 1),
            "per_question": {name: [{k: v for k, v in r.items() if k in ("id", "kind", "declined", "confidence")}
                                    for r in rows] for name, rows in sets.items()}}
    keys = ["answerable", "unanswerable", "answerable_declined", "unanswerable_declined", "gold_cited",
            "answer_present", "citation_precision", "auc", "ask_ms_p50"]
    names = list(sets)
    print(c.table(["metric", *names], [[k, *(summary[n].get(k) for n in names)] for k in keys]))
    print(f"\nnear_topic: {summary['near_topic']['cut_declined']} of the {len(cut_ids)} cut questions declined "
          f"({len(collateral)} collateral questions apart: declined {summary['near_topic'].get('collateral_declined')})")
    print(f"  of them, {len(still)} still have their gold answer string elsewhere in the cut corpus (declined "
          f"{summary['near_topic']['cut_answer_elsewhere_declined']}); the other {len(cut_ids) - len(still)}: declined "
          f"{summary['near_topic']['cut_answer_gone_declined']}")
    for check, ok in checks.items():
        print(f"- {check}: {'met' if ok else 'NOT met'}")
    print(f"\nReader alone, gold paragraph given (SQuAD 2.0 scoring): {json.dumps(reader)}")
    print(f"\nReliability (pooled, {rel['questions']} questions, ECE {rel['ece']}, AUC {pooled_auc}):")
    print(c.table(["confidence", "questions", "mean confidence", "share answerable"],
                  [[b["bin"], b["questions"], b["mean_confidence"], b["answerable_share"]] for b in rel["bins"]]))
    if args.answers:
        args.answers.write_text("".join(json.dumps(a, ensure_ascii=False) + "\n" for a in answers), encoding="utf-8")
    if not args.no_write:
        print(f"Results: {c.write_result(RESULT, data).relative_to(c.ROOT)}")


if __name__ == "__main__":
    main()
