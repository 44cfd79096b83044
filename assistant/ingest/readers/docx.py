"""Word .docx: a paragraph is a Word paragraph; a table row is one paragraph with its cells joined by ' | '.

By the time this runs, limits.py has bounded what the package expands to and refused any DTD in its XML;
python-docx parses with lxml and resolve_entities=False besides."""

from __future__ import annotations

import zipfile
from pathlib import Path

from assistant.types import Document
from assistant.ingest.readers.base import ReaderError, build_document, join_blocks, normalise_space
from assistant.ingest.readers.limits import Limits


def read_docx(path: Path, doc_id: str, limits: Limits) -> Document:
    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from lxml.etree import XMLSyntaxError
    from docx.table import Table
    from docx.text.paragraph import Paragraph as WordParagraph

    try:
        word = docx.Document(str(path.resolve()))
    except (zipfile.BadZipFile, PackageNotFoundError, KeyError, ValueError) as exc:
        raise ReaderError(f"not a valid .docx file ({type(exc).__name__})") from None
    except XMLSyntaxError as exc:
        raise ReaderError(f"damaged .docx: malformed XML ({' '.join(str(exc).split())[:160]})") from None
    blocks: list[str] = []
    for item in word.iter_inner_content():
        if isinstance(item, WordParagraph):
            text = normalise_space(item.text)
            if text:
                blocks.append(text)
        elif isinstance(item, Table):
            for row in item.rows:
                cells = [normalise_space(cell.text) for cell in row.cells]
                line = " | ".join(c for c in dict.fromkeys(cells) if c)  # merged cells repeat
                if line:
                    blocks.append(line)
    if not blocks:
        raise ReaderError("no text found in the .docx")
    title = normalise_space(word.core_properties.title or "") or path.stem
    text, spans = join_blocks(blocks)
    return build_document(doc_id, title, text, spans, str(path.resolve()))
