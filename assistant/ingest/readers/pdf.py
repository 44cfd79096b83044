"""PDF: a paragraph is a text block as laid out on the page (pdfminer's text boxes), in reading order; each
paragraph keeps its page number (1-based, counted as the PDF's pages are, not printed page labels), which
citations show as "p. N".

A damaged or hostile PDF is a skip reason, never a traceback: whatever pdfminer raises while laying out the pages
becomes the file's reason.

Memory is bounded while reading, not after (a 200 MB PDF can hold far more text than a text file may):
- before any page is laid out, every Flate-compressed stream pdfminer would inflate (page contents, forms, fonts;
  not images, which text extraction never decodes) is inflated once as a stream, counting bytes, and refused when
  it expands more than `max_compression_ratio` to 1 (a deflate bomb) or past `max_expanded_mb`: pdfminer inflates
  a stream whole, in one call, with no limit;
- pages are read one at a time and not kept (pdfminer's document cache is off: with it, every page's inflated
  content stays in memory until the last page);
- a page may hold at most MAX_PAGE_CHARS characters (laying a page out, pdfminer takes about 4.5 KB per
  character: one page of 195,000 characters peaked at 890 MB), drawings are not built at all (they are never
  text), and reading stops with a reason once the text passes `max_text_mb` or the paragraphs pass
  `max_document_paragraphs`, at the page (or character) that passes it.
Not bounded here: the cross-reference table (one entry per object, read whole: a 200 MB file of tiny objects
takes some hundred MB), streams under other filters (run-length expands 64 to 1, LZW over 1,000 to 1, or Flate
behind another filter; pdfminer decodes them whole too) and time (pdfminer lays out some 20-60 KB of text a second
on 2 shared cores). Those are bounded from outside: read_file runs this reader in a child process capped at
`max_reader_mb` of memory and `max_read_seconds` (isolated.py).
"""

from __future__ import annotations

import re
import zlib
from pathlib import Path

from assistant.types import Document
from assistant.ingest.readers.base import ReaderError, build_document, join_blocks, normalise_space
from assistant.ingest.readers.limits import MB, RATIO_FLOOR, Limits, too_many_paragraphs

MAX_PAGE_CHARS = 100_000  # a dense newspaper page holds about 40,000; laying out 100,000 takes some 450 MB
_INFLATE_PIECE = 1 << 20


def _clean(block: str) -> str:
    block = re.sub(r"(\w)-\n(\w)", r"\1\2", block)  # re-join words hyphenated at line ends
    return normalise_space(block)


def read_pdf(path: Path, doc_id: str, limits: Limits) -> Document:
    blocks: list[str] = []
    pages: list[int] = []
    size = 0
    try:
        check_streams(path, limits)
        device = _text_device(limits.max_text_bytes)
        for page_number, page in enumerate(_layouts(path, device), start=1):
            for text in _text_blocks(page):
                blocks.append(text)
                pages.append(page_number)
                size += len(text.encode()) + 2
                if size > limits.max_text_bytes:
                    raise too_much_text(limits.max_text_bytes, page_number)
                if len(blocks) > limits.max_paragraphs:
                    raise ReaderError(too_many_paragraphs(limits, page=page_number))
            device.budget = limits.max_text_bytes - size  # characters the next page may still lay out
    except (ReaderError, MemoryError):  # MemoryError: the reader's process cap (isolated.py) says it
        raise
    except Exception as exc:  # pdfminer raises many exception types on broken files, its own and Python's
        detail = " ".join(str(exc).split())[:160]
        detail = f": {detail}" if detail else ""
        raise ReaderError(f"damaged or unsupported PDF ({type(exc).__name__}{detail})") from None
    if not blocks:
        raise ReaderError("no extractable text in the PDF (scanned images need OCR first)")
    title = _pdf_title(path) or path.stem
    text, spans = join_blocks(blocks)
    return build_document(doc_id, title, text, spans, str(path.resolve()), pages)


def too_much_text(max_text_bytes: int, page_number: int) -> ReaderError:
    return ReaderError(f"too much text for one document (more than {round(max_text_bytes / MB, 3):g} MB by page "
                       f"{page_number}; setting max_text_mb): split it into several files")


def _text_blocks(page):
    from pdfminer.layout import LTTextContainer

    for element in page:
        if isinstance(element, LTTextContainer) and (text := _clean(element.get_text())):
            yield text


def _text_device(max_text_bytes: int):
    """pdfminer's page aggregator (what extract_pages uses), counting the characters of the page it lays out:
    a page may not hold more than the text still allowed (`budget`) or MAX_PAGE_CHARS. Drawings are not built."""
    from pdfminer.converter import PDFPageAggregator
    from pdfminer.layout import LAParams
    from pdfminer.pdfinterp import PDFResourceManager

    class TextOnly(PDFPageAggregator):
        budget = max_text_bytes

        def begin_page(self, page, ctm) -> None:
            self.chars = 0
            super().begin_page(page, ctm)

        def render_char(self, *args, **kwargs) -> float:
            self.chars += 1
            if self.chars > self.budget:
                raise too_much_text(max_text_bytes, self.pageno)
            if self.chars > MAX_PAGE_CHARS:
                raise ReaderError(f"refused: page {self.pageno} holds more than {MAX_PAGE_CHARS:,} characters "
                                  "(no real page does)")
            return super().render_char(*args, **kwargs)

        def paint_path(self, *args, **kwargs) -> None:
            pass

    return TextOnly(PDFResourceManager(caching=True), laparams=LAParams())  # fonts cached: small, slow to rebuild


def _layouts(path: Path, device):
    """The laid-out pages, one at a time, as pdfminer's extract_pages gives them but without its document cache
    (which keeps every page's inflated content until the last page)."""
    from pdfminer.pdfinterp import PDFPageInterpreter
    from pdfminer.pdfpage import PDFPage

    interpreter = PDFPageInterpreter(device.rsrcmgr, device)
    with path.open("rb") as fh:
        for page in PDFPage.get_pages(fh, caching=False):
            interpreter.process_page(page)
            yield device.get_result()


def check_streams(path: Path, limits: Limits) -> None:
    """Inflate every Flate stream pdfminer may inflate, counting; raise ReaderError for a bomb (see the module)."""
    from pdfminer.pdfdocument import PDFDocument
    from pdfminer.pdfparser import PDFParser
    from pdfminer.pdftypes import LITERALS_FLATE_DECODE, PDFStream
    from pdfminer.psparser import LIT

    with path.open("rb") as fh:
        document = PDFDocument(PDFParser(fh), caching=False)
        for xref in document.xrefs:
            for objid in xref.get_objids():
                try:
                    if xref.get_pos(objid)[0] is not None:  # inside an object stream: never a stream itself
                        continue
                    stream = document.getobj(objid)
                    if not isinstance(stream, PDFStream) or stream.get("Subtype") is LIT("Image"):
                        continue
                    filters = stream.get_filters()
                    if not filters or filters[0][0] not in LITERALS_FLATE_DECODE or not stream.rawdata:
                        continue
                    data = stream.rawdata
                    if stream.decipher:
                        data = stream.decipher(objid, stream.genno, data, stream.attrs)
                except MemoryError:
                    raise
                except Exception:  # an object pdfminer cannot parse: its own error, if it ever needs it
                    continue
                _check_inflated(data, limits, objid)


def _check_inflated(data: bytes, limits: Limits, objid: int) -> None:
    cap = min(limits.max_expanded_bytes, max(RATIO_FLOOR, int(len(data) * limits.max_ratio)))
    inflater = zlib.decompressobj()
    size = 0
    view = memoryview(data)
    try:
        for start in range(0, len(data), _INFLATE_PIECE):
            piece = view[start:start + _INFLATE_PIECE]
            while piece and not inflater.eof:
                size += len(inflater.decompress(piece, _INFLATE_PIECE))
                piece = inflater.unconsumed_tail
                if size > cap:
                    break
            if size > cap or inflater.eof:
                break
    except zlib.error:  # pdfminer keeps what inflates before the damage, which was counted
        pass
    if size <= cap:
        return
    if cap == limits.max_expanded_bytes:
        raise ReaderError(f"refused: stream {objid} expands to more than {cap / MB:,.1f} MB (setting "
                          "max_expanded_mb)")
    raise ReaderError(f"refused: stream {objid} is compressed more than {limits.max_ratio:g} to 1 ({len(data):,} "
                      f"bytes expanding past {size / MB:,.1f} MB), a deflate bomb's ratio (setting "
                      "max_compression_ratio)")


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
