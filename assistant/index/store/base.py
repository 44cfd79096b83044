"""The store interface (`Store`) and the plain data it passes; assistant/index/store/__init__.py explains the model."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from assistant.types import DocumentInfo


@dataclass(frozen=True)
class ChunkRow:
    id: str
    text: str
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Revision:
    number: int  # bumped when committed content changes; 0 on an index never written
    stamp: str  # a new random value with every bump: two writers racing on a server cannot hide a change
    writes: int  # bumped on every write batch, committed or not
    writer: str  # "process N on HOST" while a write runs; left behind by a writer that died


class Store(Protocol):
    where: str  # "the index at /path" or "the Chroma server at host:port", for messages
    local: bool  # one machine's folder, with a write lock: a writer's mark that outlives the lock means it died
    legacy: bool  # chunk rows written before document rows existed (assistant/ingest/repair.py adopts them)

    # --- reading (any process, any time) ---
    def revision(self) -> Revision:
        """The current revision, read fresh. Refreshes cached state when another process has written."""

    def refresh(self) -> None:
        """Drop whatever this process caches about the store (the next read sees the store as it is on disk)."""

    def documents(self) -> list[DocumentInfo]:
        """The committed document versions."""

    def chunks(self, doc_ids: Iterable[str] | None = None) -> Iterator[ChunkRow]:
        """Every chunk row (of the given documents), committed or not, in pages."""

    def chunk_ids(self, doc_ids: Iterable[str] | None = None) -> list[str]:
        """The ids of every chunk row (of the given documents), committed or not."""

    def query(self, vector: np.ndarray, n: int) -> list[tuple[str, float]]:
        """The `n` nearest chunk rows as (id, cosine distance), nearest first."""

    def vectors(self, ids: list[str]) -> dict[str, np.ndarray]:
        """The stored vectors of these chunk ids (ids not found are left out)."""

    # --- writing (inside `writing()` only) ---
    def writing(self) -> AbstractContextManager[Revision]:
        """Take the write lock and mark a write in progress; yields the revision found on entry (its `writer` set
        means a previous write died half-way). A normal exit clears the mark and bumps the revision."""

    def add(self, rows: list[ChunkRow], vectors: np.ndarray) -> None:
        """Store chunk rows with their vectors (rows already there under the same ids are replaced)."""

    def delete(self, ids: list[str]) -> None:
        """Delete chunk rows."""

    def commit(self, documents: list[DocumentInfo]) -> None:
        """Write (or replace) document rows: from now on readers use these versions."""

    def forget(self, doc_ids: list[str]) -> None:
        """Delete document rows: readers stop using these documents at once; their chunks become orphans."""

    def mark_adopted(self) -> None:
        """After a legacy index's versions were committed: from now on the document rows are authoritative."""

    # --- maintenance (`assistant check`) ---
    def problems(self, deep: bool) -> list[str]:
        """What is wrong below the rows: missing or damaged vector files, rows the vector index cannot return.
        `deep` checks every row."""

    def rebuild_vectors(self, embed: Callable[[list[str]], np.ndarray]) -> str:
        """Rebuild the vector index from the stored rows (re-embedding the texts of rows whose vector is lost);
        returns what was done."""

    def close(self) -> None: ...


def chunk_id(doc_id: str, sha256: str, paragraph: int, chunk: int) -> str:
    return f"{doc_id}::{sha256[:16]}::{paragraph}::{chunk}"


def version_of(chunk: str) -> tuple[str, str]:
    """(doc_id, first 16 hex digits of its text's sha256) of a chunk id. A doc_id may itself contain '::'."""
    doc_id, sha16, _, _ = chunk.rsplit("::", 3)
    return doc_id, sha16
