"""Turn files and folders into Documents made of numbered paragraphs.

`collect(paths)` walks the given paths and yields either a parsed Document or a Skipped entry that says why a
file was not used; nothing here raises for one bad file, so one bad file never stops an ingest.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from assistant.models import Document
from assistant.readers.base import ReaderError
from assistant.readers.docx import read_docx
from assistant.readers.html import read_html
from assistant.readers.jsonl import read_jsonl
from assistant.readers.pdf import read_pdf
from assistant.readers.txt_md import read_text

READERS = {
    ".txt": read_text, ".text": read_text, ".md": read_text, ".markdown": read_text,
    ".html": read_html, ".htm": read_html, ".pdf": read_pdf, ".docx": read_docx,
}
SUPPORTED = sorted([*READERS, ".jsonl"])


@dataclass
class Skipped:
    path: str
    reason: str


def files_under(root: Path) -> list[Path]:
    """The files an ingest of `root` reads: the file itself, or every file below the folder that is not hidden."""
    if root.is_file():
        return [root]
    return sorted(p for p in root.rglob("*") if p.is_file() and not any(
        part.startswith(".") for part in p.relative_to(root).parts))


def collect(paths: list[str | Path]) -> Iterator[Document | Skipped]:
    """Raises FileNotFoundError for a path that does not exist (before anything is read)."""
    roots = [Path(p).expanduser() for p in paths]
    missing = [str(r) for r in roots if not r.exists()]
    if missing:
        raise FileNotFoundError(f"no such file or folder: {', '.join(missing)}")
    for root in roots:
        for path in files_under(root):
            yield from read_file(path, doc_id_for(root, path))


def doc_id_for(root: Path, path: Path) -> str:
    """A file's id is its path inside the folder given (or its name, for a file given directly)."""
    return path.name if root.is_file() else path.relative_to(root).as_posix()


def read_file(path: Path, doc_id: str) -> Iterator[Document | Skipped]:
    suffix = path.suffix.lower()
    try:
        if suffix == ".jsonl":
            for item in read_jsonl(path):
                yield item if isinstance(item, Document) else Skipped(*item)
            return
        reader = READERS.get(suffix)
        if reader is None:
            yield Skipped(str(path), f"unsupported file type '{suffix or path.name}' (supported: "
                                     f"{' '.join(SUPPORTED)})")
            return
        yield reader(path, doc_id)
    except ReaderError as exc:
        yield Skipped(str(path), str(exc))
    except (OSError, UnicodeError) as exc:
        yield Skipped(str(path), f"cannot read: {exc}")
