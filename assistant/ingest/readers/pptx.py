"""PowerPoint .pptx through llama-index's PptxReader: a paragraph is one text box of a slide (its lines kept), one
table row ("Header: value | ..."), or the slide's speaker notes; each paragraph's page is its slide number, so a
citation says "p. 3" for slide 3.

PptxReader runs offline as configured here: `extract_images=False` keeps it from importing torch/transformers and
downloading a captioning model, `context_consolidation_with_llm=False` from calling an LLM, `num_workers=0` from
starting threads, and one batch per deck spares a full garbage collection per 10 slides. We build paragraphs from
the structured parts it returns per slide (`text_sections`, `tables`, `notes`) rather than from its consolidated
text, which mixes in markup ("**bold**", "# " for large fonts) that is not in the slide. Chart descriptions are
left out: they are sentences the reader writes, not the slide's text.
"""

from __future__ import annotations

from pathlib import Path

from assistant.types import Document
from assistant.ingest.readers.base import ReaderError, build_document, join_blocks, normalise_space
from assistant.ingest.readers.limits import Limits
from assistant.ingest.readers.llama import file_readers

NOTES_LABEL = "[Speaker Notes]:"
SLIDES_PER_BATCH = 100_000  # the reader runs gc.collect() after each batch: 0.5 s in a large process


def _slide_blocks(meta: dict) -> list[str]:
    blocks = []
    for section in meta.get("text_sections") or []:
        lines = [normalise_space(p.get("text", "")) for p in section.get("structure") or []]
        if text := "\n".join(line for line in lines if line):
            blocks.append(text)
    for table in meta.get("tables") or []:
        headers = [normalise_space(h) for h in table.get("headers") or []]
        for cells in table.get("data") or []:
            pairs = [(headers[i] if i < len(headers) else "", normalise_space(c)) for i, c in enumerate(cells)]
            if row := " | ".join(f"{h}: {v}" if h else v for h, v in pairs if v):
                blocks.append(row)
    notes = (meta.get("notes") or "").removeprefix(NOTES_LABEL).strip()
    if notes:
        blocks.append("Speaker notes: " + "\n".join(filter(None, map(normalise_space, notes.splitlines()))))
    return blocks


def read_pptx(path: Path, doc_id: str, limits: Limits) -> Document:
    reader = file_readers().PptxReader(extract_images=False, context_consolidation_with_llm=False, num_workers=0,
                                       batch_size=SLIDES_PER_BATCH, raise_on_error=True)
    try:
        slides = reader.load_data(str(path.resolve()))
    except ValueError as exc:  # the reader's own "Failed to extract data from ...: [reasons]"
        raise ReaderError(f"not a readable .pptx file ({str(exc).rpartition(': ')[2][:200]})") from None
    blocks: list[str] = []
    pages: list[int] = []
    for number, slide in enumerate(slides, start=1):
        for block in _slide_blocks(slide.metadata):
            blocks.append(block)
            pages.append(int(slide.metadata.get("page_label") or number))
    if not blocks:
        raise ReaderError("no text found in the .pptx")
    first_title = normalise_space(slides[0].metadata.get("title") or "") if slides else ""
    text, spans = join_blocks(blocks)
    return build_document(doc_id, first_title or path.stem, text, spans, str(path.resolve()), pages)
