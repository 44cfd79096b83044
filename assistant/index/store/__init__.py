"""Where paragraphs live: one small interface (`Store`) between the product and the vector database.

Every call to the database goes through a Store; `chroma.py` is the Chroma adapter (a local folder or a
`chroma run` server). Another engine is one more module implementing the methods below, and one line in
`open_store`.

What a store holds:
- chunk rows: one per embedding chunk, id `doc_id::sha16::paragraph::chunk` (see `chunk_id`), its text, its
  vector and metadata (doc_id, sha256, title, paragraph, chunk, start, end, page, para_text);
- document rows: one per *committed* document version (a `DocumentInfo`), written after all of the version's
  chunks. Readers trust only chunks whose (doc_id, sha256) is a committed version; `assistant/ingest/` explains
  why this makes a crashed write harmless.
- a revision: `number` moves when the committed content changes (readers rebuild BM25 and the like), `writes`
  moves on every write batch (readers refresh cached vector state), `writer` names a write in progress.
"""

from __future__ import annotations

from assistant.config.settings import Settings
from assistant.index.store.base import ChunkRow, Revision, Store, chunk_id, version_of
from assistant.index.store.locks import write_lock

__all__ = ["ChunkRow", "Revision", "Store", "chunk_id", "open_store", "version_of", "write_lock"]


def open_store(settings: Settings, embedding_name: str, repairing: bool = False) -> Store:
    """The store the settings name. Raises IndexDamagedError / EmbeddingMismatchError with what to do;
    `repairing` opens a damaged store anyway, for `assistant check --repair`."""
    from assistant.index.store.chroma import ChromaStore  # chromadb is imported when a store is opened, not before

    return ChromaStore(settings, embedding_name, repairing=repairing)
