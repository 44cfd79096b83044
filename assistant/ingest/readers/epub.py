"""EPUB: the chapters in reading order (the package's spine), each read like an HTML page's content: a
paragraph is a block element (p, h1-h6, li, ...), numbered through the whole book.

Read directly with zipfile, defusedxml and BeautifulSoup, not through llama-index's EpubReader: that reader needs
EbookLib (AGPL-3.0) and html2text (GPL-3.0), licences this Apache-2.0 product does not take on, and html2text
turns chapters into Markdown lines, losing the paragraph boundaries we number. The package was already checked
by limits.py (sizes, ratio, no entity declarations) before this runs; container.xml and the OPF are parsed with
defusedxml all the same. A chapter's <header>/<footer> is content here (chapter titles live there), unlike a web
page's. Books whose chapters are encrypted (DRM) are refused: their text cannot be read.
"""

from __future__ import annotations

import posixpath
import warnings
import zipfile
from pathlib import Path
from urllib.parse import unquote

from bs4 import BeautifulSoup, XMLParsedAsHTMLWarning
from defusedxml import ElementTree

from assistant.types import Document
from assistant.ingest.readers.base import ReaderError, build_document, join_blocks, normalise_space
from assistant.ingest.readers.html import html_blocks
from assistant.ingest.readers.limits import Limits

NS = {"c": "urn:oasis:names:tc:opendocument:xmlns:container", "opf": "http://www.idpf.org/2007/opf",
      "dc": "http://purl.org/dc/elements/1.1/", "enc": "http://www.w3.org/2001/04/xmlenc#"}
CHAPTER_TYPES = {"application/xhtml+xml", "text/html"}


def _xml(book: zipfile.ZipFile, name: str):
    try:
        return ElementTree.fromstring(book.read(name))
    except KeyError:
        raise ReaderError(f"not a valid .epub file ({name} is missing)") from None


def _chapters(book: zipfile.ZipFile) -> tuple[str, list[str]]:
    """The book's title and its chapters' names inside the zip, in spine order."""
    rootfile = _xml(book, "META-INF/container.xml").find(".//c:rootfile", NS)
    if rootfile is None or not rootfile.get("full-path"):
        raise ReaderError("not a valid .epub file (container.xml names no package document)")
    opf_name = rootfile.get("full-path")
    opf = _xml(book, opf_name)
    manifest = {item.get("id"): item for item in opf.iterfind(".//opf:manifest/opf:item", NS)}
    base = posixpath.dirname(opf_name)
    chapters = []
    for ref in opf.iterfind(".//opf:spine/opf:itemref", NS):
        item = manifest.get(ref.get("idref"))
        if item is not None and item.get("media-type") in CHAPTER_TYPES and item.get("href"):
            chapters.append(posixpath.normpath(posixpath.join(base, unquote(item.get("href")))))
    return normalise_space(opf.findtext(".//dc:title", "", NS)), chapters


def _encrypted(book: zipfile.ZipFile) -> set[str]:
    if "META-INF/encryption.xml" not in book.namelist():
        return set()
    refs = _xml(book, "META-INF/encryption.xml").iterfind(".//enc:CipherReference", NS)
    return {posixpath.normpath(unquote(ref.get("URI", ""))) for ref in refs}


def read_epub(path: Path, doc_id: str, limits: Limits) -> Document:
    blocks: list[str] = []
    with zipfile.ZipFile(path) as book:
        title, chapters = _chapters(book)
        if set(chapters) & _encrypted(book):
            raise ReaderError("the book's chapters are encrypted (DRM); they cannot be read")
        for name in chapters:
            try:
                markup = book.read(name)
            except KeyError:
                continue  # listed but not in the package: read the rest
            with warnings.catch_warnings():  # XHTML read as HTML on purpose: html.parser knows no DTDs
                warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
                soup = BeautifulSoup(markup, "html.parser")
            html_blocks(soup.body or soup, blocks, page=False)
    if not blocks:
        raise ReaderError("no text found in the .epub")
    text, spans = join_blocks(blocks)
    return build_document(doc_id, title or path.stem, text, spans, str(path.resolve()))
