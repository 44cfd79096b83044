"""Plain text and Markdown: a paragraph is a blank-line separated block; a Markdown heading is its own."""

from __future__ import annotations

import re
from pathlib import Path

from assistant.types import Document
from assistant.ingest.readers.base import blank_line_spans, build_document, read_text_file, title_from_name
from assistant.ingest.readers.limits import Limits

_HEADING = re.compile(r"^#{1,6}[ \t]+(.+?)[ \t#]*$", re.MULTILINE)
_MACHINE_NAME = re.compile(r"[0-9a-f_\-.]*[0-9][0-9a-f_\-.]*", re.IGNORECASE)  # e.g. 000_f1b9941059cdcad5
TITLE_WORDS = 10


def plain_text_title(path: Path, first_paragraph: str) -> str:
    """A short first line reads as a headline; a machine-made file name is replaced by the opening words."""
    if "\n" not in first_paragraph and len(first_paragraph) <= 100 and not first_paragraph.endswith((".", ",", ";")):
        return first_paragraph
    if _MACHINE_NAME.fullmatch(path.stem):
        words = first_paragraph.split()
        return " ".join(words[:TITLE_WORDS]) + ("…" if len(words) > TITLE_WORDS else "")
    return title_from_name(path)


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


def read_text(path: Path, doc_id: str, limits: Limits) -> Document:
    text = read_text_file(path)
    spans = blank_line_spans(text)
    title = plain_text_title(path, text[spans[0][0]:spans[0][1]]) if spans else title_from_name(path)
    if path.suffix.lower() in {".md", ".markdown"}:
        spans = _split_headings(text, spans)
        heading = _HEADING.search(text)
        title = heading.group(1).strip() if heading else title_from_name(path)
    return build_document(doc_id, title, text, spans, str(path.resolve()))
