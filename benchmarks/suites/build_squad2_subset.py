"""Build the shipped SQuAD 2.0 subset (squad2_subset.corpus.jsonl + squad2_subset.qa.jsonl) from
../shared/datasets/squad2_dev.*, so an evaluation runs on a fresh clone without the shared datasets.

SQuAD 2.0 is CC BY-SA 4.0 (Rajpurkar et al. 2016, 2018; text from Wikipedia): every corpus record keeps its
`source` attribution, every question its `meta.licence`, and squad2_subset.suite.json + README.md name the
licence and the authors. Deterministic: the same input gives byte-identical files.

    .venv/bin/python benchmarks/suites/build_squad2_subset.py [--datasets ../shared/datasets]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
# Whole articles: every question of the first two, and the first few of the third, in file order.
ARTICLES = {"1973_oil_crisis": None, "Packet_switching": None, "Harvard_University": (5, 3)}  # (answerable, not)
LICENCE = "CC BY-SA 4.0"
ATTRIBUTION = ("SQuAD 2.0 (Rajpurkar, Jia and Liang 2018; Rajpurkar et al. 2016), dev set via the Stanford "
               "CS224N split; paragraphs from the Wikipedia articles '1973 oil crisis', 'Packet switching' and "
               "'Harvard University'. Licensed CC BY-SA 4.0 (https://creativecommons.org/licenses/by-sa/4.0/); "
               "this subset is shared under the same licence.")


def build(datasets: Path) -> tuple[list[dict], list[dict]]:
    docs = [json.loads(line) for line in (datasets / "squad2_dev.corpus.jsonl").read_text().splitlines() if line]
    questions = [json.loads(line) for line in (datasets / "squad2_dev.qa.jsonl").read_text().splitlines() if line]
    corpus = [d for d in docs if d["doc_id"].removeprefix("squad2:") in ARTICLES]
    chosen = []
    for article, quota in ARTICLES.items():
        mine = [q for q in questions if q["meta"].get("article") == article]
        if quota is not None:
            answerable = [q for q in mine if q["answerable"]][: quota[0]]
            unanswerable = [q for q in mine if not q["answerable"]][: quota[1]]
            keep = {q["id"] for q in answerable + unanswerable}
            mine = [q for q in mine if q["id"] in keep]
        chosen += mine
    chosen.sort(key=lambda q: q["id"])
    for q in chosen:
        q["meta"] = {**q["meta"], "corpus": "squad2_subset.corpus.jsonl", "licence": LICENCE}
    return corpus, chosen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", default=str(HERE.parents[2] / "shared" / "datasets"))
    args = parser.parse_args()
    corpus, questions = build(Path(args.datasets))
    for name, rows in (("squad2_subset.corpus.jsonl", corpus), ("squad2_subset.qa.jsonl", questions)):
        (HERE / name).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    sidecar = {"name": "squad2_subset", "corpus": "squad2_subset.corpus.jsonl", "licence": LICENCE,
               "attribution": ATTRIBUTION, "source": "https://rajpurkar.github.io/SQuAD-explorer/",
               "description": f"{len(questions)} SQuAD 2.0 dev questions ({sum(q['answerable'] for q in questions)} "
                              f"answerable) over {len(corpus)} whole Wikipedia articles "
                              f"({sum(len(d['text'].split(chr(10) * 2)) for d in corpus)} paragraphs)."}
    (HERE / "squad2_subset.suite.json").write_text(json.dumps(sidecar, indent=2, ensure_ascii=False) + "\n",
                                                   encoding="utf-8")
    print(sidecar["description"])


if __name__ == "__main__":
    main()
