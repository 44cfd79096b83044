"""Checking and rebuilding what lies below the rows of a Chroma store: its vector segments and our vector copy.

Rebuild, in order, so that a crash at any step leaves a usable index (`ChromaStore._finish_rebuild` completes or
drops a half-done one on the next open):
1. move a damaged segment folder aside, so chromadb serves the rows without it;
2. copy every row into a new collection `<name>.rebuild`, with its vector from vectors.sqlite3 (or from Chroma,
   or re-embedded from the row's own text when neither has it);
3. delete the old collection, rename the new one; then the same for the document rows.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator

import numpy as np

from assistant.errors import AssistantError
from assistant.index.store import chroma_files as files

PAGE = 1000


def problems(store, deep: bool) -> list[str]:
    """What is wrong with the store's vector segments, its row counts and (local) the vector copy."""
    found: list[str] = []
    if store.local:
        try:
            damaged = files.integrity_problems(store.folder) if deep else []
            found += files.segment_problems(store.folder, set(store.names))
        except sqlite3.Error as exc:
            raise store._failure(f"reading {files.SQLITE}", exc) from None
        if damaged:  # nothing below can be trusted, and only the documents' sources can rebuild it
            raise store._beyond_repair(RuntimeError(damaged[0]))
        found += store.copy.integrity()
    if found:
        return found  # chromadb must not load a damaged segment: it can abort the process
    try:
        ids = store.chunk_ids()
        count = store._chunks.count()
    except Exception as exc:  # the store's own message says what failed
        return [str(exc)]
    if count != len(ids):
        found.append(f"Chroma counts {count} chunk rows but returns {len(ids)}")
    if ids:
        want = min(10, len(ids))
        try:
            vector = store.vectors(ids[:1])[ids[0]]
            hits = [chunk for chunk, _ in store.query(vector, want)]
        except Exception as exc:
            return found + [f"the vector index cannot be searched ({exc})"]
        if len(hits) < want or ids[0] not in hits:
            found.append(f"the vector index has lost rows: a search returned {len(hits)} of {want} nearest rows"
                         + ("" if ids[0] in hits else ", without the row whose own vector was searched"))
    if deep and ids:
        found += _compare_vectors(store, ids)
    return found


def _compare_vectors(store, ids: list[str]) -> list[str]:
    """Every row's vector must come back from Chroma, and (local) equal our copy."""
    unreadable = differing = 0
    try:
        copied = store.copy.ids() if store.copy else None
    except sqlite3.Error as exc:
        return [f"{store.copy.path.name} cannot be read ({exc})"]
    for part, got in _chroma_vectors(store, ids):
        if got is None:
            unreadable += len(part)
            continue
        unreadable += len(part) - len(got["ids"])
        if copied is not None:
            try:
                mine = store.copy.get([i for i in got["ids"] if i in copied])
            except sqlite3.Error as exc:
                return [f"{store.copy.path.name} cannot be read ({exc})"]
            for chunk, vector in zip(got["ids"], got["embeddings"]):
                if chunk in mine and not np.allclose(mine[chunk], vector, atol=1e-6):
                    differing += 1
    found = []
    if unreadable:
        found.append(f"the vector index cannot return the vectors of {unreadable} of {len(ids)} chunk rows")
    if differing:
        found.append(f"the vector index holds different vectors than {store.copy.path.name} for {differing} rows")
    if copied is not None and (lacking := len(set(ids) - copied)):
        found.append(f"{store.copy.path.name} lacks the vectors of {lacking} chunk rows")
    return found


def _chroma_vectors(store, ids: list[str]) -> Iterator[tuple[list[str], dict | None]]:
    """Chroma's own vectors of `ids`, PAGE ids a call: (the ids asked, what Chroma returned, or None when the call
    failed). A failed page is the caller's to count or skip: checking and rebuilding go on past a damaged part."""
    for start in range(0, len(ids), PAGE):
        part = ids[start:start + PAGE]
        try:
            got = store._chunks.get(ids=part, include=["embeddings"])
        except Exception:  # whatever chromadb raises on a damaged segment
            got = None
        yield part, got


def rebuild_vectors(store, embed: Callable[[list[str]], np.ndarray]) -> str:
    """Rebuild both collections from their rows (see the module docstring). The caller holds the write lock."""
    moved = []
    if store.local:
        segments = files.vector_segments(store.folder)
        for name in store.names:
            if name in segments and files.segment_problems(store.folder, {name}):
                moved.append(files.move_aside(store.folder, segments[name]))
        store._connect()
    if store.copy and store.copy.integrity():  # a damaged copy is set aside and refilled below
        store.copy.reset()
    chunks_name, documents_name = store.names
    try:
        rows = list(store.chunks())
    except AssistantError:  # a segment whose files look whole but do not load (garbage in index_metadata.pickle)
        if not store.local:
            raise
        segments = files.vector_segments(store.folder)
        moved += [files.move_aside(store.folder, segments[name]) for name in store.names if name in segments]
        store._connect()  # the rows come from Chroma's catalogue, the vectors from our copy
        rows = list(store.chunks())
    ids = [r.id for r in rows]
    vectors = store.copy.get(ids) if store.copy else {}
    from_copy = len(vectors)
    if len(vectors) < len(ids) and not moved:  # Chroma's own vectors, when its segment is readable
        for _, got in _chroma_vectors(store, [i for i in ids if i not in vectors]):
            if got is not None:
                vectors.update((i, np.asarray(v, dtype=np.float32)) for i, v in zip(got["ids"], got["embeddings"]))
    lost = [r for r in rows if r.id not in vectors]
    if lost:
        fresh = embed([r.text for r in lost])
        vectors.update(zip([r.id for r in lost], fresh))
    client = store._client
    config = {"hnsw": {"space": "cosine", "ef_search": store.settings.hnsw_ef_search}}
    new = client.create_collection(chunks_name + files.REBUILD, embedding_function=None, configuration=config,
                                   metadata=dict(store._chunks.metadata or {}))
    size = client.get_max_batch_size()
    for start in range(0, len(rows), size):
        part = rows[start:start + size]
        new.add(ids=[r.id for r in part], embeddings=np.stack([vectors[r.id] for r in part]),
                documents=[r.text for r in part], metadatas=[r.meta for r in part])
    client.delete_collection(chunks_name)
    new.modify(name=chunks_name)
    if store.copy:
        store.copy.put(ids, np.stack([vectors[i] for i in ids]) if ids else np.zeros((0, 1), dtype=np.float32))
    documents = store._documents.get(include=["metadatas"])
    meta = dict(store._documents.metadata or {})
    meta["writes"] = int(meta.get("writes", 0)) + 1  # other processes reconnect to the new collections
    new_docs = client.create_collection(documents_name + files.REBUILD, embedding_function=None, metadata=meta)
    if documents["ids"]:
        new_docs.add(ids=documents["ids"], embeddings=[files.NO_VECTOR] * len(documents["ids"]),
                     metadatas=documents["metadatas"])
    client.delete_collection(documents_name)
    new_docs.modify(name=documents_name)
    for path in moved:
        files.remove_moved(path)
    store._connect()
    from_chroma = len(vectors) - from_copy - len(lost)
    return (f"rebuilt the vector index from {len(rows)} chunk rows ({from_copy} vectors from our copy, "
            f"{from_chroma} from Chroma, {len(lost)} re-embedded from their text) and {len(documents['ids'])} "
            "document rows")
