"""Bounds a file must pass before a parser sees it: its size on disk and, for zip packages (.docx .pptx .xlsx
.epub), what it expands to and whether its XML declares a DTD.

Why before parsing: python-docx, python-pptx and openpyxl read every part of a package into memory and build a
full tree of its XML; a zip bomb (a 1 MB .docx holding 300 MB of repeated XML) took a process to 10.8 GB before
this check. Here it is refused from the zip's central directory alone, in milliseconds.

What is checked, in order (`check_file`):
- the file's size on disk against `max_file_mb`, and a plain-text file's against `max_text_mb` (one text file is
  one document: read whole, and its every chunk lands in the in-memory vector index, ~2.7 KB a chunk; a
  PDF's text is held to the same limit while it is read, and its streams are checked for deflate bombs: pdf.py);
- for a zip package: the number of entries (read from the end-of-central-directory record, before zipfile builds
  an object per entry), the declared uncompressed total against `max_expanded_mb` and the XML parts' total
  against `max_xml_mb` (parsed XML takes about 15x its size in memory; pictures and media only their size), and
  the compression ratio of every entry of 1 MB or more against `max_compression_ratio`
  (legitimate Office XML compresses about 10-30x; the bomb above is 300x);
- then every entry is decompressed as a stream, counting the bytes that really come out (a declared size can lie;
  Python's zipfile also stops at the declared size and fails the CRC check), and every XML part is scanned for
  `<!DOCTYPE` and `<!ENTITY`. Office packages never carry a DTD, so any DOCTYPE there is refused; an EPUB's XHTML
  may say `<!DOCTYPE html>`, so there only an internal subset (`[...]`) or an ENTITY declaration is refused. This
  keeps entity expansion ("billion laughs") and external entities away from lxml, whichever library parses.

Every refusal is a ReaderError whose message names the limit and the setting that raises it.
"""

from __future__ import annotations

import codecs
import re
import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path

from assistant.config.settings import ReadingLimits
from assistant.ingest.readers.base import ReaderError

MB = 1_048_576
ZIP_FORMATS = {".docx", ".pptx", ".xlsx", ".epub"}
TEXT_FORMATS = {".txt", ".text", ".md", ".markdown", ".csv", ".tsv", ".html", ".htm"}
MAX_ZIP_ENTRIES = 20_000  # Office files hold tens to hundreds of parts, EPUBs a few thousand at most
RATIO_FLOOR = MB  # entries smaller than this are not ratio-checked: tiny XML parts compress 100x and harm nobody
XML_SUFFIXES = (".xml", ".rels", ".opf", ".ncx", ".xhtml", ".html", ".htm", ".svg", ".vml")
_CHUNK = 1 << 16
_DECLARATION = re.compile(r"<!\s*(DOCTYPE|ENTITY)\b([^>\[]*)(\[)?", re.IGNORECASE)


@dataclass(frozen=True, kw_only=True)
class Limits:
    """The caps, in bytes and as a ratio, from the reading-limit settings (config.settings.ReadingLimits:
    max_file_mb, max_expanded_mb, max_xml_mb, max_compression_ratio, max_text_mb, max_document_paragraphs,
    max_reader_mb, max_read_seconds). The numbers live there only: `from_settings(settings)`, or `defaults()` for
    the fields' defaults."""

    max_file_bytes: int
    max_expanded_bytes: int
    max_xml_bytes: int
    max_ratio: float
    max_text_bytes: int
    max_paragraphs: int
    max_reader_bytes: int
    max_read_seconds: float

    @classmethod
    def from_settings(cls, settings: ReadingLimits) -> Limits:
        return cls(max_file_bytes=int(settings.max_file_mb * MB), max_expanded_bytes=int(settings.max_expanded_mb * MB),
                   max_xml_bytes=int(settings.max_xml_mb * MB), max_ratio=float(settings.max_compression_ratio),
                   max_text_bytes=int(settings.max_text_mb * MB), max_paragraphs=int(settings.max_document_paragraphs),
                   max_reader_bytes=int(settings.max_reader_mb * MB), max_read_seconds=float(settings.max_read_seconds))

    @classmethod
    def defaults(cls) -> Limits:
        return cls.from_settings(ReadingLimits())  # the fields' defaults, no environment or file


def _mb(size: float) -> str:
    return f"{size / MB:,.1f} MB"


def too_many_paragraphs(limits: Limits, count: int | None = None, page: int | None = None) -> str:
    """The refusal of a document of more paragraphs than `max_document_paragraphs` (why there is a limit:
    readers/__init__.py `check_paragraphs`): with the `count` of a document read whole, or the `page` at which a
    PDF being read passed the limit (pdf.py stops there)."""
    found = (f"more than {limits.max_paragraphs:,} by page {page};" if page is not None else
             f"{count:,}; the limit is {limits.max_paragraphs:,},")
    return (f"too many paragraphs for one document ({found} setting max_document_paragraphs): split it into "
            "several files")


def check_file(path: Path, limits: Limits) -> None:
    """Raise ReaderError when `path` is larger than allowed or, for a zip package, expands beyond the caps."""
    size = path.stat().st_size
    if size > limits.max_file_bytes:
        raise ReaderError(f"too large ({_mb(size)}; the limit is {_mb(limits.max_file_bytes)}, setting max_file_mb)")
    if path.suffix.lower() in TEXT_FORMATS and size > limits.max_text_bytes:
        raise ReaderError(f"too large for one text document ({_mb(size)}; the limit is {_mb(limits.max_text_bytes)}, "
                          "setting max_text_mb): split it into several files, or raise the limit if the machine has "
                          "the memory (about 11 MB per MB of text)")
    if path.suffix.lower() in ZIP_FORMATS:
        check_zip(path, limits, allow_doctype=path.suffix.lower() == ".epub")


def check_zip(path: Path, limits: Limits, allow_doctype: bool = False) -> None:
    entries = _declared_entries(path)
    if entries is not None and entries > MAX_ZIP_ENTRIES:
        raise ReaderError(f"refused: the package holds {entries:,} parts (at most {MAX_ZIP_ENTRIES:,} are read)")
    try:
        with zipfile.ZipFile(path) as package:
            infos = package.infolist()
            _check_declared(infos, limits)
            _check_streams(package, infos, limits, allow_doctype)
    except zipfile.BadZipFile as exc:
        raise ReaderError(f"not a valid {path.suffix.lower()} file (damaged zip package: {exc})") from None
    except (EOFError, OSError, NotImplementedError, RuntimeError) as exc:  # truncated, unknown method, encrypted
        raise ReaderError(f"not a readable {path.suffix.lower()} file ({type(exc).__name__}: {exc})") from None


def _declared_entries(path: Path) -> int | None:
    """The entry count of the end-of-central-directory record (zip64 aware), or None when there is none."""
    with path.open("rb") as fh:
        fh.seek(0, 2)
        size = fh.tell()
        fh.seek(max(0, size - 65_557))  # the record is 22 bytes plus a comment of at most 65,535
        tail = fh.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) < at + 22:
        return None
    count = struct.unpack("<H", tail[at + 10:at + 12])[0]
    locator = at - 20
    if count == 0xFFFF and locator >= 0 and tail[locator:locator + 4] == b"PK\x06\x07":
        with path.open("rb") as fh:
            fh.seek(struct.unpack("<Q", tail[locator + 8:locator + 16])[0])
            record = fh.read(56)
        if record[:4] == b"PK\x06\x06" and len(record) == 56:
            count = struct.unpack("<Q", record[32:40])[0]
    return count


def _is_xml(info: zipfile.ZipInfo) -> bool:
    return info.filename.lower().endswith(XML_SUFFIXES)


def _too_large(total: int, xml_total: int, limits: Limits, detail: str) -> ReaderError | None:
    if total > limits.max_expanded_bytes:
        return ReaderError(f"refused: it expands to more than {_mb(limits.max_expanded_bytes)}{detail} "
                           "(setting max_expanded_mb)")
    if xml_total > limits.max_xml_bytes:
        return ReaderError(f"refused: its XML expands to more than {_mb(limits.max_xml_bytes)}{detail} "
                           "(setting max_xml_mb)")
    return None


def _check_declared(infos: list[zipfile.ZipInfo], limits: Limits) -> None:
    total = xml_total = 0
    for info in infos:
        total += info.file_size
        xml_total += info.file_size if _is_xml(info) else 0
        if error := _too_large(total, xml_total, limits, f"; {info.filename} alone is {_mb(info.file_size)}"):
            raise error
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size >= RATIO_FLOOR and ratio > limits.max_ratio:
            raise ReaderError(f"refused: {info.filename} is compressed {ratio:,.0f} to 1 ({_mb(info.compress_size)} "
                              f"expanding to {_mb(info.file_size)}), a zip bomb's ratio (the limit is "
                              f"{limits.max_ratio:g}, setting max_compression_ratio)")


def _check_streams(package: zipfile.ZipFile, infos: list[zipfile.ZipInfo], limits: Limits,
                   allow_doctype: bool) -> None:
    total = xml_total = 0
    for info in infos:
        if info.is_dir():
            continue
        scan = None
        with package.open(info) as stream:
            first = True
            while chunk := stream.read(_CHUNK):
                if first:  # XML by what it holds, not by its name: a main part renamed .bin is XML all the same
                    first = False
                    if _is_xml(info) or _looks_like_xml(chunk):
                        scan = _DeclarationScan(info.filename, allow_doctype)
                total += len(chunk)
                xml_total += len(chunk) if scan else 0
                if error := _too_large(total, xml_total, limits, ""):
                    raise error
                if scan:
                    scan.feed(chunk)


class _DeclarationScan:
    """Looks for DTD and entity declarations in an XML part fed in chunks, in the part's own encoding."""

    def __init__(self, name: str, allow_doctype: bool) -> None:
        self.name, self.allow_doctype = name, allow_doctype
        self.decoder = None
        self.tail = ""

    def feed(self, chunk: bytes) -> None:
        if self.decoder is None:
            self.decoder = codecs.getincrementaldecoder(_xml_encoding(chunk))(errors="replace")
        text = self.tail + self.decoder.decode(chunk)
        for found in _DECLARATION.finditer(text):
            if found.end() == len(text) and not found.group(3):  # may continue in the next chunk
                break
            kind = found.group(1).upper()
            if kind == "ENTITY" or not self.allow_doctype or found.group(3):
                what = "an entity declaration" if kind == "ENTITY" else "a DTD (DOCTYPE)"
                raise ReaderError(f"refused: {self.name} contains {what}; documents with DTDs or entities are not "
                                  "read (they can expand without bound or read other files)")
        self.tail = text[-1000:]


def _xml_encoding(start: bytes) -> str:
    """UTF-8 unless the part starts with a UTF-16/32 byte-order mark or the UTF-16/32 form of '<' (the XML
    specification's autodetection: a part in UTF-32 without a mark is still read as UTF-32)."""
    if start.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return "utf-32"
    if start.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if start.startswith(b"<\x00\x00\x00"):
        return "utf-32-le"
    if start.startswith(b"\x00\x00\x00<"):
        return "utf-32-be"
    if start.startswith(b"<\x00"):
        return "utf-16-le"
    if start.startswith(b"\x00<"):
        return "utf-16-be"
    return "utf-8"


def _looks_like_xml(start: bytes) -> bool:
    """Does a part begin, after a byte-order mark and white space, with '<' (in whichever encoding)?"""
    try:
        text = codecs.getincrementaldecoder(_xml_encoding(start))(errors="replace").decode(start[:256])
    except LookupError:
        return False
    return text.lstrip("\ufeff \t\r\n").startswith("<")
