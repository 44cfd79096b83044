"""Ingestion: collect files, hash and plan them (plan.py), chunk, embed and write them (pipeline.py), and repair
what an interrupted write left behind (repair.py). All writes go through a `Store` (assistant/index/store/).

Crash safety, the design. A document version is a set of chunk rows plus one document row (its *commit record*)
holding its sha256, paragraph and chunk counts, title and source. The document row is written only after every
chunk row of the version is stored, in one atomic upsert; readers (`documents()`, the mirror behind BM25 and
paragraph look-ups, dense search) use only chunk rows whose (doc_id, sha256) is a committed version. So:
- killed while chunks are written: the new version has no document row; readers ignore its chunks; the old version
  (if any) is still committed and answers as before;
- killed after the document row: the version is complete; the replaced version's chunks are orphans, ignored;
- killed during a removal: the document row goes first, so the document is gone at once; its chunks are orphans.
Orphans (chunk rows of no committed version) are deleted by the next write, or when the index is next opened:
every write marks the revision with its writer and clears the mark when it ends; a mark found by a process that
holds the write lock means the writer died, and `repair.heal` sweeps (and rebuilds a vector segment the crash
damaged). The next ingest of the same input then plans from the committed versions only, so it re-adds exactly
what was not committed: the same documents, paragraphs, chunks and answers as a clean ingest, and no second
version. Why a second collection and not a journal file: it works unchanged against a Chroma server, where many
machines share one index and no local file is shared.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

from assistant.errors import UnknownDocumentError
from assistant.ingest import repair
from assistant.ingest.pipeline import Pipeline
from assistant.ingest.plan import Planner
from assistant.types import Document, IngestReport
from assistant.ingest.readers import Skipped, collect
from assistant.ingest.readers.limits import Limits
from assistant.config.settings import Settings
from assistant.index.store import Store

__all__ = ["ingest", "remove"]

# What a process that opens a folder index holds (benchmarks/ingest_memory.py --jsonl, README "Memory"): some
# 330 MB of its own, and about 12 KB for each chunk of the collection (vector index, chunk texts, BM25).
PROCESS_BASE_MB = 330
KB_PER_CHUNK = 12


def ingest(store: Store, embedder, settings: Settings, paths: Sequence[str | Path], progress: bool = False,
           follow_symlinks: bool | None = None) -> IngestReport:
    """Index files and folders; unchanged documents cost nothing, changed ones are replaced, documents whose files
    were deleted from an ingested folder are removed. Raises FileNotFoundError before anything is touched."""
    started = time.perf_counter()
    report = IngestReport()
    follow = settings.follow_symlinks if follow_symlinks is None else follow_symlinks
    items = collect(list(paths), Limits.from_settings(settings), follow_symlinks=follow)
    first = next(items, None)  # a missing path raises here, before the lock is taken
    with store.writing() as found:
        report.repaired += repair.before_write(store, embedder, found)
        planner = Planner(store.documents(), report)
        pipeline = Pipeline(store, embedder, settings.ingest_window, report, progress)
        try:
            for item in _chain(first, items):
                if isinstance(item, Skipped):
                    report.skipped.append({"path": item.path, "reason": item.reason})
                elif (planned := planner.decide(item)) is not None:
                    pipeline.feed(planned)
        except BaseException:
            pipeline.abort()  # what is written stays uncommitted or committed whole; the next write cleans up
            raise
        pipeline.finish()
        repair.verify_written(store, pipeline.probe)
        store.commit(planner.moved)
        vanished = planner.vanished(list(paths))
        if vanished:
            remove_documents(store, vanished)
            report.removed.extend(vanished)
        report.warnings += size_warnings(store, settings)
    if first is None:  # an empty folder, or only hidden files: say so rather than a bare "0 added"
        report.warnings.append(f"found no files to read in {', '.join(str(p) for p in paths)}")
    report.seconds = time.perf_counter() - started
    return report


def size_warnings(store: Store, settings: Settings) -> list[str]:
    """A folder index past `local_chunks_warning` chunks: what each process that opens it will hold in memory,
    and the way out. Why a warning and not a per-file cap: what grows is the whole collection's in-memory index,
    so a cap on one file would be met by splitting it and save nothing."""
    if settings.chroma_host:
        return []
    chunks = sum(d.chunks for d in store.documents())
    if chunks <= settings.local_chunks_warning:
        return []
    return [f"the index now holds {chunks:,} chunks: every process that opens this folder index keeps them in "
            f"memory (about {(PROCESS_BASE_MB + chunks * KB_PER_CHUNK / 1024) / 1024:.1f} GB at {KB_PER_CHUNK} KB "
            f"a chunk). Beyond {settings.local_chunks_warning:,} chunks (setting local_chunks_warning), serve the index from a "
            "Chroma server instead (`chroma run`, then ASSISTANT_CHROMA_HOST; see the README)"]


def _chain(first: Document | Skipped | None, rest):
    if first is not None:
        yield first
        yield from rest


def remove(store: Store, embedder, settings: Settings, doc_id: str) -> None:
    """Remove one document. A document that an interrupted removal left half-removed is finished quietly."""
    with store.writing() as found:
        repair.before_write(store, embedder, found)
        committed = any(d.doc_id == doc_id for d in store.documents())
        if not committed and not store.chunk_ids([doc_id]):
            raise UnknownDocumentError(f"no indexed document has the id '{doc_id}' (see `assistant docs`)")
        remove_documents(store, [doc_id])


def remove_documents(store: Store, doc_ids: list[str]) -> None:
    """Document rows first (readers stop using them at once), then their chunks."""
    store.forget(doc_ids)
    store.delete(store.chunk_ids(doc_ids))

