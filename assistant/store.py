"""The Chroma side: open a client (a local folder or a `chroma run` server), the collection, and the write lock.

Two processes writing one persistent Chroma folder at once silently corrupt it, so every write to a local
folder holds an exclusive file lock; a second writer gets `IndexLockedError` at once instead of waiting. A Chroma
server serialises writes itself, so no file lock is taken in server mode.
"""

from __future__ import annotations

import contextlib
import os
import warnings
from collections.abc import Iterator
from pathlib import Path

import chromadb
from filelock import FileLock, Timeout

from assistant.errors import EmbeddingMismatchError, IndexDamagedError, IndexLockedError
from assistant.settings import Settings

LOCK_NAME = ".write.lock"


def open_client(settings: Settings) -> chromadb.ClientAPI:
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.uses_chroma_server:
        try:
            return chromadb.HttpClient(host=settings.chroma_host, port=settings.chroma_port,
                                       settings=chroma_settings)
        except Exception as exc:
            raise IndexDamagedError(
                f"cannot reach the Chroma server at {settings.chroma_host}:{settings.chroma_port} ({exc}). "
                "Start it with `chroma run --path DIR --host 127.0.0.1 --port PORT`.") from None
    settings.index_dir.mkdir(parents=True, exist_ok=True)
    try:
        return chromadb.PersistentClient(path=str(settings.index_dir), settings=chroma_settings)
    except Exception as exc:
        raise IndexDamagedError(
            f"the index at {settings.index_dir} cannot be opened ({type(exc).__name__}: {exc}). "
            "Move the folder aside and run `assistant ingest` again to rebuild it.") from None


def open_collection(client: chromadb.ClientAPI, settings: Settings, embedding_name: str):
    try:
        collection = client.get_or_create_collection(
            settings.collection, configuration={"hnsw": {"space": "cosine", "ef_search": settings.hnsw_ef_search}},
            metadata={"embedding": embedding_name, "revision": 0}, embedding_function=None)
    except Exception as exc:
        raise IndexDamagedError(
            f"the Chroma collection '{settings.collection}' cannot be opened ({type(exc).__name__}: {exc}). "
            "Move the index folder aside and run `assistant ingest` again.") from None
    with warnings.catch_warnings():  # chromadb warns about the (absent) embedding function config on read
        warnings.simplefilter("ignore", DeprecationWarning)
        hnsw = (collection.configuration or {}).get("hnsw") or {}
    if hnsw.get("ef_search") != settings.hnsw_ef_search:  # a query-time knob: safe to change on an existing index
        try:
            with write_lock(settings):
                collection.modify(configuration={"hnsw": {"ef_search": settings.hnsw_ef_search}})
        except IndexLockedError:
            pass  # another process is writing; the next start applies it
    built_with = (collection.metadata or {}).get("embedding", embedding_name)
    if built_with != embedding_name:
        raise EmbeddingMismatchError(
            f"this index was built with the '{built_with}' embedding but '{embedding_name}' is configured. "
            f"Set ASSISTANT_EMBEDDING={built_with}, or use a new ASSISTANT_INDEX_DIR for the other model.")
    return collection


@contextlib.contextmanager
def write_lock(settings: Settings) -> Iterator[None]:
    """Hold the index folder's exclusive write lock, or fail at once with a message naming the holder."""
    if settings.uses_chroma_server:
        yield
        return
    folder = Path(settings.index_dir)
    folder.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(folder / LOCK_NAME), timeout=0)
    owner_file = folder / (LOCK_NAME + ".owner")
    try:
        lock.acquire()
    except Timeout:
        owner = owner_file.read_text().strip() if owner_file.exists() else "another process"
        raise IndexLockedError(
            f"the index at {folder} is being written by {owner}. Wait for it to finish and try again; "
            "for several writers at once, run a Chroma server and set ASSISTANT_CHROMA_HOST.") from None
    try:
        owner_file.write_text(f"process {os.getpid()}")
        yield
    finally:
        with contextlib.suppress(OSError):
            owner_file.unlink()
        lock.release()
