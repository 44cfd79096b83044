"""The index folder's locks.

The write lock, one writer at a time: two processes writing one persistent Chroma folder at once silently corrupt
it, so every write to a local folder holds an exclusive file lock for the whole ingest or removal; a second writer
gets `IndexLockedError` at once instead of waiting. A Chroma server serialises writes itself, so no file lock is
taken in server mode. The lock dies with its process (the operating system releases it on `kill -9`), so a
crashed writer never blocks the next one.

The access lock, around each single call into chromadb: shared for reads, exclusive for writes. chromadb's
embedded mode replays its write-ahead log into each process's own copy of the vector index, and purges the log
by what *that* process has applied. Measured: with one process asking questions while another ingested, the
writer's own search missed rows it had just written (1 run in 16). Holding readers off for the duration of each
write call (a few hundred milliseconds at most) keeps every process's replay whole. Within one process, one
thread at a time calls into chromadb: measured, 20 threads of a server querying while another process wrote
left every query waiting inside chromadb's Rust bindings for good (1 soak run in 2); a chromadb call is a few
milliseconds, so taking turns costs little. A thread never waits on a lock it already holds.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: no access lock (one process per index there)
    fcntl = None

from filelock import FileLock, Timeout

from assistant.errors import IndexDamagedError, IndexLockedError
from assistant.config.settings import Settings

LOCK_NAME = ".write.lock"
ACCESS_NAME = ".access.lock"
_holding = threading.local()  # how deep this thread is inside chroma_access
_in_process: dict[str, threading.RLock] = {}  # one per folder: threads of one process (two uploads) take turns
_registry = threading.Lock()
_chroma_turns: dict[str, threading.Lock] = {}  # one per folder: the threads of a process call chromadb in turn


def _turn(table: dict, folder: Path, make):
    """This process's lock of `table` for the folder, made on first use. `folder` is resolved (one lock per folder,
    however it is named): by write_lock, and for chroma_access once by the ChromaStore, not on every call."""
    key = str(folder)
    with _registry:
        if key not in table:
            table[key] = make()
        return table[key]


def lock_path(folder: Path) -> Path:
    return Path(folder) / LOCK_NAME


def check_lock_file(folder: Path) -> None:
    """A lock path that is not a plain file (e.g. a directory someone made) cannot be locked: say how to fix it."""
    for path in (lock_path(folder), Path(folder) / ACCESS_NAME):
        if path.exists() and not path.is_file():
            raise IndexDamagedError(f"{path} is not a lock file (it is a {'folder' if path.is_dir() else 'special file'}), "
                                f"so the index at {folder} cannot be written. Remove it (`rm -r '{path}'`) and try "
                                "again.")


@contextlib.contextmanager
def write_lock(settings: Settings) -> Iterator[None]:
    """Hold the index folder's exclusive write lock, or fail at once with a message naming the holder (another
    thread of this process is waited for instead)."""
    if settings.uses_chroma_server:
        yield
        return
    folder = Path(settings.index_dir)
    folder.mkdir(parents=True, exist_ok=True)
    check_lock_file(folder)
    with _turn(_in_process, folder.resolve(), threading.RLock):
        with _file_lock(folder):
            yield


@contextlib.contextmanager
def _file_lock(folder: Path) -> Iterator[None]:
    lock = FileLock(str(lock_path(folder)), timeout=0)
    owner_file = folder / (LOCK_NAME + ".owner")
    try:
        lock.acquire()
    except Timeout:
        try:
            owner = owner_file.read_text().strip() or "another process"
        except OSError:
            owner = "another process"
        raise IndexLockedError(
            f"the index at {folder} is being written by {owner}. Wait for it to finish and try again; "
            "for several writers at once, run a Chroma server and set ASSISTANT_CHROMA_HOST.") from None
    except OSError as exc:
        raise IndexDamagedError(f"cannot take the write lock {lock_path(folder)} of the index at {folder} ({exc}). "
                                "Check the folder's permissions, or remove the lock path if it is not a file.") from None
    try:
        with contextlib.suppress(OSError):
            owner_file.write_text(f"process {os.getpid()}")
        yield
    finally:
        with contextlib.suppress(OSError):
            owner_file.unlink()
        lock.release()


@contextlib.contextmanager
def chroma_access(folder: Path, exclusive: bool) -> Iterator[None]:
    """Hold the folder's access lock (shared, or exclusive for a write) around one call into chromadb, after this
    process's turn for the folder. `folder` must be resolved: this runs around every chromadb call (4 a question),
    so the ChromaStore resolves its folder once when it is built."""
    depth = getattr(_holding, "depth", 0)
    if depth:
        _holding.depth = depth + 1
        try:
            yield
        finally:
            _holding.depth = depth
        return
    with _turn(_chroma_turns, folder, threading.Lock):
        handle = None
        if fcntl is not None:
            try:
                handle = os.open(Path(folder) / ACCESS_NAME, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError:  # a read-only folder: no one writes it, nothing to coordinate
                handle = None
        try:
            if handle is not None:
                fcntl.flock(handle, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            _holding.depth = 1
            yield
        finally:
            _holding.depth = 0
            if handle is not None:
                os.close(handle)  # releases the lock
