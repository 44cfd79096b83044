"""Repairing what an interrupted write or a damaged folder left: orphan sweeping, adopting an index written before
document rows existed, and `assistant check [--repair]`.

Orphans are chunk rows of no committed version (see assistant/ingest/__init__.py); they are found from the chunk
ids alone (`doc_id::sha16::paragraph::chunk`), which is fast: no texts or vectors are read.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from assistant.errors import IndexDamagedError, IndexLockedError
from assistant.index.store.space import DiskFullError
from assistant.ingest.plan import Planned, content_hash, with_id
from assistant.types import Document, DocumentInfo, IngestReport
from assistant.index.store import Revision, Store, version_of


def sweep(store: Store) -> int:
    """Delete every chunk row that belongs to no committed document version; returns how many."""
    committed = {(d.doc_id, d.sha256[:16]) for d in store.documents()}
    orphans = [i for i in store.chunk_ids() if version_of(i) not in committed]
    store.delete(orphans)
    return len(orphans)


def adopt_legacy(store: Store) -> str:
    """An index written before document rows existed marked each document's first chunk as its head. Commit every
    version whose paragraphs are all there (the old writer could stop half-way); the rest become orphans."""
    versions: dict[tuple[str, str], dict] = defaultdict(lambda: {"paragraphs": set(), "chunks": 0, "head": None})
    for row in store.chunks():
        version = versions[(row.meta["doc_id"], row.meta["sha256"])]
        version["paragraphs"].add(int(row.meta["paragraph"]))
        version["chunks"] += 1
        if row.meta.get("head"):
            version["head"] = row.meta
    chosen: dict[str, DocumentInfo] = {}
    for (doc_id, sha), version in sorted(versions.items()):
        head = version["head"]
        if head and doc_id not in chosen and version["paragraphs"] == set(range(1, int(head["n_paragraphs"]) + 1)):
            chosen[doc_id] = DocumentInfo(doc_id=doc_id, title=head.get("title", ""),
                                          paragraphs=int(head["n_paragraphs"]), source=head.get("source", ""),
                                          sha256=sha, chunks=version["chunks"], name=doc_id)
    store.commit(list(chosen.values()))
    store.mark_adopted()
    dropped = sweep(store)
    return (f"adopted {len(chosen)} documents written by an earlier version of the assistant"
            + (f" and removed {dropped} chunk rows of unfinished versions" if dropped else ""))


def before_write(store: Store, embedder, found: Revision) -> list[str]:
    """Run under the write lock before any write: adopt an old index; sweep what a writer that died left."""
    done = []
    if store.legacy:
        done.append(adopt_legacy(store))
    if found.writer and store.local:  # we hold the lock, so the writer that left its mark is dead
        dropped = sweep(store)
        if dropped:
            done.append(f"removed {dropped} chunk rows left by an interrupted write ({found.writer})")
    return done


def verify_written(store: Store, probe) -> None:
    """An ingest never reports success on an index it cannot search: the vector of a row it wrote must find that
    row (or one with the very same vector) first. Damage the file checks cannot see is caught here."""
    if probe is None:
        return
    row_id, vector = probe
    for _ in range(2):
        hits = store.query(vector, 1)
        if hits and (hits[0][0] == row_id or hits[0][1] <= 1e-3):
            return
        store.refresh()  # look once more with nothing cached before calling the index damaged
    raise IndexDamagedError(f"{store.where} does not find the paragraphs just written: its vector index is "
                            "damaged. Run `assistant check --repair` to repair it.")


def heal(store: Store, embedder) -> list[str]:
    """When an index is opened: repair what an interrupted write left, if no writer is at work right now. With a
    Chroma server, where writers take no lock, an interrupted write's rows stay hidden until `assistant check
    --repair` or the next ingest of the same documents removes them."""
    revision = store.revision()
    if not store.legacy and not (revision.writer and store.local):
        return []
    try:
        with store.writing() as found:
            return before_write(store, embedder, found)
    except IndexLockedError:
        return []  # a live writer: it finishes its own work
    except DiskFullError:  # no room to clean up: the interrupted write's rows stay hidden, as they are now
        return []


# --- assistant check ---------------------------------------------------------------------------------
@dataclass
class CheckResult:
    where: str
    documents: int = 0
    chunks: int = 0
    problems: list[str] = field(default_factory=list)  # found (and, with --repair, then repaired or not)
    repaired: list[str] = field(default_factory=list)
    unrepaired: list[str] = field(default_factory=list)


def row_problems(store: Store) -> tuple[list[str], list[DocumentInfo], list[str]]:
    """(problems in words, committed documents missing chunks, orphan chunk ids)."""
    documents = store.documents()
    committed = {d.doc_id: d for d in documents}
    have: dict[tuple[str, str], set[int]] = defaultdict(set)
    counts: dict[tuple[str, str], int] = defaultdict(int)
    orphans = []
    for chunk in store.chunk_ids():
        doc_id, sha16 = version_of(chunk)
        doc = committed.get(doc_id)
        if doc is None or doc.sha256[:16] != sha16:
            orphans.append(chunk)
            continue
        have[(doc_id, sha16)].add(int(chunk.rsplit("::", 2)[1]))
        counts[(doc_id, sha16)] += 1
    incomplete = [d for d in documents if have[(d.doc_id, d.sha256[:16])] != set(range(1, d.paragraphs + 1))
                  or (d.chunks and counts[(d.doc_id, d.sha256[:16])] != d.chunks)]
    problems = [f"document '{d.doc_id}' has {counts[(d.doc_id, d.sha256[:16])]} of its {d.chunks or '?'} chunks "
                f"({len(have[(d.doc_id, d.sha256[:16])])} of {d.paragraphs} paragraphs)" for d in incomplete]
    if orphans:
        problems.append(f"{len(orphans)} chunk rows belong to no committed document version (an interrupted write)")
    return problems, incomplete, orphans


def check(store: Store, embedder, settings, repair: bool) -> CheckResult:
    """Verify that the document rows, the chunk rows and the vector index agree; with `repair`, fix what can be
    fixed and name what cannot."""
    result = CheckResult(store.where)
    below = store.problems(deep=True)
    result.problems += below
    if below and not repair:
        return result  # the rows cannot be trusted (or safely read) until the vector index is rebuilt
    with store.writing():
        if below:
            result.repaired.append(store.rebuild_vectors(lambda texts: embedder.embed(texts)))
            result.unrepaired += store.problems(deep=True)
            if result.unrepaired:
                return result
        if store.legacy:
            if not repair:
                result.problems.append("the index was written by an earlier version (run `assistant check --repair`)")
            else:
                result.repaired.append(adopt_legacy(store))
        rows, incomplete, orphans = row_problems(store)
        result.problems += rows
        if repair:
            if orphans:
                store.delete(orphans)
                result.repaired.append(f"removed {len(orphans)} orphan chunk rows")
            for doc in incomplete:
                if reembed_from_source(store, embedder, settings, doc):
                    result.repaired.append(f"re-embedded '{doc.doc_id}' from {doc.source}")
                else:
                    result.unrepaired.append(
                        f"document '{doc.doc_id}' is missing chunks and its source ({doc.source or 'unknown'}) is "
                        f"gone or no longer holds it: remove it (`assistant remove '{doc.doc_id}'`) or ingest it again")
        documents = store.documents()
        result.documents, result.chunks = len(documents), sum(d.chunks for d in documents)
    return result


def reembed_from_source(store: Store, embedder, settings, doc: DocumentInfo) -> bool:
    """Write a document again from its source file, if that still holds it (a JSON Lines record by its id)."""
    from assistant.ingest.pipeline import Pipeline
    from assistant.ingest.readers import collect
    from assistant.ingest.readers.limits import Limits

    source = Path(doc.source) if doc.source else None
    if source is None or not source.is_file():
        return False
    found = [d for d in collect([source], Limits.from_settings(settings)) if isinstance(d, Document)]
    name = doc.name or doc.doc_id
    match = found[0] if len(found) == 1 and source.suffix != ".jsonl" else next(
        (d for d in found if d.doc_id == name), None)
    if match is None:
        return False
    store.delete(store.chunk_ids([doc.doc_id]))
    pipeline = Pipeline(store, embedder, settings.ingest_window, IngestReport(), progress=False)
    pipeline.feed(Planned(with_id(match, doc.doc_id), doc.doc_id, content_hash(match.text), doc, name))
    pipeline.finish()
    return True
