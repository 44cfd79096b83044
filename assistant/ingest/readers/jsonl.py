"""JSON Lines corpora: one {"doc_id", "title", "text"} object per line; paragraphs are blank-line blocks."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from assistant.types import Document
from assistant.ingest.readers.base import ReaderError, blank_line_spans, build_document, not_text, text_encoding


def read_jsonl(path: Path) -> Iterator[Document | tuple[str, str]]:
    """Yield a Document per valid line, or (where, reason) for a line that cannot be used. The file is read a
    line at a time (in the encoding its byte-order mark names), so a large corpus is never held whole."""
    encoding = text_encoding(path)
    try:
        with path.open(encoding=encoding) as fh:
            yield from _records(path, fh)
    except UnicodeDecodeError as exc:
        raise not_text(encoding, exc) from None


def _records(path: Path, lines) -> Iterator[Document | tuple[str, str]]:
    empty = True
    for line_no, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        empty = False
        where = f"{path}:{line_no}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            yield where, f"invalid JSON ({exc.msg})"
            continue
        if not isinstance(record, dict) or not isinstance(record.get("text"), str):
            yield where, 'expected an object with a "text" string'
            continue
        doc_id = str(record.get("doc_id") or record.get("id") or f"{path.name}:{line_no}")
        title = str(record.get("title") or doc_id)
        try:
            yield build_document(doc_id, title, record["text"], blank_line_spans(record["text"]), str(path.resolve()))
        except ReaderError as exc:
            yield where, str(exc)
    if empty:
        raise ReaderError("empty file")
