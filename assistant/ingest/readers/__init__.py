"""Turn files and folders into Documents made of numbered paragraphs.

`collect(paths)` walks the given paths and yields either a parsed Document or a Skipped entry that says why a
file was not used; nothing here raises for one bad file, so one bad file never stops an ingest.

A reader is one function per format, `read(path, doc_id, limits) -> Document`, registered in READERS by suffix
(JSON Lines, the one multi-record format, yields a Document per line). Before a reader sees a file, `read_file`
checks it against the Limits (size on disk; for zip packages what they expand to and whether their XML declares a
DTD): see limits.py. Every reader is given the Limits; a reader whose file can hold more than its size shows
(PDF: compressed streams, text laid out page by page) also bounds itself with them while it reads. PDFs are read
in a child process whose memory and time are capped (isolated.py), since their parser cannot be bounded from
outside.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from assistant.types import Document
from assistant.ingest.readers.base import ReaderError, failure_reason
from assistant.ingest.readers.docx import read_docx
from assistant.ingest.readers.epub import read_epub
from assistant.ingest.readers.html import read_html
from assistant.ingest.readers.isolated import ISOLATED_SUFFIXES, read_isolated, stop_reader
from assistant.ingest.readers.jsonl import read_jsonl
from assistant.ingest.readers.limits import Limits, check_file, too_many_paragraphs
from assistant.ingest.readers.pdf import read_pdf
from assistant.ingest.readers.pptx import read_pptx
from assistant.ingest.readers.tables import read_csv, read_xlsx
from assistant.ingest.readers.txt_md import read_text

log = logging.getLogger(__name__)

READERS = {
    ".txt": read_text, ".text": read_text, ".md": read_text, ".markdown": read_text,
    ".html": read_html, ".htm": read_html, ".pdf": read_pdf, ".docx": read_docx,
    ".pptx": read_pptx, ".csv": read_csv, ".tsv": read_csv, ".xlsx": read_xlsx, ".epub": read_epub,
}
SUPPORTED = sorted([*READERS, ".jsonl"])


@dataclass
class Skipped:
    path: str
    reason: str


def walk(root: Path, follow_symlinks: bool = False) -> Iterator[Path | Skipped]:
    """The files an ingest of `root` reads, in path order: the file itself, or every file below the folder that is
    not hidden. A symbolic link whose target lies outside the folder is not followed unless `follow_symlinks`: it
    is yielded as Skipped, so the user learns why (a link to /etc/... inside a corpus must not leak into answers).
    """
    if not root.is_dir():
        yield root
        return
    inside = root.resolve()
    seen = {inside}
    found: list[Path | Skipped] = []
    for folder, dirs, names in os.walk(root, followlinks=follow_symlinks):
        for name in list(dirs):
            path = Path(folder) / name
            target = path.resolve()
            if name.startswith(".") or target in seen:  # hidden, or already walked (a link loop)
                dirs.remove(name)
            elif path.is_symlink() and not follow_symlinks:
                dirs.remove(name)  # a link to a folder inside is read where it really is
                if not target.is_relative_to(inside):
                    found.append(Skipped(str(path), LINK_OUTSIDE))
            else:
                seen.add(target)
        for name in names:
            path = Path(folder) / name
            if name.startswith(".") or not path.is_file():  # hidden, or a link to nothing
                continue
            if path.is_symlink() and not follow_symlinks and not path.resolve().is_relative_to(inside):
                found.append(Skipped(str(path), LINK_OUTSIDE))
            else:
                found.append(path)
    yield from sorted(found, key=lambda item: Path(item.path) if isinstance(item, Skipped) else item)


LINK_OUTSIDE = "a symbolic link to something outside the folder: not followed (use --follow-symlinks to include it)"


def files_under(root: Path, follow_symlinks: bool = False) -> list[Path]:
    """The files an ingest of `root` reads (see `walk`)."""
    return [item for item in walk(root, follow_symlinks) if isinstance(item, Path)]


def collect(paths: list[str | Path], limits: Limits | None = None,
            follow_symlinks: bool = False) -> Iterator[Document | Skipped]:
    """Documents and skipped files, one at a time (a large corpus is never all in memory). Raises
    FileNotFoundError for a path that does not exist, before anything is read. `limits`: the caps each file is
    checked against (default: the defaults of the Settings fields).

    A document's `source` is the absolute path of the file as found in the folder (a symbolic link's own path, not
    its target), so a deleted link's document goes on the next ingest of its folder."""
    roots = [Path(os.path.abspath(Path(p).expanduser())) for p in paths]
    missing = [str(r) for r in roots if not r.exists()]
    if missing:
        raise FileNotFoundError(f"no such file or folder: {', '.join(missing)}")
    try:
        for root in roots:
            for path in walk(root, follow_symlinks):
                if isinstance(path, Skipped):
                    yield path
                    continue
                for item in read_file(path, doc_id_for(root, path), limits):
                    if isinstance(item, Document):
                        item.source = str(path)
                    yield item
    finally:
        stop_reader()  # a PDF reader's process does not idle on in a server between uploads


def doc_id_for(root: Path, path: Path) -> str:
    """A file's id is its path inside the folder given (or its name, for a file given directly). The ingest
    qualifies it when it already belongs to another file (assistant/ingest/plan.py)."""
    return path.name if root == path else path.relative_to(root).as_posix()


def read_file(path: Path, doc_id: str, limits: Limits | None = None) -> Iterator[Document | Skipped]:
    """Yield the file's Document(s), or one Skipped saying why not. Never raises for a bad file: whatever a
    parser raises on a hostile or damaged file becomes that file's reason, so the rest of the batch goes on."""
    suffix = path.suffix.lower()
    if suffix != ".jsonl" and suffix not in READERS:
        yield Skipped(str(path), f"unsupported file type '{suffix or path.name}' (supported: {' '.join(SUPPORTED)})")
        return
    limits = limits or Limits.defaults()
    try:
        check_file(path, limits)
        if suffix == ".jsonl":
            for item in read_jsonl(path):
                yield check_paragraphs(item, limits) if isinstance(item, Document) else Skipped(*item)
        elif suffix in ISOLATED_SUFFIXES:
            yield check_paragraphs(read_isolated(suffix, path, doc_id, limits), limits)
        else:
            yield check_paragraphs(READERS[suffix](path, doc_id, limits), limits)
    except ReaderError as exc:
        yield Skipped(str(path), str(exc))
    except Exception as exc:  # a parser's own error on a malformed file (lxml, pdfminer, openpyxl, ...)
        log.debug("reading %s failed", path, exc_info=True)
        yield Skipped(str(path), failure_reason(exc, suffix))


def check_paragraphs(doc: Document, limits: Limits) -> Document | Skipped:
    """A document of more paragraphs than `max_document_paragraphs` is refused: every paragraph becomes a chunk in
    the vector index chromadb holds in memory (about 2.7 KB each; a 50 MB text file is 89,000), and a small
    package can hold a great many (a 1 MB .docx of 600,000 empty-looking table rows)."""
    if len(doc.paragraphs) <= limits.max_paragraphs:
        return doc
    return Skipped(doc.source or doc.doc_id, too_many_paragraphs(limits, count=len(doc.paragraphs)))
