"""Tables (.csv, .tsv, .xlsx): a paragraph is one row, written with its header: "Region: North | Growth: 12%".

The first row of a CSV file or of each worksheet is its header. Empty cells are left out of a row's paragraph, a
cell under an empty header is written alone, and a row with no value at all is not a paragraph. Rows keep their
order (worksheets in workbook order), so ¶n is the n-th data row of a one-sheet file.

.xlsx goes through llama-index's PandasExcelReader, which already writes every row as header/value pairs. It is
asked for unusual separators (ASCII record and unit separators, which worksheet XML cannot hold) so that each row
can be split back into its pairs and written in the form above, and for text cells (`dtype=str`), so a whole
number stays "12" rather than pandas' "12.0".

.csv is read with Python's csv module, not llama-index's CSVReader or PandasCSVReader: both drop the header from
the rows (a row becomes "North, 12%"), CSVReader joins cells with ", " so a comma inside a cell can no longer be
told apart, and it opens the file in the locale's encoding; the csv module streams the file in the encoding its
byte-order mark names, and sniffs the delimiter (, ; tab |).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path

from assistant.types import Document
from assistant.ingest.readers.base import (ReaderError, build_document, join_blocks, normalise_space, not_text,
                                    text_encoding)
from assistant.ingest.readers.limits import Limits
from assistant.ingest.readers.llama import file_readers

FIELD, PAIR = "\x1e", "\x1f"
SNIFF_CHARS = 65_536


def row_paragraph(header: list[str], cells: Iterable[str]) -> str:
    """'Header: value | Header: value' for the non-empty cells of a row."""
    parts = []
    for i, cell in enumerate(cells):
        value = normalise_space(str(cell))
        if not value:
            continue
        name = header[i] if i < len(header) else ""
        parts.append(f"{name}: {value}" if name else value)
    return " | ".join(parts)


def _dialect(sample: str, suffix: str) -> type[csv.Dialect] | csv.Dialect:
    if suffix == ".tsv":
        return csv.excel_tab
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        return csv.excel


def read_csv(path: Path, doc_id: str, limits: Limits) -> Document:
    encoding = text_encoding(path)
    blocks: list[str] = []
    try:
        with path.open(encoding=encoding, newline="") as fh:
            dialect = _dialect(fh.read(SNIFF_CHARS), path.suffix.lower())
            fh.seek(0)
            rows = csv.reader(fh, dialect)
            header = next((row for row in rows if any(cell.strip() for cell in row)), None)
            if header is None:
                raise ReaderError("empty file")
            header = [normalise_space(name) for name in header]
            blocks = [line for row in rows if (line := row_paragraph(header, row))]
    except UnicodeDecodeError as exc:
        raise not_text(encoding, exc) from None
    except csv.Error as exc:
        raise ReaderError(f"malformed CSV ({exc})") from None
    if not blocks:
        raise ReaderError("no rows under the header")
    text, spans = join_blocks(blocks)
    return build_document(doc_id, path.stem, text, spans, str(path.resolve()))


def read_xlsx(path: Path, doc_id: str, limits: Limits) -> Document:
    reader = file_readers().PandasExcelReader(concat_rows=False, sheet_name=None, field_separator=FIELD,
                                              key_value_separator=PAIR, pandas_config={"dtype": str})
    blocks = []
    for row in reader.load_data(path.resolve()):
        pairs = [field.partition(PAIR) for field in row.text.split(FIELD)]
        header = ["" if name.startswith("Unnamed: ") else name for name, _, _ in pairs]  # pandas' empty header
        if line := row_paragraph(header, [value for _, _, value in pairs]):
            blocks.append(line)
    if not blocks:
        raise ReaderError("no rows found in the workbook")
    text, spans = join_blocks(blocks)
    return build_document(doc_id, path.stem, text, spans, str(path.resolve()))
