"""What llama-index's ChromaVectorStore adds over writing to Chroma directly (the claim in assistant/index.py).

    pip install -e '.[bench]' && python benchmarks/llamaindex_overhead.py [--n 2000] [--repeats 3]

The same N news_dev paragraphs with precomputed vectors (taken from the cached news_dev index, so no embedding is
timed) are added to a fresh persistent Chroma folder twice: as llama-index TextNodes through
`ChromaVectorStore.add`, and with `collection.add` (ids, vectors, texts, the metadata our index keeps). Both
collections use cosine HNSW. Reported: seconds to add (median of --repeats fresh folders, alternating the order)
and the folder's size on disk (and its SQLite part, where the metadata lives). Writes benchmarks/results/llamaindex_overhead.json.
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    folder = c.require("news_dev.corpus.jsonl")
    assistant = c.assistant_for(folder / "news_dev.corpus.jsonl")
    chunks = list(itertools.islice(assistant.index.store.chunks(), args.n))
    vectors = assistant.index.store.vectors([r.id for r in chunks])
    keep = ("doc_id", "title", "paragraph", "chunk", "start", "end", "sha256")
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
            "llama_index_over_chromadb": {"seconds": round(ratio_s, 2), "disk": round(ratio_b, 2)}}
    path = c.write_result("llamaindex_overhead", data)
    print(c.table(["writer", "paragraphs", "add seconds (median)", "folder MB (median)", "of which SQLite MB"],
                  [[name, len(rows["ids"]), s["seconds_median"], s["megabytes_median"], s["sqlite_megabytes_median"]]
                   for name, s in summary.items()]))
    print(f"\nllama-index / chromadb: {ratio_s:.2f}x time, {ratio_b:.2f}x disk "
          f"({text_bytes / 1e6:.2f} MB of paragraph text). Results: {path.relative_to(c.ROOT)}")


if __name__ == "__main__":
    main()
