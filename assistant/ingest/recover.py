"""`assistant check --rebuild`: an index damaged beyond repair is indexed again from its documents' source files
into a fresh folder, which then replaces it; the damaged folder is kept aside, never deleted.

Why from the sources: when chroma.sqlite3 itself is damaged, nothing in the folder can be trusted to rebuild the
rows. What survives is the list of committed documents (each with its source path and the id it was given), which
is read from the damaged catalogue when it still can be. Each document is read again from its source and written
under the id it had, so citations of the old index keep naming the same documents. Documents whose source is gone,
or no longer holds them, are named and left out. The swap is two renames inside the index's parent folder, under
the index's write lock: no reader ever opens a half-written index.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from assistant.errors import IndexDamagedError
from assistant.ingest.pipeline import Pipeline
from assistant.ingest.plan import Planned, content_hash, with_id
from assistant.types import Document, IngestReport
from assistant.ingest.readers import collect
from assistant.ingest.readers.limits import Limits


@dataclass
class Rebuilt:
    index: Path
    kept_aside: Path
    documents: int = 0
    chunks: int = 0
    lost: list[str] = field(default_factory=list)  # "doc_id: why"


def rebuild_from_sources(settings, embedder) -> Rebuilt:
    from assistant.index.store import open_store
    from assistant.index.store.locks import write_lock

    if settings.uses_chroma_server:
        raise IndexDamagedError("`assistant check --rebuild` rebuilds a folder index; for a Chroma server, create a "
                                "new collection (ASSISTANT_COLLECTION) and ingest your documents into it")
    folder = Path(settings.index_dir)
    try:
        damaged = open_store(settings, embedder.name, repairing=True)
        documents = damaged.documents()
        damaged.close()
    except Exception as exc:  # noqa: BLE001 - whatever the damaged catalogue raises
        raise IndexDamagedError(f"the list of documents of {folder} cannot be read ({type(exc).__name__}: {exc}): "
                                "move the folder aside and ingest your documents again") from None
    stamp = time.strftime("%Y%m%d-%H%M%S")
    fresh = folder.with_name(f"{folder.name}.rebuild-{stamp}")
    new_settings = settings.model_copy(update={"index_dir": fresh})
    store = open_store(new_settings, embedder.name)
    result = Rebuilt(folder, folder.with_name(f"{folder.name}.damaged-{stamp}"))
    by_source: dict[str, list] = defaultdict(list)
    for doc in documents:
        by_source[doc.source].append(doc)
    limits = Limits.from_settings(settings)
    with store.writing():
        pipeline = Pipeline(store, embedder, settings.ingest_window, IngestReport(), progress=False)
        for source, recorded in sorted(by_source.items()):
            path = Path(source) if source else None
            if path is None or not path.is_file():
                result.lost += [f"{d.doc_id}: its source {source or '(unknown)'} is gone" for d in recorded]
                continue
            read = {d.doc_id: d for d in collect([path], limits) if isinstance(d, Document)}
            for doc in recorded:
                match = read.get(doc.name or doc.doc_id) or (next(iter(read.values())) if len(read) == 1 else None)
                if match is None:
                    result.lost.append(f"{doc.doc_id}: {source} no longer holds it")
                    continue
                pipeline.feed(Planned(with_id(match, doc.doc_id), doc.doc_id, content_hash(match.text), None,
                                      doc.name or doc.doc_id))
        pipeline.finish()
        store.commit([])
    written = store.documents()
    result.documents, result.chunks = len(written), sum(d.chunks for d in written)
    store.close()
    with write_lock(settings):  # no other process writes the old index while it is swapped out
        folder.rename(result.kept_aside)
        fresh.rename(folder)
    return result
