"""What every reader shares: the error type, blank-line paragraph splitting and Document assembly."""

from __future__ import annotations

import re
from pathlib import Path

from assistant.models import Document, Paragraph

_BLANK_LINES = re.compile(r"\n[ \t\r\f\v]*\n")


class ReaderError(Exception):
    """A file that cannot be ingested; the message says why in words a user understands."""


def blank_line_spans(text: str, offset: int = 0) -> list[tuple[int, int]]:
    """(start, end) of each blank-line separated block, trimmed of surrounding whitespace."""
    spans: list[tuple[int, int]] = []
    pos = 0
    for cut in [*(m.span() for m in _BLANK_LINES.finditer(text)), (len(text), len(text))]:
        block = text[pos:cut[0]]
        stripped = block.strip()
        if stripped:
            start = pos + block.index(stripped[0])
            spans.append((offset + start, offset + start + len(stripped)))
        pos = cut[1]
    return spans


def build_document(doc_id: str, title: str, text: str, spans: list[tuple[int, int]], source: str,
                   pages: list[int] | None = None) -> Document:
    if not spans:
        raise ReaderError("no text found (empty document)")
    paragraphs = [
        Paragraph(doc_id, title, n, text[s:e], s, e, pages[n - 1] if pages else None)
        for n, (s, e) in enumerate(spans, start=1)
    ]
    return Document(doc_id, title, text, paragraphs, source)


def join_blocks(blocks: list[str]) -> tuple[str, list[tuple[int, int]]]:
    """Join extracted blocks with blank lines; return the text and each block's span in it."""
    text_parts, spans, pos = [], [], 0
    for block in blocks:
        spans.append((pos, pos + len(block)))
        text_parts.append(block)
        pos += len(block) + 2
    return "\n\n".join(text_parts), spans


def normalise_space(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def read_utf8(path: Path) -> str:
    data = path.read_bytes()
    if not data.strip():
        raise ReaderError("empty file")
    if b"\x00" in data[:8192]:
        raise ReaderError("binary file, not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ReaderError(f"not UTF-8 text (invalid byte at position {exc.start}); re-save it as UTF-8") from None


def title_from_name(path: Path) -> str:
    return path.stem
