"""Deciding, document by document, what an ingest does: the id each document gets, and whether it is new,
changed, unchanged, a duplicate, or a second file claiming an id in the same run.

The id rule (README "Documents and paragraphs"): a file's id is its path inside the folder you ingested (its name
when you ingest the file itself); a JSON Lines record keeps its own id. When that id already belongs to another
file that still exists, the new document's id is qualified by the folders above it, nearest first (`colB/notes.md`,
then `work/colB/notes.md`, ...), and the report lists it under `renamed`. A document is known by its owner, the
pair (source file, id its reader gave it), so re-ingesting a file always finds the id it got the first time, and
updates it in place.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath

from assistant.types import Document, DocumentInfo, IngestReport


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class Planned:
    """A document to embed and write under `doc_id`, replacing `replaces` (its committed older version) if any."""

    doc: Document
    doc_id: str
    sha256: str
    replaces: DocumentInfo | None
    name: str  # the id its reader gave it


def qualified_ids(doc: Document) -> list[str]:
    """The ids a document may take, in order of preference: its own, then qualified by ever more folders."""
    base = doc.doc_id
    parts = Path(doc.source).parts
    own = PurePosixPath(base).parts
    if len(own) <= len(parts) and tuple(parts[len(parts) - len(own):]) == own:
        parts = parts[:len(parts) - len(own)]  # a file: the folders above its path inside the ingested folder
    prefixes = [p for p in parts if p not in ("/", "\\") and not p.endswith((":\\", ":/"))]
    return [base] + ["/".join([*prefixes[len(prefixes) - k:], base]) for k in range(1, len(prefixes) + 1)]


class Planner:
    def __init__(self, known: list[DocumentInfo], report: IngestReport) -> None:
        self.report = report
        self.known = {d.doc_id: d for d in known}
        self.owners = {(d.source, d.name or d.doc_id): d.doc_id for d in known}
        self.by_hash = {d.sha256: d.doc_id for d in known}
        self.claimed: dict[str, tuple[str, str]] = {}  # ids used in this run -> their owner
        self.moved: list[DocumentInfo] = []  # unchanged documents whose file moved: their rows are rewritten

    def _owner_of(self, doc_id: str) -> tuple[str, str] | None:
        if doc_id in self.claimed:
            return self.claimed[doc_id]
        known = self.known.get(doc_id)
        if known is None or not os.path.exists(known.source):  # free, or its file is gone: it may be taken
            return None
        return known.source, known.name or known.doc_id

    def _id_for(self, doc: Document, owner: tuple[str, str]) -> str:
        if owner in self.owners:
            return self.owners[owner]
        candidates = qualified_ids(doc)
        for candidate in candidates:
            holder = self._owner_of(candidate)
            if holder is None or holder == owner:
                break
        else:
            candidate = f"{doc.doc_id}@{hashlib.sha256(doc.source.encode()).hexdigest()[:8]}"
        if candidate != doc.doc_id:
            self.report.renamed.append({"path": doc.source, "doc_id": candidate,
                                        "taken_by": (self._owner_of(doc.doc_id) or ("",))[0]})
        return candidate

    def decide(self, doc: Document) -> Planned | None:
        """What to do with one document read from the paths; None when there is nothing to write."""
        owner = (doc.source, doc.doc_id)
        doc_id = self._id_for(doc, owner)
        if doc_id in self.claimed:
            self.report.skipped.append({"path": doc.source, "reason": f"doc_id '{doc_id}' appears twice"})
            return None
        self.claimed[doc_id] = owner
        self.owners[owner] = doc_id
        digest = content_hash(doc.text)
        old = self.known.get(doc_id)
        if old and old.sha256 == digest:
            self.report.unchanged.append(doc_id)
            if (old.source, old.name or old.doc_id) != owner:  # the same text, found at a new place
                self.moved.append(DocumentInfo(doc_id=doc_id, title=old.title, paragraphs=old.paragraphs,
                                               source=doc.source, sha256=old.sha256, chunks=old.chunks,
                                               name=doc.doc_id))
            return None
        holder = self.by_hash.get(digest)
        if holder is not None and holder != doc_id and self._still_there(holder):
            self.report.duplicates.append({"path": doc.source, "doc_id": doc_id, "same_as": holder})
            del self.claimed[doc_id]
            self.report.renamed = [r for r in self.report.renamed if r["path"] != doc.source]  # nothing took it
            return None
        (self.report.updated if old else self.report.added).append(doc_id)
        self.by_hash[digest] = doc_id
        return Planned(with_id(doc, doc_id) if doc_id != doc.doc_id else doc, doc_id, digest, old, doc.doc_id)

    def _still_there(self, doc_id: str) -> bool:
        """Does the document holding some text stay indexed: claimed in this run, or its file still exists? A
        file renamed, or the first of two identical files deleted, leaves a holder that is about to go: its text
        is then indexed again under the new file, never skipped as a duplicate of what is being removed."""
        if doc_id in self.claimed:
            return True
        known = self.known.get(doc_id)
        return known is None or not known.source or os.path.exists(known.source)

    def vanished(self, paths: list) -> list[str]:
        """Documents of the ingested folders whose files were deleted since (a deleted link's too)."""
        roots = [os.path.abspath(Path(p).expanduser()) for p in paths]
        roots = [r.rstrip(os.sep) + os.sep for r in roots if os.path.isdir(r)]
        return [d.doc_id for d in self.known.values()
                if d.doc_id not in self.claimed and d.source and not os.path.exists(d.source)
                and any(d.source.startswith(root) for root in roots)]


def with_id(doc: Document, doc_id: str) -> Document:
    """The document under another id (its paragraphs carry the id too)."""
    return Document(doc_id=doc_id, title=doc.title, text=doc.text,
                    paragraphs=[replace(p, doc_id=doc_id) for p in doc.paragraphs], source=doc.source)
