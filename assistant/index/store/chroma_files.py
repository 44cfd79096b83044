"""Chroma's files in a local index folder (chromadb 1.5): checked before chromadb touches them. Also the two
conventions chroma.py and chroma_repair.py share (REBUILD, NO_VECTOR): chroma.py imports chroma_repair, so they
cannot live there.

Why look at the files at all: measured with chromadb 1.5.9, a flushed HNSW segment with a deleted folder or a
deleted `index_metadata.pickle` makes queries silently return fewer neighbours; a deleted `data_level0.bin` makes
every call fail; a truncated `header.bin` aborts the whole process (`free(): invalid next size`), which no
`except` can catch. So a folder is checked here, cheaply, before it is opened, and a damaged one is reported with
the command that repairs it.

The layout this relies on (pinned by pyproject's `chromadb>=1.5.9,<1.6`): `chroma.sqlite3` lists the segments
(`segments`: id, scope VECTOR/METADATA, collection) and the log position each has persisted (`max_seq_id`). A
VECTOR segment with a `max_seq_id` row has been flushed to its folder `<segment id>/` (header.bin, data_level0.bin,
length.bin, link_lists.bin, index_metadata.pickle); one without is rebuilt from the log when loaded, so its files
do not matter. header.bin is 100 bytes: int32 version, then hnswlib's size_t fields, of which the 3rd is the
element count and the 4th the bytes per element.
"""

from __future__ import annotations

import shutil
import sqlite3
import struct
import time
from pathlib import Path

SQLITE = "chroma.sqlite3"
REBUILD = ".rebuild"  # suffix of a collection being rebuilt by `assistant check --repair`
NO_VECTOR = [1.0]  # document rows carry no meaning in vector space; Chroma wants a vector anyway
SEGMENT_FILES = ("header.bin", "data_level0.bin", "length.bin", "link_lists.bin", "index_metadata.pickle")
HEADER = struct.Struct("<iQQQQ")  # version, offsetLevel0, max_elements, cur_element_count, size_data_per_element
HEADER_BYTES = 100


def _read_catalogue(folder: Path) -> tuple[list[tuple[str, str]], set[str]]:
    """([(vector segment id, collection name)], ids of segments with a persisted log position)."""
    # Not read-only: after a crash SQLite must roll back the dead writer's journal first, which a read-only
    # connection cannot do ("attempt to write a readonly database"). Only SELECTs are run here.
    db = sqlite3.connect(str(folder / SQLITE), timeout=30)
    try:
        segments = db.execute("SELECT s.id, c.name FROM segments s JOIN collections c ON s.collection = c.id "
                              "WHERE s.scope = 'VECTOR'").fetchall()
        flushed = {row[0] for row in db.execute("SELECT segment_id FROM max_seq_id")}
    finally:
        db.close()
    return segments, flushed


def vector_segments(folder: Path) -> dict[str, str]:
    """Collection name -> the folder name of its vector segment."""
    segments, _ = _read_catalogue(folder)
    return {name: segment for segment, name in segments}


def segment_problems(folder: Path, collections: set[str] | None = None) -> list[str]:
    """What is wrong with the flushed vector segments of `folder` (of the named collections), in words. Raises
    sqlite3.Error when chroma.sqlite3 itself cannot be read."""
    folder = Path(folder)
    if not (folder / SQLITE).exists():
        return []
    segments, flushed = _read_catalogue(folder)
    problems = []
    for segment, name in segments:
        if segment not in flushed or (collections is not None and name not in collections):
            continue
        where = folder / segment
        missing = [f for f in SEGMENT_FILES if not (where / f).is_file()]
        if not where.is_dir() or missing:
            what = "is missing" if not where.is_dir() else f"lacks {', '.join(missing)}"
            problems.append(f"the vector segment of '{name}' ({segment}/) {what}")
            continue
        header = (where / "header.bin").read_bytes()
        if len(header) != HEADER_BYTES:
            problems.append(f"the vector segment of '{name}' has a damaged header.bin ({len(header)} bytes, "
                            f"expected {HEADER_BYTES})")
            continue
        version, _, _, count, per_element = HEADER.unpack_from(header)
        data = (where / "data_level0.bin").stat().st_size
        lengths = (where / "length.bin").stat().st_size
        if version != 1 or data < count * per_element or lengths < 4 * count:
            problems.append(f"the vector segment of '{name}' is truncated ({count} vectors: data_level0.bin "
                            f"{data:,} bytes of {count * per_element:,}, length.bin {lengths:,} of {4 * count:,})")
    return problems


def one_line(rows: list[str]) -> str:
    """SQLite's check rows as one line ("*** in database main ***\nPage 440: ..."): an error is one line."""
    return "; ".join(" ".join(row.split()) for row in rows)


def integrity_problems(folder: Path) -> list[str]:
    """SQLite's own quick check of chroma.sqlite3 (reads every page: about a second per 100 MB)."""
    db = sqlite3.connect(str(Path(folder) / SQLITE), timeout=30)
    try:
        rows = [row[0] for row in db.execute("PRAGMA quick_check(5)")]
    finally:
        db.close()
    return [] if rows == ["ok"] else [f"{SQLITE} is damaged: {one_line(rows)}"]


def move_aside(folder: Path, segment: str) -> Path | None:
    """Move a damaged segment folder out of chromadb's way (it then rebuilds nothing from it); returns where."""
    source = Path(folder) / segment
    if not source.exists():
        return None
    target = Path(folder) / f"{segment}.damaged-{time.strftime('%Y%m%d-%H%M%S')}"
    source.rename(target)
    return target


def remove_moved(path: Path | None) -> None:
    if path is not None:
        shutil.rmtree(path, ignore_errors=True)
