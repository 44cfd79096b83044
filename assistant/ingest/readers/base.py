"""What every reader shares: the error type, blank-line paragraph splitting and Document assembly."""

from __future__ import annotations

import codecs
import re
from pathlib import Path

from assistant.types import Document, Paragraph
from assistant.text.wording import shorten

_BLANK_LINES = re.compile(r"\n[ \t\r\f\v]*\n")
_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*\s")
MAX_PARAGRAPH_CHARS = 10_000  # a longer block is cut into paragraphs of at most this (see bounded_spans)


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


def bounded_spans(text: str, spans: list[tuple[int, int]], pages: list[int] | None = None,
                  limit: int = MAX_PARAGRAPH_CHARS) -> tuple[list[tuple[int, int]], list[int] | None]:
    """The spans with any longer than `limit` characters cut into pieces of at most `limit`, each ending at a
    sentence end where there is one in its second half, else at a space, else where it must; and their pages.

    Why: a text with no blank lines (a 50 MB file that is one line) was one paragraph, which the tokenizer, the
    chunker and BM25 each held whole several times over (12 GB before the first chunk was embedded), and which
    every citation of it would have carried. A piece of at most `limit` characters is a paragraph like any other."""
    out: list[tuple[int, int]] = []
    out_pages: list[int] = []
    for n, (start, end) in enumerate(spans):
        while end - start > limit:
            window = text[start + limit // 2:start + limit]
            ends = list(_SENTENCE_END.finditer(window))
            if ends:
                cut = start + limit // 2 + ends[-1].end()
            else:
                space = window.rfind(" ")
                cut = start + limit // 2 + space if space > 0 else start + limit
            piece = text[start:cut].rstrip()
            if piece:
                out.append((start, start + len(piece)))
                out_pages.append(pages[n] if pages else 0)
            start = cut
            while start < end and text[start].isspace():
                start += 1
        if end > start:
            out.append((start, end))
            out_pages.append(pages[n] if pages else 0)
    return out, (out_pages if pages else None)


def build_document(doc_id: str, title: str, text: str, spans: list[tuple[int, int]], source: str,
                   pages: list[int] | None = None) -> Document:
    if not spans:
        raise ReaderError("no text found (empty document)")
    spans, pages = bounded_spans(text, spans, pages)
    paragraphs = [
        Paragraph(doc_id=doc_id, title=title, number=n, text=text[s:e], start=s, end=e,
                  page=pages[n - 1] if pages else None)
        for n, (s, e) in enumerate(spans, start=1)
    ]
    return Document(doc_id=doc_id, title=title, text=text, paragraphs=paragraphs, source=source)


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


_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def text_encoding(path: Path) -> str:
    """The encoding a text file is read in: the one its byte-order mark names (UTF-8, UTF-16 LE/BE, UTF-32),
    else UTF-8. Raises ReaderError for a file that looks binary (NUL bytes and no UTF-16/32 mark).

    Why not guess other encodings: a wrong guess gives text that looks right and quotes wrongly; a clear "re-save
    it as UTF-8" does not.
    """
    with path.open("rb") as fh:
        start = fh.read(8192)
    encoding = next((name for bom, name in _BOMS if start.startswith(bom)), None)
    if encoding is None and b"\x00" in start:
        raise ReaderError("binary file, not text")
    return encoding or "utf-8"


def not_text(encoding: str, exc: UnicodeDecodeError) -> ReaderError:
    name = "UTF-8" if encoding.startswith("utf-8") else encoding.upper()
    return ReaderError(f"not {name} text (invalid byte at position {exc.start}); re-save it as UTF-8")


def read_text_file(path: Path) -> str:
    """A text file's text, decoded by its byte-order mark (see text_encoding). The bytes are dropped as soon as
    they are decoded, so a large file costs its text once (plus the bytes briefly), not three copies."""
    encoding = text_encoding(path)
    data = path.read_bytes()
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise not_text(encoding, exc) from None
    del data
    if not text or text.isspace():  # not strip(): that would copy a large text once more
        raise ReaderError("empty file")
    return text


def title_from_name(path: Path) -> str:
    return path.stem


def failure_reason(exc: Exception, suffix: str) -> str:
    """A file's skip reason for an error its parser raised (not a ReaderError, which says its own): how read_file
    and the PDF reader's process (reader_child.py) word it alike."""
    if isinstance(exc, (OSError, UnicodeError)):
        return f"cannot read: {exc}"
    return f"could not be read as {suffix} ({type(exc).__name__}: {shorten(str(exc), 160)})"
