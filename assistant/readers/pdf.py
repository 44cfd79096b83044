"""PDF: a paragraph is a text block as laid out on the page (pdfminer's text boxes), in reading order; each
paragraph keeps its page number (1-based, counted as the PDF's pages are, not printed page labels), which
citations show as "p. N".

A damaged or hostile PDF is a skip reason, never a traceback: whatever pdfminer raises while laying out the pages
becomes the file's reason. Not bounded here: pdfminer inflates a compressed stream whole, so a PDF holding a
deflate bomb can still take memory; max_file_mb bounds only its size on disk."""

from __future__ import annotations

import re
from pathlib import Path

from assistant.models import Document
from assistant.readers.base import ReaderError, build_document, join_blocks, normalise_space


def _clean(block: str) -> str:
    block = re.sub(r"(\w)-\n(\w)", r"\1\2", block)  # re-join words hyphenated at line ends
    return normalise_space(block)


def read_pdf(path: Path, doc_id: str) -> Document:
    from pdfminer.high_level import extract_pages
    from pdfminer.layout import LTTextContainer

    blocks: list[str] = []
    pages: list[int] = []
    try:
        for page_number, page in enumerate(extract_pages(str(path.resolve())), start=1):
            for element in page:
                if isinstance(element, LTTextContainer):
                    text = _clean(element.get_text())
                    if text:
                        blocks.append(text)
                        pages.append(page_number)
    except Exception as exc:  # pdfminer raises many exception types on broken files, its own and Python's
        detail = " ".join(str(exc).split())[:160]
        detail = f": {detail}" if detail else ""
        raise ReaderError(f"damaged or unsupported PDF ({type(exc).__name__}{detail})") from None
    if not blocks:
        raise ReaderError("no extractable text in the PDF (scanned images need OCR first)")
    title = _pdf_title(path) or path.stem
    text, spans = join_blocks(blocks)
    return build_document(doc_id, title, text, spans, str(path.resolve()), pages)


def _pdf_title(path: Path) -> str | None:
    try:
        from pdfminer.pdfdocument import PDFDocument
        from pdfminer.pdfparser import PDFParser

        with path.open("rb") as fh:
            info = PDFDocument(PDFParser(fh)).info
        raw = info[0].get("Title") if info else None
        if isinstance(raw, bytes):
            raw = raw.decode("utf-16") if raw.startswith(b"\xfe\xff") else raw.decode("latin-1")
        return normalise_space(raw) if raw and str(raw).strip() else None
    except Exception:
        return None
