"""A full disk is named as a full disk, and does not stop the index from being read.

SQLite and chromadb report a full disk as "database or disk is full" (SQLite's code 13) or ENOSPC, and chromadb
writes even to open an index (its catalogue's bookkeeping), so on a full disk every command failed while opening
it, and the message said the index was damaged. Here:
- `is_disk_full` recognises the condition in any exception chain, and `DiskFullError` names it: where, how much is
  free, what to do. Nothing is marked damaged; the index's commit records (assistant/ingest/) keep a write that
  failed half-way invisible, so freeing space and running the ingest again ends where a clean ingest would.
- A write checks first that its rows (BYTES_PER_CHUNK each) leave RESERVE_MB free, and stops short otherwise.
- Every local index keeps a reserve file (`RESERVE`: RESERVE_MB, or 1.5 times chromadb's vector-index files,
  allocated when there is room). A write that runs out of space gives the reserve back at once, so that chromadb
  can still persist its vector index as it closes; opening an index on a full disk gives it back too and tries
  once more. Reads keep working on a full disk, and the reserve is allocated again once there is room.
"""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path

from assistant.errors import AssistantError

RESERVE = ".space-reserve"
RESERVE_MB = 4
BYTES_PER_CHUNK = 12_000  # what a chunk adds on disk, all files together (measured about 8 KB, with headroom)
_FULL_WORDS = ("database or disk is full", "no space left on device", "disk quota exceeded")


class DiskFullError(AssistantError):
    pass


def is_disk_full(exc: BaseException | None) -> bool:
    """Does this exception (or one it was raised from) say the disk is full?"""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        text = str(exc).lower()
        if any(words in text for words in _FULL_WORDS) or "(code: 13)" in text:
            return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False


def free_mb(folder: Path) -> float:
    try:
        return shutil.disk_usage(folder).free / 1_048_576
    except OSError:
        return 0.0


def mount_point(folder: Path) -> Path:
    """The mount point of the filesystem holding `folder` (what a user frees space on)."""
    path = Path(folder).resolve()
    while not path.is_mount() and path.parent != path:
        path = path.parent
    return path


def disk_full_error(folder: Path, doing: str, need_mb: float = RESERVE_MB * 4) -> DiskFullError:
    return DiskFullError(
        f"no space left on {mount_point(folder)} ({free_mb(folder):.1f} MB free; the index at {folder} failed "
        f"while {doing}): free at least {need_mb:.0f} MB and retry. The index is not damaged: what was written "
        "before stays, and an ingest that stopped can simply be run again.")


def reserve_bytes(folder: Path) -> int:
    """How large the reserve should be: RESERVE_MB, or one and a half times chromadb's vector-index files (which
    it rewrites when it opens an index whose last write stopped half-way), whichever is larger."""
    segments = sum(p.stat().st_size for p in Path(folder).glob("*/*.bin") if p.is_file())
    return max(RESERVE_MB * 1_048_576, int(1.5 * segments))


def ensure_reserve(folder: Path) -> None:
    """Allocate (or grow) the reserve file when the disk has room for it three times over."""
    path = Path(folder) / RESERVE
    want = reserve_bytes(folder)
    have = path.stat().st_size if path.exists() else 0
    if have >= want or free_mb(folder) * 1_048_576 < 3 * (want - have):
        return
    try:
        with open(path, "ab") as fh:
            os.posix_fallocate(fh.fileno(), 0, want)
    except (OSError, AttributeError):  # no fallocate here, or the space went meanwhile: keep what there was
        if not have:
            path.unlink(missing_ok=True)


def check_room(folder: Path, doing: str, need: int) -> None:
    """Raise DiskFullError before a write of about `need` bytes that would leave less than RESERVE_MB free: a
    write that stops short of a full disk leaves chromadb room to close cleanly, and readers room to open."""
    free = free_mb(folder) * 1_048_576
    if free - need < RESERVE_MB * 1_048_576:
        raise disk_full_error(folder, doing, (need + RESERVE_MB * 1_048_576 - free) / 1_048_576 + RESERVE_MB)


def release_reserve(folder: Path) -> bool:
    """Give the reserve's space back; True when there was one."""
    path = Path(folder) / RESERVE
    try:
        path.unlink()
        return True
    except OSError:
        return False
