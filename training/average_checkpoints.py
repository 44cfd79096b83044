"""Average the weights of several checkpoints of one run (a uniform average of the last few, as in "model soups"
and checkpoint averaging), and score each checkpoint and the average on the held-out windows.

Why: the CPU recipe ends on a plateau (held-out AUC 0.904-0.905 over its last 1,500 steps) where single
checkpoints differ by noise in which examples they last saw; their average is often a little better than any
one of them, at no training cost. The held-out windows come from the 12 train articles no checkpoint trained on;
the dev sets are not read here.

    python -m training.average_checkpoints training/.cache/run/weights-00*.pt --out FILE.pt [--score-each]
    python -m training.export_reader --weights FILE.pt
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

import torch

from training.export_reader import load_model
from training.train_reader import CACHE, RECIPES, SEED, evaluate, featurize, read_examples


def average(checkpoints: list[dict]) -> dict:
    """The element-wise mean of the checkpoints' model weights (all from one architecture)."""
    states = [checkpoint["model"] for checkpoint in checkpoints]
    return {k: sum(s[k].float() for s in states) / len(states) if states[0][k].is_floating_point() else states[0][k]
            for k in states[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("weights", type=Path, nargs="+")
    parser.add_argument("--out", type=Path, required=True, help="where to write the averaged weights")
    parser.add_argument("--score-each", action="store_true", help="also score every checkpoint alone")
    parser.add_argument("--held-out", type=int, default=3000, help="held-out windows to score on")
    args = parser.parse_args()
    torch.manual_seed(SEED)
    recipe = RECIPES["cpu"]
    examples = read_examples(CACHE / "examples.heldout.jsonl")
    held = featurize(random.Random(SEED + 1).sample(examples, min(args.held_out, len(examples))),
                     recipe["max_len"], SEED)
    figures = {}
    if args.score_each:
        for path in args.weights:
            figures[path.name] = evaluate(load_model(path), held, "cpu", recipe["bf16"])
            print(path.name, json.dumps(figures[path.name]), flush=True)
    checkpoints = [torch.load(p, weights_only=False, map_location="cpu") for p in args.weights]
    torch.save({"model": average(checkpoints), "state": checkpoints[-1]["state"],  # the run's recipe, steps, hours
                "averaged": [p.name for p in args.weights]}, args.out)
    figures["average"] = evaluate(load_model(args.out), held, "cpu", recipe["bf16"])
    print("average", json.dumps(figures["average"]), flush=True)


if __name__ == "__main__":
    main()
