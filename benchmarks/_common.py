"""Helpers shared by the benchmark scripts: where the datasets are, cached indexes, results and tables.

Datasets are read from ../shared/datasets/ next to the repository (override with ASSISTANT_DATASETS). Indexes
are built once into benchmarks/.cache/ (ignored by git) and reused: re-ingesting an unchanged corpus costs only
the content-hash comparison.
"""

from __future__ import annotations

import json
import os
import platform
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "benchmarks" / ".cache"
RESULTS = ROOT / "benchmarks" / "results"

if str(ROOT) not in sys.path:  # `python benchmarks/NAME.py` from anywhere
    sys.path.insert(0, str(ROOT))


def datasets_dir() -> Path:
    return Path(os.environ.get("ASSISTANT_DATASETS") or Path(__file__).resolve().parents[2] / "shared" / "datasets")


def require(*names: str) -> Path:
    """The datasets folder, or exit 0 with a message when it (or a named file) is missing."""
    folder = datasets_dir()
    missing = [n for n in names if not (folder / n).is_file()]
    if missing:
        print(f"Datasets not found: {', '.join(str(folder / n) for n in missing)}\n"
              "Set ASSISTANT_DATASETS to the folder holding them (see ../shared/datasets/README.md). Skipping.")
        sys.exit(0)
    return folder


def read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def rss_mb(pid: int, field: str = "VmRSS") -> float | None:
    """A live process's resident memory in MB (VmRSS of /proc/PID/status; "VmHWM" for its peak so far), or None
    once it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(folder: Path, env: dict[str, str] | None = None, cwd: Path = ROOT) -> tuple[subprocess.Popen, str]:
    """`assistant serve` on a free port with its index in folder/index (environment: `env`, else this process's),
    started from `cwd` (another checkout's package, for before/after figures); returns once it serves."""
    port = free_port()
    env = {**(os.environ if env is None else env), "ASSISTANT_INDEX_DIR": str(folder / "index"), "PYTHONUNBUFFERED": "1"}
    log = (folder / "server.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "assistant.cli", "serve", "--port", str(port)], cwd=cwd, env=env,
                            stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 600
    while "Running on local URL" not in (folder / "server.log").read_text():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            sys.exit(f"the server did not start:\n{(folder / 'server.log').read_text()}")
        time.sleep(0.2)
    return proc, f"http://127.0.0.1:{port}"


def clean_env() -> None:
    """A developer's ASSISTANT_* settings (other than the datasets folder) must not change a benchmark."""
    for name in list(os.environ):
        if name.startswith(("ASSISTANT_", "OPENAI_")) and name != "ASSISTANT_DATASETS":
            del os.environ[name]


def assistant_for(corpus: Path, name: str | None = None, **overrides: Any):
    """An Assistant over a cached index of `corpus` (a .jsonl file or a folder), built on first use."""
    clean_env()
    from assistant import Assistant

    name = name or corpus.name.removesuffix(".jsonl").removesuffix(".corpus")
    folder = CACHE / "index" / name
    fresh = not folder.exists()
    assistant = Assistant(index_dir=folder, corpus_dir=corpus, **overrides)
    started = time.perf_counter()
    report = assistant.ingest([corpus])
    if fresh or report.added or report.updated:
        print(f"[index {name}] {report.summary()} ({time.perf_counter() - started:.1f} s)", file=sys.stderr)
    return assistant


def gold_keys(assistant, qa: dict) -> set[tuple[str, int]]:
    """(doc_id, paragraph) of every evidence item: given as such, or found as the paragraph whose whole text
    equals the evidence quote."""
    by_text = _paragraph_lookup(assistant)
    keys = set()
    for ev in qa.get("evidence", []):
        if "quote" not in ev:
            keys.add((ev["doc_id"], int(ev["paragraph"])))
            continue
        key = by_text.get((ev["doc_id"], ev["quote"].strip()))
        if key is not None:
            keys.add(key)
    return keys


_lookup_cache: dict[int, tuple[int, dict]] = {}


def _paragraph_lookup(assistant) -> dict[tuple[str, str], tuple[str, int]]:
    mirror = assistant.index.mirror()
    cached = _lookup_cache.get(id(assistant))
    if cached and cached[0] == mirror.revision:
        return cached[1]
    table = {(doc, p.text.strip()): (doc, number) for (doc, number), p in mirror.paragraphs.items()}
    _lookup_cache[id(assistant)] = (mirror.revision, table)
    return table


def machine() -> dict[str, Any]:
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform(),
            "load_average_at_end": [round(x, 2) for x in load] if load else None}


def commit(checkout: Path = ROOT) -> str:
    """A checkout's commit (this one by default), with "+changes" when its work tree differs from it."""
    import subprocess

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=checkout, capture_output=True, text=True).stdout.strip()

    try:
        head = git("rev-parse", "--short", "HEAD") or "unknown"
        return head + ("+changes" if git("status", "--porcelain", "--untracked-files=no") else "")
    except OSError:
        return "unknown"


def write_result(name: str, data: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    data = {"benchmark": name, "date": time.strftime("%Y-%m-%d %H:%M:%S"), "commit": commit(), **data,
            "machine": machine()}
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    return path


def table(headers: list[str], rows: list[list[Any]]) -> str:
    def cell(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:.3f}"
        return "" if v is None else str(v)

    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)
