"""The paragraph index, read side: the committed documents, an in-memory mirror of their chunks (for BM25 and
whole-paragraph look-ups), structures derived from it, and dense search. Writing is assistant/ingest/ (it sits
above this package and is called by assistant/api.py); the database is behind assistant/index/store/.

Readers trust only committed document versions (assistant/ingest/__init__.py says why), so the mirror and dense
search drop chunk rows of versions that are being written, were interrupted, or were just replaced. The mirror is
rebuilt when the store's revision changes, whichever process wrote.

Why not llama-index's ChromaVectorStore here: it stores a JSON copy of every node (metadata and relationships)
in Chroma's metadata and adds nothing we use. `benchmarks/llamaindex_overhead.py` measures the difference: for
2,000 news paragraphs with precomputed vectors the Chroma folder was 1.24x larger and the add about 1.15x slower
(benchmarks/results/llamaindex_overhead.json); most of the folder is Chroma's own (vectors, HNSW, SQLite).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np

from assistant.index import mirror_cache
from assistant.index.mirror import Lexicon, Mirror, read_mirror
from assistant.index.store import Revision, Store
from assistant.types import DocumentInfo, Paragraph

MIRROR_ATTEMPTS = 3  # a mirror read while another process deletes rows can miss some: read it again


class ParagraphIndex:
    """Reads an opened store. `healed` says what opening it repaired (assistant/ingest/repair.py's `heal`)."""

    def __init__(self, store: Store, healed: list[str] | tuple[str, ...] = ()) -> None:
        self.store = store
        self.healed = list(healed)
        self._mirror: Mirror | None = None
        self._lock = threading.RLock()
        self._derived: dict[str, tuple[Mirror, object]] = {}  # name -> (mirror it was built from, value)
        self._lexicon = Lexicon()
        # a folder index keeps its mirror on disk for the next process (assistant/index/mirror_cache.py)
        self._cache_folder: Path | None = self.store.folder if self.store.local else None

    # --- state -------------------------------------------------------------------------------------
    def revision(self) -> int:
        """Bumped on every committed change, by any process: a cheap way to know cached state is stale."""
        return self.store.revision().number

    def count(self) -> int:
        """Committed chunks. Answered from the mirror when it is current (asked before every question)."""
        with self._lock:
            if self._mirror is not None and self._is_current(self._mirror, self.store.revision()):
                return len(self._mirror.ids)
        return sum(d.chunks for d in self.documents())

    def documents(self) -> list[DocumentInfo]:
        return self.store.documents()

    def notes(self) -> list[str]:
        """What opening the index repaired, and a write in progress that may have been interrupted (on a Chroma
        server, where no lock tells a live writer from a dead one)."""
        notes = [f"repaired: {done}" for done in self.healed] + list(getattr(self.store, "notes", []))
        writer = self.store.revision().writer
        if writer and not self.store.local:
            notes.append(f"a write by {writer} has not finished; its paragraphs stay hidden until it does. If that "
                         "process is gone, run `assistant check --repair`.")
        return notes

    # --- the mirror --------------------------------------------------------------------------------
    @staticmethod
    def _is_current(mirror: Mirror, revision: Revision) -> bool:
        return (mirror.revision, mirror.stamp) == (revision.number, revision.stamp)

    def mirror(self) -> Mirror:
        with self._lock:
            revision = self.store.revision()
            if self._mirror is None and self._cache_folder is not None:
                saved = mirror_cache.load(self._cache_folder)  # a previous mirror, checked against the store below
                if saved is not None:
                    self._mirror, self._lexicon = saved
            if self._mirror is None or not self._is_current(self._mirror, revision):
                self._mirror = self._load_mirror(revision)
            return self._mirror

    def _load_mirror(self, revision: Revision) -> Mirror:
        """Read the committed rows, reusing the current mirror's rows of documents that did not change
        (assistant/index/mirror.py)."""
        for _ in range(MIRROR_ATTEMPTS):
            documents = self.store.documents()
            expected = sum(d.chunks for d in documents)
            mirror = read_mirror(self.store, revision, documents, self._mirror)
            if len(mirror.ids) == expected or not expected:
                break
            revision = self.store.revision()  # rows moved under the read (another process wrote): read again
        return mirror

    def derived(self, name: str, build: Callable[[Mirror], object], mirror: Mirror | None = None) -> object:
        """A structure computed from the mirror (e.g. BM25), rebuilt only when the index changed.

        Pass the `mirror` a caller has just fetched to skip a second revision check on the query path."""
        with self._lock:
            mirror = mirror or self.mirror()
            cached = self._derived.get(name)
            if cached is None or cached[0] is not mirror:
                cached = (mirror, build(mirror))
                self._derived[name] = cached
            return cached[1]

    def lexicon(self, mirror: Mirror) -> Lexicon:
        """BM25 tokens and IDF counts for `mirror`, tokenising only the documents that changed since the last."""
        with self._lock:
            if self._lexicon.update(mirror) and self._cache_folder is not None:
                mirror_cache.save_later(self._cache_folder, mirror, self._lexicon)
            return self._lexicon

    def paragraph(self, doc_id: str, number: int) -> Paragraph | None:
        return self.mirror().paragraphs.get((doc_id, number))

    # --- dense search --------------------------------------------------------------------------------
    def dense(self, mirror: Mirror, vector: np.ndarray, n: int) -> list[tuple[int, float]]:
        """The `n` nearest committed chunks as (mirror row, cosine distance). Rows the mirror does not hold are
        skipped: versions being written or replaced by another process, rows removed since the mirror was read;
        if they crowd the answer, a wider search fills it."""
        n = min(n, len(mirror.ids))
        if n <= 0:
            return []
        asked = n
        while True:
            hits = self.store.query(vector, asked)
            kept = [(mirror.row_of[chunk], distance) for chunk, distance in hits if chunk in mirror.row_of]
            if len(kept) >= n or len(hits) < asked or asked >= 8 * n:
                return kept[:n]
            asked *= 4

    def vectors(self, ids: list[str]) -> dict[str, np.ndarray]:
        return self.store.vectors(ids)

    def close(self) -> None:
        with self._lock:
            self.store.close()
