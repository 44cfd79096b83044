"""Plain text and Markdown: a paragraph is a blank-line separated block; a Markdown heading is its own."""

from __future__ import annotations

import re
from pathlib import Path

from assistant.models import Document
from assistant.readers.base import blank_line_spans, build_document, read_utf8, title_from_name

_HEADING = re.compile(r"^#{1,6}[ \t]+(.+?)[ \t#]*$", re.MULTILINE)


def _split_headings(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """A heading line glued to the text below it is still a paragraph of its own."""
    out: list[tuple[int, int]] = []
    for start, end in spans:
        block = text[start:end]
        first_line_end = block.find("\n")
        if first_line_end > 0 and _HEADING.match(block[:first_line_end]):
            out.append((start, start + first_line_end))
            out.extend(blank_line_spans(text[start + first_line_end:end], start + first_line_end))
        else:
            out.append((start, end))
    return out


def read_text(path: Path, doc_id: str) -> Document:
    text = read_utf8(path)
    spans = blank_line_spans(text)
    title = title_from_name(path)
    if path.suffix.lower() in {".md", ".markdown"}:
        spans = _split_headings(text, spans)
        heading = _HEADING.search(text)
        if heading:
            title = heading.group(1).strip()
    return build_document(doc_id, title, text, spans, str(path.resolve()))
