"""Retrieval quality: recall@1 / recall@5 / MRR of the gold paragraph for dense alone, BM25 alone and the fused
ranking, on the answerable questions of squad2_dev and news_dev.

    python benchmarks/retrieval.py

A question counts as found at k when any of its evidence paragraphs (evidence quote == the whole paragraph
text of that doc_id) is among the first k retrieved paragraphs. Target: fused recall@5 >= 0.97 on squad2_dev.
Writes benchmarks/results/retrieval.json.
"""

from __future__ import annotations

import _common as c

DATASETS = ["squad2_dev", "news_dev"]
MODES = {"dense": {"use_dense": True, "use_bm25": False}, "bm25": {"use_dense": False, "use_bm25": True},
         "fused": {"use_dense": True, "use_bm25": True}}
TARGET = 0.97


def evaluate(name: str, folder) -> dict:
    from assistant.evaluation.metrics import hit_at, reciprocal_rank
    from assistant.retrieval.fusion import retrieve

    assistant = c.assistant_for(folder / f"{name}.corpus.jsonl")
    questions = [q for q in c.read_jsonl(folder / f"{name}.qa.jsonl") if q["answerable"]]
    golds = [c.gold_keys(assistant, q) for q in questions]
    unmatched = sum(not g for g in golds)
    vectors = assistant.embedder.embed([" ".join(q["question"].split()) for q in questions])
    s = assistant.settings
    out: dict = {"questions": len(questions), "evidence_not_found_in_index": unmatched,
                 "paragraphs": len(assistant.index.mirror().paragraphs), "top_k": 5, "candidates": s.candidates,
                 "rrf_k": s.rrf_k, "modes": {}}
    for mode, switches in MODES.items():
        r1 = r5 = rr = 0.0
        for q, gold, vector in zip(questions, golds, vectors):
            contexts = retrieve(assistant.index, " ".join(q["question"].split()), vector, 5, s.candidates, s.rrf_k,
                                **switches)
            keys = [(ctx.doc_id, ctx.paragraph) for ctx in contexts]
            r1 += hit_at(keys, gold, 1)
            r5 += hit_at(keys, gold, 5)
            rr += reciprocal_rank(keys, gold)
        n = len(questions)
        out["modes"][mode] = {"recall@1": round(r1 / n, 4), "recall@5": round(r5 / n, 4), "mrr@5": round(rr / n, 4)}
    return out


def main() -> None:
    folder = c.require(*[f"{d}.{kind}.jsonl" for d in DATASETS for kind in ("corpus", "qa")])
    results = {name: evaluate(name, folder) for name in DATASETS}
    fused = results["squad2_dev"]["modes"]["fused"]["recall@5"]
    data = {"datasets": results, "target": {"squad2_dev fused recall@5": TARGET},
            "meets_target": fused >= TARGET}
    path = c.write_result("retrieval", data)
    rows = [[name, mode, r["questions"], m["recall@1"], m["recall@5"], m["mrr@5"]]
            for name, r in results.items() for mode, m in r["modes"].items()]
    print(c.table(["dataset", "retriever", "questions", "recall@1", "recall@5", "MRR@5"], rows))
    print(f"\nTarget fused recall@5 >= {TARGET} on squad2_dev: {fused:.3f} "
          f"({'met' if fused >= TARGET else 'NOT met'}). Results: {path.relative_to(c.ROOT)}")


if __name__ == "__main__":
    main()
