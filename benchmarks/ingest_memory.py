"""Peak memory while ingesting one huge text file (generated prose, benchmarks/prose.py) into a fresh index.

    python benchmarks/ingest_memory.py [--megabytes 50] [--keep]

Runs the real `assistant ingest` in a child process and samples its resident memory (VmRSS) twice a second; the
peak is the kernel's own high-water mark (ru_maxrss of the child). Target: <= 1.5 GB for a 50 MB file. Needs no
dataset. Writes benchmarks/results/ingest_memory.json. Expect it to take long: 50 MB is about 110,000 paragraphs
(some 20 minutes of embedding on 2 idle cores).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _common as c
from prose import write_prose

TARGET_GB = 1.5


def rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def measure(text_file: Path, index_dir: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ASSISTANT_", "OPENAI_"))}
    env.update(ASSISTANT_INDEX_DIR=str(index_dir), ASSISTANT_CORPUS_DIR=str(index_dir / "none"),
               PYTHONPATH=str(c.ROOT))
    started = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-m", "assistant.cli", "ingest", "--quiet", "--json", str(text_file)],
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    samples = []
    while child.poll() is None:
        mb = rss_mb(child.pid)
        if mb is not None:
            samples.append((round(time.perf_counter() - started, 1), round(mb)))
        time.sleep(0.5)
    out, err = child.communicate()
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    if child.returncode != 0:
        raise SystemExit(f"ingest failed ({child.returncode}): {err[-2000:]}")
    report = json.loads(out)
    return {"file_megabytes": round(text_file.stat().st_size / 1e6, 1), "paragraphs": report["paragraphs"],
            "chunks": report["chunks"], "seconds": round(seconds, 1), "peak_rss_mb": round(peak_mb),
            "rss_samples_mb": samples[:: max(1, len(samples) // 60)]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=float, default=50.0)
    parser.add_argument("--keep", action="store_true", help="keep the generated file and index (printed)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="ingest-memory-"))
    text_file = write_prose(folder / "huge.txt", args.megabytes)
    print(f"Ingesting {text_file} ({text_file.stat().st_size / 1e6:.1f} MB) ...", flush=True)
    result = measure(text_file, folder / "index")
    result["target_gb"] = TARGET_GB
    result["met"] = result["peak_rss_mb"] <= TARGET_GB * 1024
    path = c.write_result("ingest_memory", result)
    print(c.table(["file MB", "paragraphs", "chunks", "seconds", "peak RSS MB", f"target <= {TARGET_GB} GB"],
                  [[result["file_megabytes"], result["paragraphs"], result["chunks"], result["seconds"],
                    result["peak_rss_mb"], "met" if result["met"] else "NOT met"]]))
    print(f"Results: {path.relative_to(c.ROOT)}")
    if args.keep:
        print(f"Kept: {folder}")
    else:
        import shutil

        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
