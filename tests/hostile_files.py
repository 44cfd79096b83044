"""Hostile and awkward files, built on the spot for the tests and for benchmarks/hostile_files.py.

Each builder writes one file and returns its path. Nothing here is a fixture file in the repository: a zip bomb
is 1 MB of repetition on disk, so it is made when needed.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

PARAGRAPH = b"<w:p><w:r><w:t>All work and no play makes Jack a dull boy.</w:t></w:r></w:p>"


def word_file(path: Path, *paragraphs: str, title: str = "") -> Path:
    """A real .docx written by python-docx."""
    import docx

    document = docx.Document()
    if title:
        document.core_properties.title = title
    for text in paragraphs:
        document.add_paragraph(text)
    document.save(path)
    return path


def _replace_part(source: Path, target: Path, name: str, write) -> Path:
    """Copy a zip package, replacing the part `name` by what `write(stream)` writes into it (deflated)."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as new:
        for info in old.infolist():
            if info.filename == name:
                part = zipfile.ZipInfo(name, info.date_time)
                part.compress_type = zipfile.ZIP_DEFLATED
                with new.open(part, "w", force_zip64=True) as stream:
                    write(stream)
            else:
                new.writestr(info, old.read(info.filename), compress_type=zipfile.ZIP_DEFLATED)
    return target


def zip_bomb_docx(path: Path, expanded_mb: int = 300) -> Path:
    """A valid-looking .docx whose word/document.xml expands to `expanded_mb` MB (about 1 MB on disk at 300)."""
    template = word_file(path.with_suffix(".template.docx"), "placeholder")
    body = PARAGRAPH * (1_048_576 // len(PARAGRAPH))

    def write(stream) -> None:
        stream.write(b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:document xmlns:w='
                     b'"http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>')
        for _ in range(expanded_mb):
            stream.write(body)
        stream.write(b"</w:body></w:document>")

    _replace_part(template, path, "word/document.xml", write)
    template.unlink()
    return path


def docx_with_document_xml(path: Path, xml: bytes) -> Path:
    """A .docx whose word/document.xml is exactly `xml` (malformed XML, a DOCTYPE, ...)."""
    template = word_file(path.with_suffix(".template.docx"), "placeholder")
    _replace_part(template, path, "word/document.xml", lambda stream: stream.write(xml))
    template.unlink()
    return path


BAD_XML = b'<?xml version="1.0"?><w:document xmlns:w="x"><w:body><w:p><w:t>unclosed</w:body>'
LAUGHS = (b'<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
          + b"".join(b' <!ENTITY lol%d "%s">\n' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
                     for i in range(1, 10))
          + b']>\n<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
            b"<w:p><w:r><w:t>&lol9;</w:t></w:r></w:p></w:body></w:document>")


def damaged_pdf(path: Path) -> Path:
    """A PDF made by fpdf2, cut in half: header and objects start fine, the rest is missing."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    pdf.multi_cell(0, 6, "This text will be cut off. " * 40)
    data = bytes(pdf.output())
    path.write_bytes(data[: len(data) // 2] + b"\x00garbage" * 50)
    return path


def three_page_pdf(path: Path, pages: list[str], title: str = "") -> Path:
    """A PDF with one text block per page."""
    from fpdf import FPDF

    pdf = FPDF()
    if title:
        pdf.set_title(title)
    pdf.set_font("Helvetica", size=12)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 6, text)
    pdf.output(str(path))
    return path


def zip_bytes(parts: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return buffer.getvalue()
