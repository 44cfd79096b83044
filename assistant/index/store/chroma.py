"""The Chroma adapter: the only module that calls chromadb.

Two collections: `<name>` holds the chunk rows with their vectors, `<name>.documents` one row per committed
document version plus, in its collection metadata, the revision (see assistant/index/store/__init__.py). A collection's
metadata is read fresh from Chroma's catalogue on every `revision()` (0.3 ms locally), so every process sees every
other process's writes.

Many processes, one local folder: chromadb's embedded client loads the HNSW segment once per process and never
notices that another process changed it; it then answers from a stale graph ("Error finding id", missing rows),
and, worse, a stale writer would flush its old graph over the newer one on disk. So each ChromaStore owns a private
chromadb System (not the per-path one chromadb shares inside a process), and reconnects whenever the revision's
`writes` counter moved without it: before every question and before every write. The old System is stopped at
once (its Rust runtime and SQLite pool hold threads and memory); that is safe because the threads of a process
call chromadb in turn and look the collection up inside their turn (assistant/index/store/locks.py).
"""

from __future__ import annotations

import contextlib
import os
import socket
import sqlite3
import time
import uuid
import warnings
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from assistant.errors import AssistantError, EmbeddingMismatchError, IndexDamagedError, IndexLockedError
from assistant.config.masking import mask_url
from assistant.index.memory import give_back
from assistant.types import DocumentInfo
from assistant.config.settings import Settings
from assistant.index.store.base import ChunkRow, Revision
from assistant.index.store import chroma_files as files
from assistant.index.store import space
from assistant.index.store.chroma_files import NO_VECTOR, REBUILD
from assistant.index.store.locks import chroma_access, check_lock_file, write_lock
from assistant.index.store.space import DiskFullError
from assistant.index.store.vectors import VectorCopy

DOCUMENTS = ".documents"  # suffix of the document-rows collection
FORMAT = 2  # document rows are authoritative; an index without them (format 1) is adopted by ingest/repair.py
PAGE = 5000


class ChromaStore:
    def __init__(self, settings: Settings, embedding_name: str, repairing: bool = False) -> None:
        self.settings = settings
        self.embedding_name = embedding_name
        self.local = not settings.uses_chroma_server
        self.folder = Path(settings.index_dir)
        self._lock_folder = self.folder.resolve()  # the access lock's key (locks.py), resolved once, not per call
        self.names = (settings.collection, settings.collection + DOCUMENTS)
        self.where = (f"the index at {self.folder}" if self.local else
                      f"the Chroma server at {mask_url(settings.chroma_host)}:{settings.chroma_port} "
                      f"(collection '{settings.collection}')")
        self.copy = VectorCopy(self.folder) if self.local else None  # see assistant/index/store/vectors.py
        self.legacy = False  # chunks written before document rows existed: ingest/repair.py adopts them
        self.repairing = repairing  # opened by `assistant check --repair`: damage is reported, not raised
        self._seen_writes: int | None = None
        self._changed = False
        self.notes: list[str] = []  # what a user should know about this index now (a full disk)
        if self.local:
            self.folder.mkdir(parents=True, exist_ok=True)
            check_lock_file(self.folder)
            self._raise_if_damaged(integrity=True)
        try:
            self._connect()
        except DiskFullError:  # chromadb writes even to open: give back the reserve, then read (space.py)
            if not (self.local and space.release_reserve(self.folder)):
                raise
            self._connect()
            self.notes.append(f"the disk holding the index is full ({space.free_mb(self.folder):.1f} MB free on "
                              f"{space.mount_point(self.folder)}): it can be read, but nothing can be added until "
                              "space is freed")
        if self.local:
            space.ensure_reserve(self.folder)

    # --- connecting --------------------------------------------------------------------------------
    def _new_client(self) -> tuple[Any, Any]:
        """(client, its private chromadb System, or None for a server's HTTP client)."""
        import chromadb
        from chromadb.api import ServerAPI
        from chromadb.api.client import Client
        from chromadb.config import Settings as ChromaSettings
        from chromadb.config import System

        if not self.local:
            return chromadb.HttpClient(host=self.settings.chroma_host, port=self.settings.chroma_port,
                                       settings=ChromaSettings(anonymized_telemetry=False)), None
        system = System(ChromaSettings(anonymized_telemetry=False, is_persistent=True,
                                       persist_directory=str(self.folder)))
        system.instance(ServerAPI)
        system.start()
        return Client.from_system(system), system

    def _connect(self) -> None:
        with self._access(write=True):  # may create collections; loads nothing another process half-wrote
            self._open_collections()
        meta = self._meta()
        self.legacy = int(meta.get("format", FORMAT)) < FORMAT
        self._seen_writes = int(meta.get("writes", 0))
        built_with = meta.get("embedding", self.embedding_name)
        if built_with != self.embedding_name:
            raise EmbeddingMismatchError(
                f"this index was built with the '{built_with}' embedding but '{self.embedding_name}' is configured. "
                f"Set ASSISTANT_EMBEDDING={built_with}, or use a new ASSISTANT_INDEX_DIR for the other model.")
        self._apply_ef_search()

    def _access(self, write: bool):
        return chroma_access(self._lock_folder, exclusive=write) if self.local else contextlib.nullcontext()

    def _open_collections(self) -> None:
        try:
            client, system = self._new_client()
            self._finish_rebuild(client)
            chunks = client.get_or_create_collection(
                self.names[0], embedding_function=None, metadata={"embedding": self.embedding_name},
                configuration={"hnsw": {"space": "cosine", "ef_search": self.settings.hnsw_ef_search}})
            metadata = {"embedding": self.embedding_name, "revision": 0, "stamp": "", "writes": 0, "writer": "",
                        "format": FORMAT}  # used only when the collection is created here
            if self.names[1] not in {c.name for c in client.list_collections()} and chunks.count() > 0:
                old = chunks.metadata or {}  # chunks from before document rows existed: adopted later
                metadata.update(embedding=old.get("embedding", self.embedding_name), format=1,
                                revision=int(old.get("revision", 0)))
            documents = client.get_or_create_collection(self.names[1], embedding_function=None, metadata=metadata)
        except AssistantError:
            raise
        except Exception as exc:
            raise self._failure("opening it", exc) from None
        previous = getattr(self, "_system", None)
        self._client, self._chunks, self._documents, self._system = client, chunks, documents, system
        if previous is not None:  # a reconnect: close the old one now, not when the garbage collector gets to it
            with contextlib.suppress(Exception):  # (its Rust runtime and SQLite pool hold threads and memory)
                previous.stop()

    def _apply_ef_search(self) -> None:
        """ef_search is a query-time knob, safe to change on an existing index (when no one else is writing)."""
        with warnings.catch_warnings():  # chromadb warns about the (absent) embedding function config on read
            warnings.simplefilter("ignore", DeprecationWarning)
            hnsw = (self._chunks.configuration or {}).get("hnsw") or {}
        if hnsw.get("ef_search") == self.settings.hnsw_ef_search:
            return
        with contextlib.suppress(AssistantError):
            with write_lock(self.settings):
                self._chroma("configuring it", "chunks", "modify", write=True,
                             configuration={"hnsw": {"ef_search": self.settings.hnsw_ef_search}})

    def _finish_rebuild(self, client) -> None:
        """A rebuild interrupted after the old collection was deleted is finished by renaming the new one; one
        interrupted before is dropped (the old collection is still there, and still damaged). Only under the write
        lock (the rebuild may be running in another process), and on a server only by `assistant check --repair`."""
        names = {c.name for c in client.list_collections()}
        if not any(name + REBUILD in names for name in self.names) or not (self.local or self.repairing):
            return
        try:
            with write_lock(self.settings):
                for name in self.names:
                    if name + REBUILD not in names:
                        continue
                    if name in names:
                        client.delete_collection(name + REBUILD)
                    else:
                        client.get_collection(name + REBUILD, embedding_function=None).modify(name=name)
        except IndexLockedError:
            return

    def _raise_if_damaged(self, integrity: bool = False) -> None:
        """Raise when the vector segments are damaged; with `integrity`, also when SQLite's quick check finds
        chroma.sqlite3 damaged (beyond repair: rebuilt from the documents' sources) or our vector copy damaged
        (repairable). Opening and writing check integrity (a few ms per 10 MB); a reconnect does not."""
        if not self.local or self.repairing:
            return
        try:
            problems = files.segment_problems(self.folder, set(self.names))
            damaged = files.integrity_problems(self.folder) if integrity else []
        except sqlite3.Error as exc:
            raise self._failure(f"reading {files.SQLITE}", exc) from None
        if damaged:
            raise self._beyond_repair(RuntimeError(damaged[0]))
        if integrity and self.copy:
            problems += self.copy.integrity()
        if problems:
            raise self._failure("; ".join(problems))

    def _failure(self, what: str, exc: BaseException | None = None) -> AssistantError:
        """One message: what is wrong, where, and the command that fixes it. A full disk is named as such."""
        # chromadb's own failures on a full disk do not always say so ("Error in compaction: Error purging logs"):
        # with less than a few MB free, the disk is the likeliest cause and the first thing to fix
        if self.local and exc is not None and (space.is_disk_full(exc) or space.free_mb(self.folder) < 2 * space.RESERVE_MB):
            space.release_reserve(self.folder)  # room for chromadb to persist what it holds as it closes
            return space.disk_full_error(self.folder, what, space.reserve_bytes(self.folder) / 1_048_576 + 8)
        detail = f" ({type(exc).__name__}: {str(exc).strip()[:300]})" if exc else ""
        if not self.local:
            if not self._server_answers():
                return IndexDamagedError(
                    f"cannot reach the Chroma server at {mask_url(self.settings.chroma_host)}:{self.settings.chroma_port}"
                    f"{detail}. Start it with `chroma run --path DIR --host 127.0.0.1 --port PORT`.")
            return IndexDamagedError(f"{self.where} failed while {what}{detail}. "
                                     "Run `assistant check --repair` to check and repair it.")
        if "database disk image is malformed" in detail or "file is not a database" in detail:
            return self._beyond_repair(exc)
        doing = f" while {what}" if exc is not None else f": {what}"
        return IndexDamagedError(f"the index at {self.folder} is damaged{doing}{detail}. "
                                 "Run `assistant check --repair` to repair it.")

    def _server_answers(self) -> bool:
        client = getattr(self, "_client", None)
        try:
            (client or self._new_client()[0]).heartbeat()
            return True
        except Exception:
            return False

    def _beyond_repair(self, exc: BaseException) -> IndexDamagedError:
        return IndexDamagedError(
            f"the index at {self.folder} is damaged beyond repair: {files.SQLITE} is not a sound database "
            f"({str(exc).strip()[:200]}). Run `assistant check --rebuild` to index the documents again from their "
            "source files into a fresh index that replaces this one (the damaged folder is kept aside).")

    def _call(self, what: str, fn: Callable, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except AssistantError:
            raise
        except Exception as exc:
            raise self._failure(what, exc) from None

    def _chroma(self, what: str, target: str, method: str, *args: Any, write: bool = False, **kwargs: Any) -> Any:
        """One call into chromadb, `self._<target>.<method>(...)`, under the folder's access lock (see
        assistant/index/store/locks.py). The client or collection is looked up inside the lock: another thread's reconnect
        may have replaced (and closed) the one this thread saw before it got its turn."""
        with self._access(write):
            return self._call(what, getattr(getattr(self, "_" + target), method), *args, **kwargs)

    def _read(self, what: str, method: str, **kwargs: Any) -> Any:
        """A read of the chunk collection. Another process may change the rows between our revision check and
        this call, and this process's vector index is then a moment behind ("Error finding id"): reconnect and
        read once more before calling the index damaged."""
        try:
            with self._access(write=False):
                return getattr(self._chunks, method)(**kwargs)
        except AssistantError:
            raise
        except Exception:
            if self.local:
                self._reconnect()
        return self._chroma(what, "chunks", method, **kwargs)

    def _meta(self) -> dict[str, Any]:
        fresh = self._chroma("reading its revision", "client", "get_collection", self.names[1],
                             embedding_function=None)
        return dict(fresh.metadata or {})

    # --- reading -----------------------------------------------------------------------------------
    def revision(self) -> Revision:
        meta = self._meta()
        writes = int(meta.get("writes", 0))
        if self.local and writes != self._seen_writes:
            self._reconnect()
            self._seen_writes = writes
        return Revision(int(meta.get("revision", 0)), str(meta.get("stamp", "")), writes, str(meta.get("writer", "")))

    def refresh(self) -> None:
        if self.local:
            self._reconnect()

    def _reconnect(self) -> None:
        """Another process wrote: drop this process's cached HNSW state by opening a fresh chromadb System."""
        self._raise_if_damaged()
        self._connect()
        give_back()  # the dropped System's heap

    def documents(self) -> list[DocumentInfo]:
        got = self._chroma("listing its documents", "documents", "get", include=["metadatas"])
        return sorted((DocumentInfo(doc_id=doc_id, title=m.get("title", ""), paragraphs=int(m.get("paragraphs", 0)),
                                    source=m.get("source", ""), sha256=m.get("sha256", ""),
                                    chunks=int(m.get("chunks", 0)), name=m.get("name", doc_id))
                       for doc_id, m in zip(got["ids"], got["metadatas"])), key=lambda d: d.doc_id)

    def _pages(self, doc_ids: Iterable[str] | None, include: list[str]) -> Iterator[dict]:
        where = None
        if doc_ids is not None:
            doc_ids = list(doc_ids)
            if not doc_ids:
                return
            where = {"doc_id": {"$in": doc_ids}}
        offset = 0
        while True:
            page = self._read("reading its rows", "get", where=where, include=include, limit=PAGE, offset=offset)
            if not page["ids"]:
                return
            yield page
            offset += len(page["ids"])

    def chunks(self, doc_ids: Iterable[str] | None = None) -> Iterator[ChunkRow]:
        for page in self._pages(doc_ids, ["documents", "metadatas"]):
            yield from (ChunkRow(i, t, m) for i, t, m in zip(page["ids"], page["documents"], page["metadatas"]))

    def chunk_ids(self, doc_ids: Iterable[str] | None = None) -> list[str]:
        return [i for page in self._pages(doc_ids, []) for i in page["ids"]]

    def query(self, vector: np.ndarray, n: int) -> list[tuple[str, float]]:
        got = self._read("searching it", "query", query_embeddings=[vector], n_results=n, include=["distances"])
        return list(zip(got["ids"][0], got["distances"][0]))

    def vectors(self, ids: list[str]) -> dict[str, np.ndarray]:
        found = self._call("reading vectors.sqlite3", self.copy.get, ids) if self.copy else {}
        missing = [i for i in ids if i not in found]
        if missing:
            got = self._read("reading vectors", "get", ids=missing, include=["embeddings"])
            found.update((i, np.asarray(v, dtype=np.float32)) for i, v in zip(got["ids"], got["embeddings"]))
        return found

    # --- writing -----------------------------------------------------------------------------------
    @contextlib.contextmanager
    def writing(self) -> Iterator[Revision]:
        with write_lock(self.settings):
            self._raise_if_damaged(integrity=True)  # never write into (or report success on) a damaged index
            found = self.revision()  # reconnects first if another process wrote since we looked
            self._changed = False
            self._set_meta(writer=f"process {os.getpid()} on {socket.gethostname()} since "
                                  f"{time.strftime('%Y-%m-%d %H:%M:%S')}")
            yield found
            update: dict[str, Any] = {"writer": ""}
            if self._changed:
                meta = self._meta()
                update.update(revision=int(meta.get("revision", 0)) + 1, stamp=uuid.uuid4().hex)
            self._set_meta(**update)

    def _set_meta(self, bump_writes: bool = True, **values: Any) -> None:
        """Read-modify-write of the document collection's metadata (Chroma replaces it whole)."""
        meta = self._meta()
        meta.update(values)
        if bump_writes:
            meta["writes"] = int(meta.get("writes", 0)) + 1
        self._chroma("recording its revision", "documents", "modify", metadata=meta, write=True)
        self._seen_writes = int(meta.get("writes", 0))

    def _batches(self, n: int) -> Iterator[slice]:
        size = self._client.get_max_batch_size()
        for start in range(0, n, size):
            yield slice(start, start + size)

    def add(self, rows: list[ChunkRow], vectors: np.ndarray) -> None:
        """Upsert, not add: rows an interrupted attempt left under the same ids are replaced, not kept. On a disk
        too full for these rows and the index's reserve, nothing is written (space.py)."""
        ids = [r.id for r in rows]
        if self.local:
            space.ensure_reserve(self.folder)  # the reserve grows with the vector index, while there is room
            space.check_room(self.folder, "adding paragraphs", len(rows) * space.BYTES_PER_CHUNK)
        for part in self._batches(len(rows)):
            self._chroma("adding paragraphs", "chunks", "upsert", write=True, ids=ids[part],
                         embeddings=vectors[part], documents=[r.text for r in rows[part]],
                         metadatas=[r.meta for r in rows[part]])
        if self.copy:  # after Chroma's rows, before the document row commits them (see vectors.py)
            self._call("writing vectors.sqlite3", self.copy.put, ids, vectors)
        self._set_meta()

    def delete(self, ids: list[str]) -> None:
        if not ids:
            return
        if self.copy:
            self._call("deleting from vectors.sqlite3", self.copy.delete, ids)
        for part in self._batches(len(ids)):
            self._chroma("deleting paragraphs", "chunks", "delete", write=True, ids=ids[part])
        self._set_meta()

    def commit(self, documents: list[DocumentInfo]) -> None:
        if not documents:
            return
        metas = [{"sha256": d.sha256, "title": d.title, "paragraphs": d.paragraphs, "chunks": d.chunks,
                  "source": d.source, "name": d.name or d.doc_id} for d in documents]
        self._chroma("recording documents", "documents", "upsert", write=True,
                     ids=[d.doc_id for d in documents], embeddings=[NO_VECTOR] * len(documents), metadatas=metas)
        self._changed = True
        self._set_meta()

    def forget(self, doc_ids: list[str]) -> None:
        if not doc_ids:
            return
        self._chroma("removing documents", "documents", "delete", write=True, ids=list(doc_ids))
        self._changed = True
        self._set_meta()

    def mark_adopted(self) -> None:
        """The document rows are authoritative from now on; the vectors get their copy (an old index had none)."""
        if self.copy:
            ids = self.chunk_ids()
            for start in range(0, len(ids), 1000):
                got = self._chroma("reading vectors", "chunks", "get", ids=ids[start:start + 1000],
                                 include=["embeddings"])
                self._call("writing vectors.sqlite3", self.copy.put, got["ids"],
                           np.asarray(got["embeddings"], dtype=np.float32))
        self._set_meta(format=FORMAT)
        self.legacy = False

    # --- maintenance (assistant/index/store/chroma_repair.py) -----------------------------------------------
    def problems(self, deep: bool) -> list[str]:
        from assistant.index.store.chroma_repair import problems

        with self._access(write=False):
            return problems(self, deep)

    def rebuild_vectors(self, embed: Callable[[list[str]], np.ndarray]) -> str:
        from assistant.index.store.chroma_repair import rebuild_vectors

        with self._access(write=True):  # no other process reads half-rebuilt collections
            return rebuild_vectors(self, embed)

    def close(self) -> None:
        if self.copy:
            self.copy.close()
        system, self._system = getattr(self, "_system", None), None
        if system is not None:
            with contextlib.suppress(Exception):  # stopping is best effort, as on a reconnect
                system.stop()
