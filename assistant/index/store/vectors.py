"""Our own copy of every chunk vector, in `vectors.sqlite3` beside Chroma's files.

Why: chromadb 1.5.9 keeps a vector in SQLite only until its HNSW segment has been flushed to disk (the write-ahead
log `embeddings_queue` is purged after that; measured: 3,000 rows added leave 1 row in the log). From then on the
HNSW files are the only copy, so a deleted or truncated segment file would lose every vector, and rebuilding the
segment would mean re-embedding the whole corpus (about 4 minutes for 30,000 paragraphs on 2 cores). With this
copy `assistant check --repair` rebuilds the segment in seconds, with vectors bit-identical to the originals.

Cost: 1.5 KB a chunk (46 MB at 30,000 chunks), written in the same batches as Chroma. A vector is written after
its Chroma row and before the document row that commits it, and deleted before its Chroma row: so every committed
chunk has its vector here, and a crash never leaves a vector here without its Chroma row.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from assistant.index.store.chroma_files import one_line

FILE_NAME = "vectors.sqlite3"
PAGE = 500  # ids per statement (SQLite's variable limit is 32,766 on current builds, 999 on old ones)


class VectorCopy:
    def __init__(self, folder: Path) -> None:
        self.path = Path(folder) / FILE_NAME
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None

    def _connect(self) -> sqlite3.Connection:
        if self._db is None:
            db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None, timeout=30)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")  # durable across a process crash; WAL keeps it consistent
            db.execute("CREATE TABLE IF NOT EXISTS vectors (id TEXT PRIMARY KEY, vector BLOB NOT NULL)")
            self._db = db
        return self._db

    def put(self, ids: list[str], vectors: np.ndarray) -> None:
        rows = [(i, np.asarray(v, dtype=np.float32).tobytes()) for i, v in zip(ids, vectors)]
        with self._lock:
            db = self._connect()
            db.execute("BEGIN")
            db.executemany("INSERT OR REPLACE INTO vectors (id, vector) VALUES (?, ?)", rows)
            db.execute("COMMIT")

    def get(self, ids: Iterable[str]) -> dict[str, np.ndarray]:
        ids = list(ids)
        out: dict[str, np.ndarray] = {}
        with self._lock:
            db = self._connect()
            for start in range(0, len(ids), PAGE):
                part = ids[start:start + PAGE]
                marks = ",".join("?" * len(part))
                for chunk, blob in db.execute(f"SELECT id, vector FROM vectors WHERE id IN ({marks})", part):
                    out[chunk] = np.frombuffer(blob, dtype=np.float32)
        return out

    def delete(self, ids: Iterable[str]) -> None:
        ids = list(ids)
        with self._lock:
            db = self._connect()
            db.execute("BEGIN")
            for start in range(0, len(ids), PAGE):
                part = ids[start:start + PAGE]
                db.execute(f"DELETE FROM vectors WHERE id IN ({','.join('?' * len(part))})", part)
            db.execute("COMMIT")

    def ids(self) -> set[str]:
        with self._lock:
            return {row[0] for row in self._connect().execute("SELECT id FROM vectors")}

    def integrity(self) -> list[str]:
        """SQLite's quick check of the copy, in words ([] when sound, or when there is no copy yet)."""
        if not self.path.exists():
            return []
        try:
            with self._lock:
                rows = [row[0] for row in self._connect().execute("PRAGMA quick_check(5)")]
        except sqlite3.Error as exc:
            return [f"{self.path.name} cannot be read ({exc})"]
        return [] if rows == ["ok"] else [f"{self.path.name} is damaged: {one_line(rows)}"]

    def reset(self) -> None:
        """Start an empty copy, keeping a damaged file aside (`assistant check --repair` refills it)."""
        self.close()
        if self.path.exists():
            self.path.rename(self.path.with_name(self.path.name + ".damaged"))
        for suffix in ("-wal", "-shm"):
            self.path.with_name(self.path.name + suffix).unlink(missing_ok=True)

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None
