"""Soak: chat sessions against a real `assistant serve` while another process writes the index; then the peak
memory of ingesting one large text file.

    python benchmarks/soak.py [--sessions 20] [--seconds 60] [--big-mb 50] [--writer index|api]

1. A server (`python -m assistant.cli serve`, its own process) on a fresh index of seeds/ on a free loopback port.
2. `--sessions` chat sessions at once for `--seconds`, each a conversation through POST /v1/chat/completions
   (half of them streaming) that sends its own history with every question. An error is any request that does
   not end in a complete answer: a non-200 status, an error event in a stream, an exception, an empty answer.
   Declines are answers, not errors. Latency is from the request to the complete answer.
3. Meanwhile another process ingests and removes generated documents in a loop: `--writer index` (default)
   opens the same index folder with the Python API, so the server must see another process's writes;
   `--writer api` uploads and deletes through POST/DELETE /v1/documents instead.
4. The server's RSS (/proc/PID/status VmRSS) at the start (after one warm-up question), at the end, and its
   peak, sampled every 0.5 s.
5. A `--big-mb` text file of generated prose-like text (a fixed vocabulary in random sentences, seed 7; no
   dataset text) ingested by `assistant ingest` into a fresh index in its own process; its peak RSS, sampled
   every 0.25 s, and the time it took. Embedding 50 MB takes about 15 minutes on an idle 2-core machine, far
   longer on a busy one: after `--big-limit` seconds the ingest is stopped, and the result says how far it got
   (the peak until then is the figure). `--big-mb 0` skips this.

Writes benchmarks/results/soak.json. Everything runs on 127.0.0.1 and stops by itself.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import _common as c

SEEDS = c.ROOT / "seeds"
QUESTIONS = ["In which province were the airstrikes carried out?", "Who ordered the airstrikes?",
             "Who is the director of communications for US Central Command?", "and what did he say?",
             "What did the US airstrikes in Syria target?", "Who ordered the assassination of Qasem Soleimani?",
             "Why were the strikes necessary?", "What is the capital of France?"]
WORDS = ("the station river council harbour report survey engineers winter village bridge market season "
         "committee rainfall museum archive railway forest island mayor workers school valley lighthouse "
         "farmers budget energy storm coast hospital library students festival factory mountain ferry").split()
VERBS = "opened studied repaired announced measured described visited expanded closed recorded".split()


def prose(rng: random.Random, sentences: int) -> str:
    """Sentences of plain words, like a report: enough variety for BM25 and the embedder to do real work."""
    out = []
    for _ in range(sentences):
        words = [rng.choice(WORDS) for _ in range(rng.randint(6, 14))]
        words.insert(rng.randint(1, len(words) - 1), rng.choice(VERBS))
        if rng.random() < 0.3:
            words.append(f"in {rng.randint(1900, 2025)}")
        out.append(" ".join(words).capitalize() + ".")
    return " ".join(out)


def write_prose_file(path: Path, megabytes: float, seed: int = 7) -> int:
    """A text file of about `megabytes` MB: a title line, then paragraphs of 3-8 sentences. Returns its size."""
    rng = random.Random(seed)
    target = int(megabytes * 1_048_576)
    size = 0
    with path.open("w", encoding="utf-8") as out:
        out.write("Generated field reports\n\n")
        while size < target:
            paragraph = prose(rng, rng.randint(3, 8)) + "\n\n"
            out.write(paragraph)
            size += len(paragraph.encode())
    return path.stat().st_size


class Sampler(threading.Thread):
    """Samples a process's RSS until stopped: peak and last value, in MB."""

    def __init__(self, pid: int, every: float) -> None:
        super().__init__(daemon=True)
        self.pid, self.every, self.peak, self.last = pid, every, 0.0, None
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            value = c.rss_mb(self.pid)
            if value is not None:
                self.peak, self.last = max(self.peak, value), value
            self.done.wait(self.every)

    def stop(self) -> None:
        self.done.set()
        self.join()


# --- the chat sessions -----------------------------------------------------------------------------------
def chat_session(number: int, url: str, deadline: float, record: list, errors: list) -> None:
    import httpx

    stream = number % 2 == 1
    history: list[dict] = []
    with httpx.Client(base_url=url, timeout=300) as http:
        turn = 0
        while time.monotonic() < deadline:
            question = QUESTIONS[(number + turn) % len(QUESTIONS)]
            turn += 1
            body = {"model": "assistant", "messages": history[-4:] + [{"role": "user", "content": question}],
                    "stream": stream}
            started = time.perf_counter()
            try:
                text, problem = (_streamed if stream else _plain)(http, body)
            except Exception as exc:  # a dropped connection, a timeout: an error, and the session goes on
                text, problem = "", f"{type(exc).__name__}: {exc}"
            seconds = time.perf_counter() - started
            if problem or not text.strip():
                errors.append({"session": number, "question": question, "error": problem or "empty answer"})
                continue
            record.append(seconds)
            history += [{"role": "user", "content": question}, {"role": "assistant", "content": text}]


def _plain(http, body: dict) -> tuple[str, str | None]:
    response = http.post("/v1/chat/completions", json=body)
    if response.status_code != 200:
        return "", f"HTTP {response.status_code}: {response.text[:300]}"
    return response.json()["choices"][0]["message"]["content"], None


def _streamed(http, body: dict) -> tuple[str, str | None]:
    text, finished = "", False
    with http.stream("POST", "/v1/chat/completions", json=body) as response:
        if response.status_code != 200:
            return "", f"HTTP {response.status_code}: {response.read()[:300]!r}"
        for line in response.iter_lines():
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            event = json.loads(line[len("data: "):])
            if "error" in event:
                return "", f"stream error: {event['error'].get('message')}"
            for choice in event.get("choices", []):
                text += choice["delta"].get("content") or ""
                finished = finished or choice.get("finish_reason") == "stop"
    return (text, None) if finished else (text, "the stream ended without finish_reason 'stop'")


# --- the writer ----------------------------------------------------------------------------------------------
def writer_loop(mode: str, target: str, folder: Path, seconds: float) -> None:
    """Runs in its own process: ingest a new generated document, remove it, again, until the time is up.
    Prints one JSON line: {"cycles", "errors"}."""
    rng = random.Random(11)
    folder.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + seconds
    cycles, errors = 0, []
    if mode == "index":
        from assistant import Assistant

        writer = Assistant(index_dir=target, corpus_dir=folder / "none")
    else:
        import httpx

        http = httpx.Client(base_url=target, timeout=300)
    while time.monotonic() < deadline:
        name = f"writer-{cycles}.txt"
        path = folder / name
        path.write_text(f"Writer report {cycles}\n\n" + "\n\n".join(prose(rng, 5) for _ in range(20)),
                        encoding="utf-8")
        try:
            if mode == "index":
                report = writer.ingest([path])
                writer.remove(report.added[0])
            else:
                with path.open("rb") as fh:
                    result = http.post("/v1/documents", files=[("files", (name, fh, "text/plain"))]).json()
                if not result["results"][0]["ok"]:
                    raise RuntimeError(result["results"][0]["message"])
                http.delete(f"/v1/documents/{name}").raise_for_status()
            cycles += 1
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}"[:300])
            time.sleep(0.5)
        path.unlink(missing_ok=True)
    print(json.dumps({"cycles": cycles, "errors": errors}))


# --- the large file ----------------------------------------------------------------------------------------
def ingest_big_file(folder: Path, megabytes: float, limit: float) -> dict:
    """`assistant ingest` of one generated file in its own process, its RSS sampled; stopped after `limit` s
    (then the result says how far the embedding got: the peak until then is what was measured)."""
    big = folder / "big" / "field-reports.txt"
    big.parent.mkdir(parents=True)
    size = write_prose_file(big, megabytes)
    env = {**os.environ, "ASSISTANT_INDEX_DIR": str(folder / "big-index"), "ASSISTANT_CORPUS_DIR": str(big.parent)}
    log = folder / "big-ingest.log"
    started = time.perf_counter()
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "assistant.cli", "ingest", str(big)], cwd=c.ROOT, env=env,
                                stdout=out, stderr=subprocess.STDOUT)
        sampler = Sampler(proc.pid, 0.25)
        sampler.start()
        try:
            proc.wait(limit)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        sampler.stop()
    text = log.read_text(errors="replace")
    progress = re.findall(r"(\d+)%\|", text)
    finished = proc.returncode == 0
    return {"file_mb": round(size / 1_048_576, 1), "finished": finished, "exit_code": proc.returncode,
            "embedding_progress_percent": 100 if finished else int(progress[-1]) if progress else 0,
            "peak_rss_mb": round(sampler.peak), "seconds": round(time.perf_counter() - started, 1),
            "time_limit_s": limit, "output_tail": text.replace("\r", "\n").strip().splitlines()[-1][:300]}


def percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--big-mb", type=float, default=50.0)
    parser.add_argument("--big-limit", type=float, default=1200.0, help="seconds before the big ingest is stopped")
    parser.add_argument("--writer", choices=["index", "api"], default="index")
    parser.add_argument("--writer-loop", nargs=3, metavar=("MODE", "TARGET", "FOLDER"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    c.clean_env()
    if args.writer_loop:
        mode, target, folder = args.writer_loop
        return writer_loop(mode, target, Path(folder), args.seconds)

    load_at_start = [round(x, 2) for x in os.getloadavg()]
    with tempfile.TemporaryDirectory(prefix="soak-") as tmp:
        folder = Path(tmp)
        server, url = c.start_server(folder, {**os.environ, "ASSISTANT_CORPUS_DIR": str(SEEDS)})
        try:
            import httpx

            httpx.post(url + "/v1/ask", json={"question": QUESTIONS[0]}, timeout=300).raise_for_status()
            rss_start = c.rss_mb(server.pid)
            sampler = Sampler(server.pid, 0.5)
            sampler.start()
            target = str(folder / "index") if args.writer == "index" else url
            writer = subprocess.Popen([sys.executable, __file__, "--seconds", str(args.seconds), "--writer-loop",
                                       args.writer, target, str(folder / "writer")],
                                      cwd=c.ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            latencies: list[float] = []
            errors: list[dict] = []
            deadline = time.monotonic() + args.seconds
            sessions = [threading.Thread(target=chat_session, args=(n, url, deadline, latencies, errors))
                        for n in range(args.sessions)]
            started = time.perf_counter()
            for session in sessions:
                session.start()
            for session in sessions:
                session.join()
            elapsed = time.perf_counter() - started
            out, err = writer.communicate(timeout=600)
            sampler.stop()
            written = json.loads(out.strip().splitlines()[-1]) if out.strip() else {"cycles": 0,
                                                                                    "errors": [err[-300:]]}
            health = httpx.get(url + "/healthz", timeout=60).json()
        finally:
            server.terminate()
            server.wait(60)
        soak = {"sessions": args.sessions, "seconds": round(elapsed, 1), "writer": args.writer,
                "answers": len(latencies), "errors": len(errors), "error_examples": errors[:5],
                "answers_per_s": round(len(latencies) / elapsed, 2),
                "latency_p50_s": round(percentile(latencies, 0.5) or 0, 2),
                "latency_p95_s": round(percentile(latencies, 0.95) or 0, 2),
                "server_rss_start_mb": round(rss_start or 0), "server_rss_end_mb": round(sampler.last or 0),
                "server_rss_peak_mb": round(sampler.peak), "writer_cycles": written["cycles"],
                "writer_errors": len(written["errors"]), "writer_error_examples": written["errors"][:3],
                "healthz_after": health}
        print(json.dumps(soak, indent=2))
        big = ingest_big_file(folder, args.big_mb, args.big_limit) if args.big_mb > 0 else None
        if big:
            print(json.dumps(big, indent=2))
    path = c.write_result("soak", {"soak": soak, "big_file_ingest": big, "load_average_at_start": load_at_start})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
