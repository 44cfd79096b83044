"""Turn files and folders into Documents made of numbered paragraphs.

`collect(paths)` walks the given paths and yields either a parsed Document or a Skipped entry that says why a
file was not used; nothing here raises for one bad file, so one bad file never stops an ingest.
"""

from __future__ import annotations

import os
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


def collect(paths: list[str | Path], follow_symlinks: bool = False) -> Iterator[Document | Skipped]:
    """Documents and skipped files, one at a time (a large corpus is never all in memory). Raises
    FileNotFoundError for a path that does not exist, before anything is read.

    A document's `source` is the absolute path of the file as found in the folder (a symbolic link's own path, not
    its target), so a deleted link's document goes on the next ingest of its folder."""
    roots = [Path(os.path.abspath(Path(p).expanduser())) for p in paths]
    missing = [str(r) for r in roots if not r.exists()]
    if missing:
        raise FileNotFoundError(f"no such file or folder: {', '.join(missing)}")
    for root in roots:
        for path in walk(root, follow_symlinks):
            if isinstance(path, Skipped):
                yield path
                continue
            for item in read_file(path, doc_id_for(root, path)):
                if isinstance(item, Document):
                    item.source = str(path)
                yield item


def doc_id_for(root: Path, path: Path) -> str:
    """A file's id is its path inside the folder given (or its name, for a file given directly). The ingest
    qualifies it when it already belongs to another file (assistant/ingest/plan.py)."""
    return path.name if root == path else path.relative_to(root).as_posix()


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
