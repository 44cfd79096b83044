"""Paragraphs to embedding chunks. The model reads at most 256 tokens: a longer paragraph is cut into
overlapping windows so that every word is embedded, and each window remembers its paragraph, so a citation
always resolves to the whole paragraph."""

from __future__ import annotations

from dataclasses import dataclass

from assistant.models import Paragraph

WINDOW = 240  # word-pieces per chunk, below the model's 254 (+[CLS]/[SEP]) with room to spare
OVERLAP = 40


@dataclass(frozen=True)
class Chunk:
    paragraph: Paragraph
    index: int  # 0-based within the paragraph
    count: int  # chunks in the paragraph
    text: str


def windows(offsets: list[tuple[int, int]], window: int = WINDOW, overlap: int = OVERLAP) -> list[tuple[int, int]]:
    """Character spans covering all tokens in windows of `window` tokens overlapping by `overlap`."""
    spans, start = [], 0
    while True:
        end = min(start + window, len(offsets))
        spans.append((offsets[start][0], offsets[end - 1][1]))
        if end == len(offsets):
            return spans
        start = end - overlap


def chunk_paragraphs(paragraphs: list[Paragraph], embedder) -> list[Chunk]:
    """One chunk per paragraph unless it is longer than the model's window."""
    counter = getattr(embedder, "count_tokens", None)
    if counter is None:  # remote embedders take long inputs whole
        return [Chunk(p, 0, 1, p.text) for p in paragraphs]
    chunks: list[Chunk] = []
    for paragraph, n_tokens in zip(paragraphs, counter([p.text for p in paragraphs])):
        if n_tokens - 2 <= WINDOW:
            chunks.append(Chunk(paragraph, 0, 1, paragraph.text))
            continue
        spans = windows(embedder.token_offsets(paragraph.text))
        chunks.extend(Chunk(paragraph, i, len(spans), paragraph.text[s:e]) for i, (s, e) in enumerate(spans))
    return chunks
