"""Chroma's in-memory vector index alone: RSS while N chunks go into one collection, with no model loaded.

    python benchmarks/vector_index_memory.py [--chunks 351000]     # ~20 min on 2 busy cores

Why: an ingest's memory is the process (model, onnxruntime arena, Python: benchmarks/ingest_memory.py measures it
whole) plus chromadb's index of the *whole collection*, which grows with every chunk. Running the largest file
`max_file_mb` allows (a 200 MB JSON Lines corpus is about 351,000 chunks) would take some 7 hours of embedding here;
this measures the part that grows, at that size, in 20 minutes: random unit vectors (fixed seed), with texts and
metadata the size of ours, added in batches of 256 through chromadb's own PersistentClient. Writes
benchmarks/results/vector_index_memory.json.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import numpy as np

import _common as c

BATCH = 256


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=351_000)
    args = parser.parse_args()
    import chromadb

    with tempfile.TemporaryDirectory() as folder:
        client = chromadb.PersistentClient(path=folder)
        collection = client.get_or_create_collection("chunks", metadata={"hnsw:space": "cosine"},
                                                     embedding_function=None)
        rng, text = np.random.default_rng(0), "word " * 110  # ~550 characters, a typical chunk
        start, started, samples = c.rss_mb(os.getpid()), time.time(), []
        for i in range(0, args.chunks, BATCH):
            n = min(BATCH, args.chunks - i)
            vectors = rng.standard_normal((n, 384)).astype(np.float32)
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            rows = range(i, i + n)
            collection.add(ids=[f"d{j // 8}:x:{j}" for j in rows], embeddings=vectors, documents=[text] * n,
                           metadatas=[{"doc_id": f"d{j // 8}", "sha256": "x" * 64, "paragraph": j % 8, "chunk": 0,
                                       "title": "t" * 40, "start": 0, "end": 550} for j in rows])
            if (i // BATCH) % 100 == 0:
                samples.append((i + n, round(c.rss_mb(os.getpid()))))
                print(f"{i + n:,} chunks: {samples[-1][1]} MB", flush=True)
        end = c.rss_mb(os.getpid())
    result = {"chunks": args.chunks, "rss_start_mb": round(start), "rss_end_mb": round(end),
              "kb_per_chunk": round((end - start) * 1024 / args.chunks, 2), "seconds": round(time.time() - started),
              "samples_chunks_rss_mb": samples}
    out = c.write_result("vector_index_memory", result)
    print(c.table(["chunks", "RSS start MB", "RSS end MB", "KB per chunk"],
                  [[f"{args.chunks:,}", result["rss_start_mb"], result["rss_end_mb"], result["kb_per_chunk"]]]))
    print(f"Results: {out.relative_to(c.ROOT)}")


if __name__ == "__main__":
    main()
