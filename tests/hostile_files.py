"""Hostile and awkward files, built on the spot for the tests and for benchmarks/hostile_files.py.

Each builder writes one file and returns its path. Nothing here is a fixture file in the repository: a zip bomb
is 1 MB of repetition on disk, so it is made when needed.
"""

from __future__ import annotations

import io
import random
import zipfile
import zlib
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


def docx_with_renamed_main_part(path: Path, xml_mb: int = 0, xml: bytes | None = None, name: str = "document.bin",
                                encoding: str = "utf-8") -> Path:
    """A .docx whose main part is renamed (word/document.xml -> word/<name>, with [Content_Types].xml and the rels
    pointing to it), so nothing about the part's name says XML: either `xml` as it is, or `xml_mb` MB of
    paragraphs of random words (compressing about 4 to 1, far under any bomb's ratio), in `encoding` (with no
    byte-order mark)."""
    template = word_file(path.with_suffix(".template.docx"), "placeholder")
    rng = random.Random(7)
    words = [b"harbour", b"ledger", b"quay", b"ferry", b"tide", b"lantern", b"granite", b"survey", b"parish", b"mill",
             b"orchard", b"barley", b"kiln", b"cooper", b"weir", b"causeway", b"beacon", b"shoal", b"marsh", b"heron"]
    with zipfile.ZipFile(template) as old, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as new:
        for info in old.infolist():
            data = old.read(info.filename)
            if info.filename == "word/document.xml":
                part = zipfile.ZipInfo(f"word/{name}", info.date_time)
                part.compress_type = zipfile.ZIP_DEFLATED
                with new.open(part, "w", force_zip64=True) as stream:
                    if xml is not None:
                        stream.write(xml.decode("utf-8").encode(encoding))
                        continue
                    stream.write(b'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas'
                                 b'.openxmlformats.org/wordprocessingml/2006/main"><w:body>')
                    written = 0
                    while written < xml_mb * 1_048_576:
                        text = b" ".join(rng.choice(words) for _ in range(2000))
                        chunk = b"<w:p><w:r><w:t>" + text + b"</w:t></w:r></w:p>"
                        stream.write(chunk)
                        written += len(chunk)
                    stream.write(b"</w:body></w:document>")
                continue
            if info.filename in ("[Content_Types].xml", "_rels/.rels"):
                data = data.replace(b"word/document.xml", f"word/{name}".encode())
            target = info.filename
            if info.filename == "word/_rels/document.xml.rels":
                target = f"word/_rels/{name}.rels"
            new.writestr(target, data)
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


WORDS = ("harbour", "council", "ferry", "bridge", "archive", "survey", "winter", "market", "railway", "mill",
         "record", "report", "repaired", "measured", "closed", "opened", "after", "before", "the", "of", "and")


def text_pdf(path: Path, pages: int, lines_per_paragraph: int = 6, seed: int = 0) -> Path:
    """A text-heavy PDF written by hand (fpdf2 takes minutes for thousands of pages): every page is 60 lines of
    about 90 characters of generated words in Helvetica, a blank line after every `lines_per_paragraph` (pdfminer
    makes each such group one text box: one paragraph). About 5.4 KB of extracted text per page."""
    rng = random.Random(seed)

    def page(number: int) -> bytes:
        lines = [b"BT /F1 9 Tf 11 TL 40 810 Td"]
        for n in range(60):
            words = " ".join(rng.choice(WORDS) for _ in range(14))
            lines.append(b"(%s %d.%d) Tj T*" % (words.encode(), number, n))
            if n % lines_per_paragraph == lines_per_paragraph - 1:
                lines.append(b"T*")
        lines.append(b"ET")
        return zlib.compress(b"\n".join(lines))

    return write_pdf(path, (page(n) for n in range(1, pages + 1)), pages)


def crowded_page_pdf(path: Path, chars: int) -> Path:
    """A one-page PDF whose page shows `chars` characters (lines of 100, most of them below the page's edge)."""
    line = b"(" + b"harbour " * 12 + b"ferry ) Tj T*"
    stream = b"BT /F1 9 Tf 11 TL 40 810 Td\n" + b"\n".join([line] * (chars // 100 + 1)) + b"\nET"
    return write_pdf(path, iter([zlib.compress(stream)]), 1)


def deflate_bomb_pdf(path: Path, expanded_mb: float = 1024) -> Path:
    """A one-page PDF whose content stream shows one line of text, then inflates to `expanded_mb` MB of spaces
    (about 1 MB on disk per GB: deflate compresses repetition about 1,000 to 1)."""
    packer = zlib.compressobj(9)
    data = [packer.compress(b"BT /F1 12 Tf 72 720 Td (The harbour report.) Tj ET\n")]
    whole, part = divmod(int(expanded_mb * 1_048_576), 1_048_576)
    data += [packer.compress(b" " * 1_048_576) for _ in range(whole)] + [packer.compress(b" " * part)]
    data.append(packer.flush())
    return write_pdf(path, iter([b"".join(data)]), 1)


def run_length_bomb_pdf(path: Path, expanded_mb: float = 256) -> Path:
    """A one-page PDF whose content stream is run-length encoded: one line of text, then `expanded_mb` MB of
    spaces, 2 bytes on disk for every 128 (pdf.py's Flate count does not see it; pdfminer decodes it into a list
    of ints, some 8 bytes in memory for every byte)."""
    text = b"BT /F1 12 Tf 72 720 Td (The harbour report.) Tj ET\n"
    head = bytes([len(text) - 1]) + text if len(text) <= 128 else b""
    return write_pdf(path, iter([head + b"\x81 " * int(expanded_mb * 1_048_576 / 128) + b"\x80"]), 1,
                     filter_name=b"/RunLengthDecode")


def write_pdf(path: Path, contents, pages: int, filter_name: bytes = b"/FlateDecode") -> Path:
    """A PDF of `pages` A4 pages whose content streams (compressed by `filter_name`: Flate unless said) come from
    the iterable `contents`, one per page, written as they come; the font is Helvetica (one of the 14 every reader
    knows, not embedded)."""
    offsets: dict[int, int] = {}
    with path.open("wb") as out:
        def obj(number: int, body: bytes, stream: bytes | None = None) -> None:
            offsets[number] = out.tell()
            out.write(b"%d 0 obj\n%s\n" % (number, body))
            if stream is not None:
                out.write(b"stream\n%s\nendstream\n" % stream)
            out.write(b"endobj\n")

        out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
        obj(1, b"<< /Type /Catalog /Pages 2 0 R >>")
        obj(3, b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
        for n, content in enumerate(contents):
            obj(4 + 2 * n, b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R "
                b">> >> /Contents %d 0 R >>" % (5 + 2 * n))
            obj(5 + 2 * n, b"<< /Length %d /Filter %s >>" % (len(content), filter_name), content)
        kids = b" ".join(b"%d 0 R" % (4 + 2 * n) for n in range(pages))
        obj(2, b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, pages))
        xref = out.tell()
        size = 4 + 2 * pages
        out.write(b"xref\n0 %d\n0000000000 65535 f \n" % size)
        for number in range(1, size):
            out.write(b"%010d 00000 n \n" % offsets[number])
        out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (size, xref))
    return path


def zip_bytes(parts: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return buffer.getvalue()
