"""Chunk, embed and write planned documents in windows, with the write of one window overlapping the embedding of
the next.

Memory stays bounded whatever the input: a window holds at most `settings.ingest_window` chunks (tokenised,
embedded, written, then dropped), and at most two windows exist at once (one being embedded, one being written).
Inside a window the chunks are embedded in length-sorted batches, as `MiniLMEmbedder.embed` does for a whole call.

Speed: the writer thread stores window k (Chroma's add, its HNSW insertions, our vector copy) while the main thread
embeds window k+1; onnxruntime releases the GIL while it runs, so the two overlap.

Order of writes (the crash-safety argument is in assistant/ingest/__init__.py): a window's chunk rows first; then
the document rows of every document whose last chunk is in that window or an earlier one; then the chunks of the
versions those documents replaced.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
from tqdm import tqdm

from assistant.chunking import encode_chunks
from assistant.ingest.plan import Planned
from assistant.models import DocumentInfo, IngestReport
from assistant.store import ChunkRow, Store, chunk_id, version_of

PARAGRAPHS_PER_ENCODE = 256  # paragraphs tokenised per call while a document is cut into chunks


@dataclass
class Window:
    rows: list[ChunkRow] = field(default_factory=list)
    token_ids: list[list[int] | None] = field(default_factory=list)
    finished: list[DocumentInfo] = field(default_factory=list)  # documents whose last chunk is in this window


def chunk_row(chunk, planned: Planned) -> ChunkRow:
    p = chunk.paragraph
    meta = {"doc_id": planned.doc_id, "title": p.title, "paragraph": p.number, "chunk": chunk.index,
            "start": p.start, "end": p.end, "sha256": planned.sha256}
    if chunk.count > 1:
        meta["para_text"] = p.text
    if p.page is not None:
        meta["page"] = p.page
    return ChunkRow(chunk_id(planned.doc_id, planned.sha256, p.number, chunk.index), chunk.text, meta)


class Pipeline:
    def __init__(self, store: Store, embedder, window: int, report: IngestReport, progress: bool) -> None:
        self.store = store
        self.embedder = embedder
        self.size = window
        self.report = report
        self.window = Window()
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-writer")
        self._pending: Future | None = None
        self._bar = tqdm(desc="Embedding", unit="chunk", disable=not progress, leave=False)
        self.probe: tuple[str, np.ndarray] | None = None  # a row written, and its vector: searched for at the end

    def feed(self, planned: Planned) -> None:
        """Cut one document into chunks, adding them to the current window (embedded and handed to the writer
        whenever it is full). The document's row joins the window that holds its last chunk."""
        doc = planned.doc
        chunks = 0
        for start in range(0, len(doc.paragraphs), PARAGRAPHS_PER_ENCODE):
            for chunk, ids in encode_chunks(doc.paragraphs[start:start + PARAGRAPHS_PER_ENCODE], self.embedder):
                self.window.rows.append(chunk_row(chunk, planned))
                self.window.token_ids.append(ids)
                chunks += 1
                if len(self.window.rows) >= self.size:
                    self._flush()
        self.report.paragraphs += len(doc.paragraphs)
        self.window.finished.append(DocumentInfo(planned.doc_id, doc.title, len(doc.paragraphs), doc.source,
                                                 planned.sha256, chunks, planned.name))

    def _flush(self) -> None:
        window, self.window = self.window, Window()
        vectors = self._embed(window)
        self.report.chunks += len(window.rows)
        if window.rows:
            self.probe = (window.rows[0].id, vectors[0])
        if self._pending is not None:
            self._pending.result()  # the previous window is written (or its error is raised here)
        self._pending = self._writer.submit(self._write, window, vectors)

    def _embed(self, window: Window) -> np.ndarray:
        if not window.rows:
            return np.zeros((0, 1), dtype=np.float32)
        if window.token_ids[0] is not None:
            return self.embedder.embed_ids(window.token_ids, progress=self._bar.update)
        return self.embedder.embed([r.text for r in window.rows], progress=self._bar.update)

    def _write(self, window: Window, vectors: np.ndarray) -> None:
        if window.rows:
            self.store.add(window.rows, vectors)
        if window.finished:
            self.store.commit(window.finished)
            drop_other_versions(self.store, {d.doc_id: d.sha256 for d in window.finished})

    def finish(self) -> None:
        """Write what is left and wait for the writer; raises the writer's error, if any."""
        try:
            if self.window.rows or self.window.finished:
                self._flush()
            if self._pending is not None:
                self._pending.result()
        finally:
            self.abort()

    def abort(self) -> None:
        """Stop after the window being written (if any); the current window is dropped unwritten."""
        self._writer.shutdown(wait=True)
        self._bar.close()


def drop_other_versions(store: Store, keep: dict[str, str]) -> None:
    """Delete every chunk of these documents that is not of the version kept (sha256 per doc_id)."""
    stale = [i for i in store.chunk_ids(list(keep)) if version_of(i)[1] != keep[version_of(i)[0]][:16]]
    store.delete(stale)
