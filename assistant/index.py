"""The paragraph index: Chroma holds every chunk with its vector; a content hash per document skips unchanged
work; an in-memory mirror of the chunks (refreshed when the index's revision changes) serves BM25 and
whole-paragraph look-ups.

Why not llama-index's ChromaVectorStore here: it stores a JSON copy of every node (metadata and relationships)
in Chroma's metadata and adds nothing we use. `benchmarks/llamaindex_overhead.py` measures the difference: for
2,000 news paragraphs with precomputed vectors the Chroma folder was 1.24x larger and the add about 1.15x slower
(benchmarks/results/llamaindex_overhead.json); most of the folder is Chroma's own (vectors, HNSW, SQLite).
"""

from __future__ import annotations

import hashlib
import threading
import time
from pathlib import Path
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from tqdm import tqdm

from assistant import store
from assistant.chunking import Chunk, chunk_paragraphs
from assistant.errors import IndexDamagedError, UnknownDocumentError
from assistant.models import Document, DocumentInfo, IngestReport, Paragraph
from assistant.readers import Skipped, collect
from assistant.readers.limits import Limits
from assistant.settings import Settings

PAGE = 5000  # rows per Chroma get() when mirroring


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class Mirror:
    """All chunks of one index revision, in Chroma's order, for BM25 and paragraph look-ups."""

    revision: int
    ids: list[str]
    texts: list[str]
    keys: list[tuple[str, int]]  # (doc_id, paragraph) of each chunk
    paragraphs: dict[tuple[str, int], Paragraph]


class ParagraphIndex:
    def __init__(self, settings: Settings, embedder) -> None:
        self.settings = settings
        self.embedder = embedder
        self._client = None
        self._collection = None
        self._mirror: Mirror | None = None
        self._lock = threading.RLock()
        self._derived: dict[str, tuple[int, object]] = {}  # name -> (revision, value), e.g. the BM25 index

    # --- opening ------------------------------------------------------------------------------------
    @property
    def collection(self):
        with self._lock:
            if self._collection is None:
                self._client = store.open_client(self.settings)
                self._collection = store.open_collection(self._client, self.settings, self.embedder.name)
            return self._collection

    def revision(self) -> int:
        """Bumped on every write, by any process: a cheap way to know cached state is stale."""
        try:
            fresh = self._client.get_collection(self.settings.collection) if self._client else None
        except Exception as exc:
            raise IndexDamagedError(f"the index collection disappeared or is unreadable ({exc})") from None
        return int(((fresh or self.collection).metadata or {}).get("revision", 0))

    def _bump_revision(self) -> None:
        meta = dict(self.collection.metadata or {})
        meta["revision"] = self.revision() + 1
        meta.setdefault("embedding", self.embedder.name)
        self.collection.modify(metadata=meta)

    def count(self) -> int:
        """Chunks in the index. Answered from the mirror when it is current (asked before every question)."""
        with self._lock:
            if self._mirror is not None and self._client is not None and self._mirror.revision == self.revision():
                return len(self._mirror.ids)
        return self.collection.count()

    # --- reading ------------------------------------------------------------------------------------
    def documents(self) -> list[DocumentInfo]:
        heads = self.collection.get(where={"head": True}, include=["metadatas"])
        docs = [DocumentInfo(m["doc_id"], m["title"], int(m["n_paragraphs"]), m.get("source", ""), m["sha256"])
                for m in heads["metadatas"]]
        return sorted(docs, key=lambda d: d.doc_id)

    def mirror(self) -> Mirror:
        with self._lock:
            revision = self.revision()
            if self._mirror is None or self._mirror.revision != revision:
                self._mirror = self._load_mirror(revision)
            return self._mirror

    def _load_mirror(self, revision: int) -> Mirror:
        ids, texts, keys, paragraphs = [], [], [], {}
        total = self.collection.count()
        for offset in range(0, total, PAGE):
            page = self.collection.get(include=["documents", "metadatas"], limit=PAGE, offset=offset)
            for chunk_id, text, meta in zip(page["ids"], page["documents"], page["metadatas"]):
                key = (meta["doc_id"], int(meta["paragraph"]))
                ids.append(chunk_id)
                texts.append(text)
                keys.append(key)
                if key not in paragraphs:
                    paragraphs[key] = Paragraph(meta["doc_id"], meta["title"], key[1], meta.get("para_text", text),
                                                int(meta["start"]), int(meta["end"]), meta.get("page"))
        return Mirror(revision, ids, texts, keys, paragraphs)

    def derived(self, name: str, build: Callable[[Mirror], object], mirror: Mirror | None = None) -> object:
        """A structure computed from the mirror (e.g. BM25), rebuilt only when the index changed.

        Pass the `mirror` a caller has just fetched to skip a second revision check on the query path."""
        with self._lock:
            mirror = mirror or self.mirror()
            cached = self._derived.get(name)
            if cached is None or cached[0] != mirror.revision:
                cached = (mirror.revision, build(mirror))
                self._derived[name] = cached
            return cached[1]

    def paragraph(self, doc_id: str, number: int) -> Paragraph | None:
        return self.mirror().paragraphs.get((doc_id, number))

    # --- writing ------------------------------------------------------------------------------------
    def ingest(self, paths: list, progress: bool = False) -> IngestReport:
        started = time.perf_counter()
        report = IngestReport()
        documents = list(collect(paths, Limits.from_settings(self.settings)))  # FileNotFoundError before anything is touched
        with store.write_lock(self.settings), self._lock:
            known = {d.doc_id: d for d in self.documents()}
            by_hash = {d.sha256: d.doc_id for d in known.values()}
            plan: list[tuple[Document, str]] = []
            for item in documents:
                if isinstance(item, Skipped):
                    report.skipped.append({"path": item.path, "reason": item.reason})
                    continue
                digest = content_hash(item.text)
                old = known.get(item.doc_id)
                if old and old.sha256 == digest:
                    report.unchanged.append(item.doc_id)
                elif digest in by_hash and by_hash[digest] != item.doc_id:
                    report.duplicates.append({"path": item.source, "doc_id": item.doc_id,
                                              "same_as": by_hash[digest]})
                elif any(d.doc_id == item.doc_id for d, _ in plan):
                    report.skipped.append({"path": item.source, "reason": f"doc_id '{item.doc_id}' appears twice"})
                else:
                    (report.updated if old else report.added).append(item.doc_id)
                    by_hash[digest] = item.doc_id
                    plan.append((item, digest))
            if plan:
                chunks = chunk_paragraphs([p for doc, _ in plan for p in doc.paragraphs], self.embedder)
                vectors = self._embed(chunks, progress)
                self._write(plan, chunks, vectors, replaced={doc.doc_id for doc, _ in plan if doc.doc_id in known})
                report.paragraphs = sum(len(doc.paragraphs) for doc, _ in plan)
                report.chunks = len(chunks)
            self._remove_vanished(paths, known, report)
        report.seconds = time.perf_counter() - started
        return report

    def _remove_vanished(self, paths: list, known: dict[str, DocumentInfo], report: IngestReport) -> None:
        """Re-ingesting a folder drops the documents whose files were deleted from it since."""
        roots = [Path(p).expanduser().resolve() for p in paths]
        for doc in known.values():
            source = Path(doc.source) if doc.source else None
            if source and not source.exists() and any(r == source or r in source.parents for r in roots):
                self.collection.delete(where={"doc_id": doc.doc_id})
                report.removed.append(doc.doc_id)
        if report.removed:
            self._bump_revision()

    def _embed(self, chunks: list[Chunk], progress: bool) -> np.ndarray:
        bar = tqdm(total=len(chunks), desc="Embedding", unit="para", disable=not progress or len(chunks) < 50,
                   leave=False)
        with bar:
            return self.embedder.embed([c.text for c in chunks], progress=bar.update)

    def _write(self, plan: list[tuple[Document, str]], chunks: list[Chunk], vectors: np.ndarray,
               replaced: set[str]) -> None:
        """Add the new versions first, then delete the old ones (of the `replaced` doc_ids): a failure never
        leaves a document missing."""
        digests = {doc.doc_id: digest for doc, digest in plan}
        sources = {doc.doc_id: doc.source for doc, _ in plan}
        counts = {doc.doc_id: len(doc.paragraphs) for doc, _ in plan}
        ids, metas = [], []
        for chunk in chunks:
            p = chunk.paragraph
            digest = digests[p.doc_id]
            ids.append(f"{p.doc_id}::{digest[:16]}::{p.number}::{chunk.index}")
            meta = {"doc_id": p.doc_id, "title": p.title, "paragraph": p.number, "chunk": chunk.index,
                    "start": p.start, "end": p.end, "sha256": digest, "head": p.number == 1 and chunk.index == 0}
            if chunk.count > 1:
                meta["para_text"] = p.text
            if p.page is not None:
                meta["page"] = p.page
            if meta["head"]:
                meta.update(n_paragraphs=counts[p.doc_id], source=sources[p.doc_id])
            metas.append(meta)
        batch = self._client.get_max_batch_size() if self._client else 5000
        for start in range(0, len(ids), batch):
            stop = start + batch
            self.collection.add(ids=ids[start:stop], embeddings=vectors[start:stop],
                                documents=[c.text for c in chunks[start:stop]], metadatas=metas[start:stop])
        for doc_id in replaced:
            self.collection.delete(where={"$and": [{"doc_id": doc_id}, {"sha256": {"$ne": digests[doc_id]}}]})
        self._bump_revision()

    def remove(self, doc_id: str) -> None:
        with store.write_lock(self.settings), self._lock:
            if not self.collection.get(where={"doc_id": doc_id}, limit=1)["ids"]:
                raise UnknownDocumentError(f"no indexed document has the id '{doc_id}' (see `assistant docs`)")
            self.collection.delete(where={"doc_id": doc_id})
            self._bump_revision()
