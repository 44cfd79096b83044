"""Peak memory while ingesting one huge file (generated prose, benchmarks/prose.py) into a fresh index.

    python benchmarks/ingest_memory.py [--megabytes 50] [--keep]          # one text file: one huge document
    python benchmarks/ingest_memory.py --jsonl [--megabytes 15] [--keep]  # one JSON Lines file of many articles

Runs the real `assistant ingest` in a child process and samples its resident memory (VmRSS) twice a second,
together with the chunks embedded so far (read from the progress bar); the peak is the kernel's own high-water
mark (ru_maxrss of the child). Needs no dataset. Writes benchmarks/results/ingest_memory.json (or
ingest_memory_jsonl.json).

What the JSON Lines mode answers: is anything held for the whole file, or does memory grow only with chromadb's
in-memory vector index (which holds every chunk of the collection, whichever file it came from)? It reports the
slope of RSS against chunks (MB per 1,000 chunks) in the first and second half of the run (a constant slope is
the index; a per-file leak would show as well, but so would the index, so the third figure separates them): the
peak RSS of a fresh `assistant ask` process on the finished index, which holds the index and the model but has
never seen the file. Expect it to take long: 50 MB of text is about 89,000 chunks (some 20 minutes of embedding on
2 idle cores), 12 MB of JSON Lines about 21,000 (15 minutes on 2 shared cores).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import _common as c
from prose import write_prose, write_prose_jsonl

TARGET_GB = 1.5
_PROGRESS = re.compile(r"Embedding: (\d+)chunk")


def child_env(index_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ASSISTANT_", "OPENAI_"))}
    env.update(ASSISTANT_INDEX_DIR=str(index_dir), ASSISTANT_CORPUS_DIR=str(index_dir / "none"),
               PYTHONPATH=str(c.ROOT))
    return env


def measure(path: Path, index_dir: Path) -> dict:
    """Ingest `path` in a child process; its RSS and embedded chunks over time, and its peak."""
    started = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-m", "assistant.cli", "ingest", "--json", str(path)],
                             env=child_env(index_dir), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    progress = {"chunks": 0, "stderr": ""}

    def follow_progress() -> None:  # tqdm writes "Embedding: 1234chunk [...]" with carriage returns
        while data := os.read(child.stderr.fileno(), 4096):  # what is there, not a full 4 KB
            text = data.decode(errors="replace")
            progress["stderr"] = (progress["stderr"] + text)[-4000:]
            if found := _PROGRESS.findall(text):
                progress["chunks"] = int(found[-1])

    output: list[bytes] = []  # the report comes at the end, and may not fit the pipe: read it as it comes
    readers = [threading.Thread(target=follow_progress, daemon=True),
               threading.Thread(target=lambda: output.append(child.stdout.read()), daemon=True)]
    for reader in readers:
        reader.start()
    samples = []
    while True:
        pid, status, usage = os.wait4(child.pid, os.WNOHANG)
        if pid:
            break
        mb = c.rss_mb(child.pid)
        if mb is not None:
            samples.append((round(time.perf_counter() - started, 1), round(mb), progress["chunks"]))
        time.sleep(0.5)
    child.returncode = os.waitstatus_to_exitcode(status)
    for reader in readers:
        reader.join(timeout=30)
    seconds = time.perf_counter() - started
    peak_mb = usage.ru_maxrss / 1024
    if child.returncode != 0:
        raise SystemExit(f"ingest failed ({child.returncode}): {progress['stderr'][-2000:]}")
    report = json.loads(b"".join(output))
    return {"file_megabytes": round(path.stat().st_size / 1e6, 1), "documents": len(report.get("added", [])),
            "paragraphs": report["paragraphs"], "chunks": report["chunks"], "seconds": round(seconds, 1),
            "peak_rss_mb": round(peak_mb), "samples": samples}


def slope_mb_per_1000(samples: list[tuple[float, int, int]]) -> float | None:
    """Least-squares slope of RSS (MB) against chunks embedded, per 1,000 chunks."""
    points = [(chunks, mb) for _, mb, chunks in samples if chunks > 0]
    if len(points) < 3 or points[-1][0] == points[0][0]:
        return None
    n = len(points)
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    var = sum((x - mean_x) ** 2 for x, _ in points)
    return round(1000 * sum((x - mean_x) * (y - mean_y) for x, y in points) / var, 1) if var else None


def fresh_reader_peak(index_dir: Path) -> float:
    """Peak RSS (MB) of a new `assistant ask` process on the finished index: the index and the model, no file."""
    proc = subprocess.Popen([sys.executable, "-m", "assistant.cli", "ask", "When was the northern bridge rebuilt?",
                             "--json"], env=child_env(index_dir), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"ask failed: {proc.stderr.read()[-2000:]}")
    return usage.ru_maxrss / 1024


def corpus_figures(result: dict, index_dir: Path) -> None:
    """Add the slope of each half of the run, and the fresh reader's peak, to `result`."""
    samples = [s for s in result["samples"] if s[2] > 0]
    half = result["chunks"] // 2
    result["slope_mb_per_1000_chunks"] = {"whole run": slope_mb_per_1000(samples),
                                          "first half": slope_mb_per_1000([s for s in samples if s[2] <= half]),
                                          "second half": slope_mb_per_1000([s for s in samples if s[2] > half])}
    result["fresh_ask_process_peak_rss_mb"] = round(fresh_reader_peak(index_dir))
    result["ingest_peak_minus_fresh_ask_mb"] = result["peak_rss_mb"] - result["fresh_ask_process_peak_rss_mb"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=float, help="size of the generated file (default 50, or 15 with --jsonl)")
    parser.add_argument("--jsonl", action="store_true", help="one JSON Lines corpus of short articles")
    parser.add_argument("--keep", action="store_true", help="keep the generated file and index (printed)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="ingest-memory-"))
    if args.jsonl:
        path = write_prose_jsonl(folder / "corpus.jsonl", args.megabytes or 15.0)
    else:
        path = write_prose(folder / "huge.txt", args.megabytes or 50.0)
    print(f"Ingesting {path} ({path.stat().st_size / 1e6:.1f} MB) ...", flush=True)
    result = measure(path, folder / "index")
    if args.jsonl:
        corpus_figures(result, folder / "index")
    result["target_gb"] = TARGET_GB
    result["met"] = result["peak_rss_mb"] <= TARGET_GB * 1024
    samples = result.pop("samples")
    result["samples_seconds_rss_mb_chunks"] = samples[:: max(1, len(samples) // 60)] + samples[-1:]
    out = c.write_result("ingest_memory_jsonl" if args.jsonl else "ingest_memory", result)
    print(c.table(["file MB", "documents", "paragraphs", "chunks", "seconds", "peak RSS MB",
                   f"target <= {TARGET_GB} GB"],
                  [[result["file_megabytes"], result["documents"], result["paragraphs"], result["chunks"],
                    result["seconds"], result["peak_rss_mb"], "met" if result["met"] else "NOT met"]]))
    if args.jsonl:
        print(f"RSS slope, MB per 1,000 chunks: {result['slope_mb_per_1000_chunks']}; a fresh `ask` process on "
              f"the finished index peaks at {result['fresh_ask_process_peak_rss_mb']} MB")
    print(f"Results: {out.relative_to(c.ROOT)}")
    if args.keep:
        print(f"Kept: {folder}")
    else:
        import shutil

        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
