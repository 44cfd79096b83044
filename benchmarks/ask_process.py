"""An `ask` process at 30k paragraphs: time to its first answer, latency of the next ones, and its memory.

    python benchmarks/ask_process.py [--source DIR] [--questions 60] [--runs 3] [--label NAME]

Each run is a fresh Python process that opens the news_scale index (built by benchmarks/scale.py, reused from
benchmarks/.cache/index/news_scale), asks the news_dev_on_scale questions through `Assistant.ask` and reports:
- first_answer_s: from the process's start (imports included) to its first answer, as `assistant ask` would;
- ask p50 / p95 over the questions after the first;
- peak RSS (ru_maxrss) at the end.
`--source DIR` runs another checkout's code (e.g. a `git worktree` of an earlier commit) with the same packages and
index, so that before and after are measured on the same machine in the same session. Results are appended under
`--label` in benchmarks/results/ask_process.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import _common as c

CHILD = r"""
import json, resource, sys, time
started = time.perf_counter()
from assistant import Assistant
index_dir, corpus_dir, questions_file, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
questions = [json.loads(line)["question"] for line in open(questions_file)][:n]
a = Assistant(index_dir=index_dir, corpus_dir=corpus_dir)
first = a.ask(questions[0])
first_s = time.perf_counter() - started
times = []
for q in questions[1:]:
    t = time.perf_counter()
    a.ask(q)
    times.append((time.perf_counter() - t) * 1000)
print(json.dumps({"first_answer_s": first_s, "ms": times,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run_once(source: Path, index: Path, questions: Path, n: int) -> dict:
    env = {**os.environ, "PYTHONPATH": str(source)}
    out = subprocess.run([sys.executable, "-c", CHILD, str(index), str(c.CACHE / "no-corpus"), str(questions),
                          str(n)], env=env, capture_output=True, text=True, check=True, cwd=source)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=c.ROOT, help="the checkout whose code runs")
    parser.add_argument("--questions", type=int, default=60)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--label", default="current")
    args = parser.parse_args()
    folder = c.require("news_dev_on_scale.qa.jsonl")
    index = c.CACHE / "index" / "news_scale"
    if not index.is_dir():
        sys.exit("no news_scale index: run `python benchmarks/scale.py` first")
    runs = [run_once(args.source.resolve(), index, folder / "news_dev_on_scale.qa.jsonl", args.questions)
            for _ in range(args.runs)]
    ms = [m for r in runs for m in r["ms"]]
    ms.sort()
    result = {"source": str(args.source), "commit": c.commit(args.source.resolve()),
              "date": time.strftime("%Y-%m-%d %H:%M:%S"), "runs": args.runs, "questions_per_run": args.questions,
              "first_answer_s (median of runs)": round(statistics.median(r["first_answer_s"] for r in runs), 2),
              "ask_ms_p50": round(statistics.median(ms), 1), "ask_ms_p95": round(ms[int(0.95 * (len(ms) - 1))], 1),
              "peak_rss_mb (median of runs)": round(statistics.median(r["peak_rss_mb"] for r in runs), 1)}
    path = c.RESULTS / "ask_process.json"
    previous = json.loads(path.read_text()) if path.is_file() else {}
    previous = {k: v for k, v in previous.items() if k not in ("benchmark", "date", "commit", "machine")}
    previous[args.label] = result
    c.write_result("ask_process", previous)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
