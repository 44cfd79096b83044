"""What llama-index adds over our own code: writing to Chroma through its vector store (the claim in
assistant/index/paragraphs.py), and reading through our llama-index adapters (Assistant.as_retriever / as_query_engine).

    pip install -e '.[bench]' && python benchmarks/llamaindex_overhead.py [--n 2000] [--repeats 3] [--questions 200]

Write: the same N news_dev paragraphs with precomputed vectors (taken from the cached news_dev index, so no
embedding is timed) are added to a fresh persistent Chroma folder twice: as llama-index TextNodes through
`ChromaVectorStore.add`, and with `collection.add` (ids, vectors, texts, the metadata our index keeps). Both
collections use cosine HNSW. Reported: seconds to add (median of --repeats fresh folders, alternating the order)
and the folder's size on disk (and its SQLite part, where the metadata lives).

Read: the news_dev questions through `Assistant.retrieve` and `as_retriever().retrieve` (top 5), and through
`Assistant.ask` and `as_query_engine().query` (offline answers), alternating per question after one warm-up pass.
Reported: median and p95 milliseconds per question and the median difference. Writes
benchmarks/results/llamaindex_overhead.json.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import _common as c


def folder_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def open_collection(path: Path):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    client = chromadb.PersistentClient(path=str(path), settings=ChromaSettings(anonymized_telemetry=False))
    return client, client.get_or_create_collection("paragraphs", configuration={"hnsw": {"space": "cosine"}},
                                                   embedding_function=None)


def add_direct(path: Path, rows: dict) -> float:
    client, collection = open_collection(path)
    started = time.perf_counter()
    collection.add(ids=rows["ids"], embeddings=rows["embeddings"], documents=rows["documents"],
                   metadatas=rows["metadatas"])
    seconds = time.perf_counter() - started
    del collection, client
    return seconds


def add_llamaindex(path: Path, rows: dict) -> float:
    from llama_index.core.schema import TextNode
    from llama_index.vector_stores.chroma import ChromaVectorStore

    client, collection = open_collection(path)
    store = ChromaVectorStore(chroma_collection=collection)
    started = time.perf_counter()
    nodes = [TextNode(id_=i, text=text, embedding=list(map(float, vector)), metadata=meta)
             for i, text, vector, meta in zip(rows["ids"], rows["documents"], rows["embeddings"], rows["metadatas"])]
    store.add(nodes)
    seconds = time.perf_counter() - started
    del store, collection, client
    return seconds


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def read_overhead(assistant, questions: list[str]) -> dict:
    """Milliseconds per question: our calls and their llama-index adapters, alternating which goes first."""
    retriever, engine = assistant.as_retriever(top_k=5), assistant.as_query_engine(mode="offline")
    pairs = {"retrieve": (lambda q: assistant.retrieve(q, top_k=5), retriever.retrieve),
             "answer": (lambda q: assistant.ask(q, top_k=5, mode="offline"), engine.query)}
    results = {}
    for name, (ours, adapter) in pairs.items():
        for q in questions[:20]:  # warm-up: models, BM25, caches
            ours(q), adapter(q)
        times: dict[str, list[float]] = {"ours": [], "llama-index": []}
        for i, q in enumerate(questions):
            order = [("ours", ours), ("llama-index", adapter)]
            for label, call in order if i % 2 == 0 else reversed(order):
                started = time.perf_counter()
                call(q)
                times[label].append((time.perf_counter() - started) * 1000)
        diffs = [a - b for a, b in zip(times["llama-index"], times["ours"])]
        results[name] = {label: {"median_ms": round(statistics.median(t), 2), "p95_ms": round(percentile(t, 0.95), 2)}
                         for label, t in times.items()}
        results[name]["median_difference_ms"] = round(statistics.median(diffs), 3)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--questions", type=int, default=200)
    args = parser.parse_args()
    folder = c.require("news_dev.corpus.jsonl", "news_dev.qa.jsonl")
    assistant = c.assistant_for(folder / "news_dev.corpus.jsonl")
    questions = [q["question"] for q in c.read_jsonl(folder / "news_dev.qa.jsonl")][:args.questions]
    reads = read_overhead(assistant, questions)
    chunks = list(itertools.islice(assistant.index.store.chunks(), args.n))
    vectors = assistant.index.store.vectors([r.id for r in chunks])
    keep = ("doc_id", "title", "paragraph", "chunk", "start", "end", "sha256", "head")
    rows = {"ids": [r.id for r in chunks], "embeddings": [list(map(float, vectors[r.id])) for r in chunks],
            "documents": [r.text for r in chunks], "metadatas": [{k: r.meta[k] for k in keep if k in r.meta}
                                                                 for r in chunks]}
    text_bytes = sum(len(t.encode()) for t in rows["documents"])
    results: dict[str, dict[str, list]] = {name: {"seconds": [], "bytes": [], "sqlite_bytes": []}
                                           for name in ("chromadb", "llama-index")}
    runners = {"chromadb": add_direct, "llama-index": add_llamaindex}
    for repeat in range(args.repeats):
        order = list(runners) if repeat % 2 == 0 else list(reversed(runners))
        for name in order:
            with tempfile.TemporaryDirectory(prefix=f"li-overhead-{name}-") as tmp:
                path = Path(tmp) / "chroma"
                seconds = runners[name](path, rows)
                gc.collect()
                time.sleep(0.5)
                results[name]["seconds"].append(round(seconds, 3))
                results[name]["bytes"].append(folder_bytes(path))
                results[name]["sqlite_bytes"].append(sum(f.stat().st_size for f in path.glob("chroma.sqlite3*")))
                shutil.rmtree(path, ignore_errors=True)
    summary = {name: {"seconds_median": round(statistics.median(r["seconds"]), 3),
                      "megabytes_median": round(statistics.median(r["bytes"]) / 1e6, 2),
                      "sqlite_megabytes_median": round(statistics.median(r["sqlite_bytes"]) / 1e6, 2), **r}
               for name, r in results.items()}
    ratio_s = summary["llama-index"]["seconds_median"] / summary["chromadb"]["seconds_median"]
    ratio_b = summary["llama-index"]["megabytes_median"] / summary["chromadb"]["megabytes_median"]
    data = {"n": len(rows["ids"]), "text_megabytes": round(text_bytes / 1e6, 2), "results": summary,
            "llama_index_over_chromadb": {"seconds": round(ratio_s, 2), "disk": round(ratio_b, 2)},
            "read": {"questions": len(questions), **reads}}
    path = c.write_result("llamaindex_overhead", data)
    print(c.table(["writer", "paragraphs", "add seconds (median)", "folder MB (median)", "of which SQLite MB"],
                  [[name, len(rows["ids"]), s["seconds_median"], s["megabytes_median"], s["sqlite_megabytes_median"]]
                   for name, s in summary.items()]))
    print(f"\nllama-index / chromadb: {ratio_s:.2f}x time, {ratio_b:.2f}x disk "
          f"({text_bytes / 1e6:.2f} MB of paragraph text).\n")
    print(c.table(["call", "ours: median ms", "p95 ms", "llama-index adapter: median ms", "p95 ms",
                   "median difference ms"],
                  [[f"{name} ({len(questions)} questions)", r["ours"]["median_ms"], r["ours"]["p95_ms"],
                    r["llama-index"]["median_ms"], r["llama-index"]["p95_ms"], r["median_difference_ms"]]
                   for name, r in reads.items()]))
    print(f"\nResults: {path.relative_to(c.ROOT)}")


if __name__ == "__main__":
    main()
