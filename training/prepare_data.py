"""Build the reader's training examples from SQuAD train (../shared/datasets/squad2_train_large.json.gz).

Writes training/.cache/examples.train.jsonl and examples.heldout.jsonl (git-ignored), one example a line:
{"id", "article", "kind", "question", "carried", "context", "answer_start", "answer_text"}; a negative has
"answer_start": null. Kinds, and why each is there:

- answerable: a SQuAD question and its paragraph, the answer span marked (87,599 in the file). With probability
  CROP a paragraph is cut to the answer's sentence and 0-2 sentences either side: the answerer reads windows, and
  news paragraphs are short.
- squad_unanswerable: SQuAD 2.0's own unanswerable questions on their paragraphs (17,399): the adversarial kind, a
  question about the paragraph's topic that it does not answer.
- near_topic: an answerable question read against the other paragraph of its article that shares most of its rare
  words and does not contain the answer: what the answerer meets when retrieval finds the right article but not
  the fact.
- sentence_removed: an answerable question read against its own paragraph with the sentences that hold the answer
  taken out (only where the answer text appears nowhere else in it): the same topic, the same words, no fact.
- off_corpus: an answerable question read against the most similar paragraph of another article that does not
  contain the answer (another article can state the same fact).
- A share of answerable questions (FOLLOW_UP) carry another question of the same paragraph as a follow-up's
  earlier question, as the chat surfaces pass it (`reader_input.reader_question`).

Questions are normalised by the model's own `normalise_question` when they are read (train_reader.py), so the
lower-cased, word-split spelling of the unanswerable questions gives nothing away.

Held out: HELDOUT_ARTICLES articles picked by the seed, never trained on; the export's parity check and the
training log's figures read them. The dev sets (squad2_dev, news_dev) are not read here at all.

    python training/prepare_data.py [--data ../shared/datasets/squad2_train_large.json.gz]
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import math
import random
import re
from collections import Counter
from pathlib import Path

from assistant.text.terms import split_sentences, terms

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "datasets" / "squad2_train_large.json.gz"
OUT = ROOT / "training" / ".cache"
SEED = 20261206
HELDOUT_ARTICLES = 12
CROP = 0.35  # share of answerable examples cut to a few sentences around the answer
FOLLOW_UP = 0.06
NEAR_TOPIC = 0.25  # share of answerable questions that also make a near-topic negative
SENTENCE_REMOVED = 0.15
OFF_CORPUS = 0.09
OFF_CORPUS_POOL = 300  # random paragraphs of other articles searched for the most similar one


def folded(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def load(path: Path) -> list[dict]:
    """Articles as {"title", "paragraphs": [{"context", "qas"}]}."""
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return json.load(fh)["data"]


class Overlap:
    """IDF-weighted share of a question's terms that a paragraph holds (how near-topic and off-corpus paragraphs
    are picked: the most similar one that does not answer)."""

    def __init__(self, paragraphs: list[str]) -> None:
        self.sets = [set(terms(p)) for p in paragraphs]
        df = Counter(t for s in self.sets for t in s)
        n = len(self.sets)
        self.idf = {t: math.log(1 + n / c) for t, c in df.items()}
        self.top = math.log(1 + n)

    def score(self, q_terms: set[str], index: int) -> float:
        """Summed with `math.fsum`, whose result does not depend on the order of the set: a plain sum's rounding
        followed the set's order, which changes with each process's string hashing, and near ties then picked
        different paragraphs from one run to the next (26 of 21,306 near-topic examples)."""
        weights = {t: self.idf.get(t, self.top) for t in q_terms}
        total = math.fsum(weights.values()) or 1.0
        return math.fsum(w for t, w in weights.items() if t in self.sets[index]) / total


def crop(context: str, start: int, end: int, rng: random.Random) -> tuple[str, int]:
    """The sentence(s) holding [start, end) with 0-2 sentences either side: (text, offset of the text)."""
    spans = split_sentences(context)
    hit = [i for i, (s, e) in enumerate(spans) if s < end and e > start]
    if not hit:
        return context, 0
    lo = max(0, hit[0] - rng.randint(0, 2))
    hi = min(len(spans) - 1, hit[-1] + rng.randint(0, 2))
    a, b = spans[lo][0], spans[hi][1]
    return context[a:b], a


def without_answer(context: str, start: int, end: int, answer: str) -> str | None:
    """The paragraph with the sentences holding the answer removed; None when the answer is still in it or
    little is left."""
    spans = split_sentences(context)
    kept = [context[s:e] for s, e in spans if not (s < end and e > start)]
    rest = " ".join(kept)
    if len(kept) < 2 or folded(answer) in folded(rest):
        return None
    return rest


def build(articles: list[dict], rng: random.Random) -> list[dict]:
    examples: list[dict] = []
    all_paragraphs = [(a, p["context"]) for a, art in enumerate(articles) for p in art["paragraphs"]]
    global_overlap = Overlap([c for _, c in all_paragraphs])
    for a, article in enumerate(articles):
        contexts = [p["context"] for p in article["paragraphs"]]
        local = Overlap(contexts)
        for p, paragraph in enumerate(article["paragraphs"]):
            context = paragraph["context"]
            answerable = [q for q in paragraph["qas"] if not q.get("is_impossible") and q["answers"]]
            for q in paragraph["qas"]:
                base = {"article": article["title"], "question": q["question"], "carried": []}
                if q.get("is_impossible") or not q["answers"]:
                    examples.append({**base, "id": q["id"], "kind": "squad_unanswerable", "context": context,
                                     "answer_start": None, "answer_text": None})
                    continue
                answer = q["answers"][0]
                start, text = answer["answer_start"], answer["text"]
                end = start + len(text)
                example = {**base, "id": q["id"], "kind": "answerable"}
                others = [o for o in answerable if o["id"] != q["id"]]
                if others and rng.random() < FOLLOW_UP:
                    example["carried"] = [rng.choice(others)["question"]]
                if rng.random() < CROP:
                    ctx, shift = crop(context, start, end, rng)
                    example.update(context=ctx, answer_start=start - shift, answer_text=text)
                else:
                    example.update(context=context, answer_start=start, answer_text=text)
                assert example["context"][example["answer_start"]:][:len(text)] == text
                examples.append(example)
                q_terms = set(terms(q["question"]))
                negative = {**base, "answer_start": None, "answer_text": None}
                if rng.random() < NEAR_TOPIC and len(contexts) > 1:
                    ranked = sorted((i for i in range(len(contexts)) if i != p),
                                    key=lambda i: -local.score(q_terms, i))
                    for i in ranked[:5]:
                        if folded(text) not in folded(contexts[i]):
                            examples.append({**negative, "id": f"{q['id']}-near", "kind": "near_topic",
                                             "context": contexts[i]})
                            break
                if rng.random() < SENTENCE_REMOVED:
                    rest = without_answer(context, start, end, text)
                    if rest:
                        examples.append({**negative, "id": f"{q['id']}-cut", "kind": "sentence_removed",
                                         "context": rest})
                if rng.random() < OFF_CORPUS:
                    pool = [i for i in rng.sample(range(len(all_paragraphs)), OFF_CORPUS_POOL)
                            if all_paragraphs[i][0] != a and folded(text) not in folded(all_paragraphs[i][1])]
                    if pool:  # another article can state the same fact ("Hops" for beer's bitterness)
                        best = max(pool, key=lambda i: global_overlap.score(q_terms, i))
                        examples.append({**negative, "id": f"{q['id']}-off", "kind": "off_corpus",
                                         "context": all_paragraphs[best][1]})
    return examples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    articles = load(args.data)
    order = sorted(range(len(articles)), key=lambda i: articles[i]["title"])
    heldout = set(random.Random(SEED).sample(order, HELDOUT_ARTICLES))
    train = [articles[i] for i in order if i not in heldout]
    held = [articles[i] for i in order if i in heldout]
    args.out.mkdir(parents=True, exist_ok=True)
    summary = {"data": str(args.data.name), "md5": md5(args.data), "seed": SEED,
               "heldout_articles": sorted(a["title"] for a in held)}
    for name, part, rng in (("train", train, random.Random(SEED)), ("heldout", held, random.Random(SEED + 1))):
        examples = build(part, rng)  # a stream per part: a change to one part leaves the other's draws alone
        rng.shuffle(examples)
        with open(args.out / f"examples.{name}.jsonl", "w", encoding="utf-8") as fh:
            fh.writelines(json.dumps(example, ensure_ascii=False) + "\n" for example in examples)
        summary[name] = dict(Counter(e["kind"] for e in examples))
    (args.out / "examples.json").write_text(json.dumps(summary, indent=1))
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
