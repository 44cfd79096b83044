"""Paragraphs to embedding chunks. The model reads at most 256 tokens: a longer paragraph is cut into
overlapping windows so that every word is embedded, and each window remembers its paragraph, so a citation
always resolves to the whole paragraph."""

from __future__ import annotations

from dataclasses import dataclass

from assistant.types import Paragraph

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


def encode_chunks(paragraphs: list[Paragraph], embedder) -> list[tuple[Chunk, list[int] | None]]:
    """Chunks of the paragraphs with the token ids the model will embed (None for remote embedders, which take
    long inputs whole). Each paragraph is tokenised once: its ids are embedded as they are when it fits the
    window; a longer one is cut at its own token offsets and only the windows are tokenised again."""
    encode = getattr(embedder, "encode", None)
    if encode is None:
        return [(Chunk(p, 0, 1, p.text), None) for p in paragraphs]
    out: list[tuple[Chunk, list[int] | None]] = []
    for paragraph, encoding in zip(paragraphs, encode([p.text for p in paragraphs])):
        if len(encoding.ids) - 2 <= WINDOW:
            out.append((Chunk(paragraph, 0, 1, paragraph.text), encoding.ids))
            continue
        spans = windows(list(encoding.offsets[1:-1]))
        texts = [paragraph.text[s:e] for s, e in spans]
        for i, (text, window) in enumerate(zip(texts, encode(texts))):
            out.append((Chunk(paragraph, i, len(spans), text), window.ids))
    return out


def chunk_paragraphs(paragraphs: list[Paragraph], embedder) -> list[Chunk]:
    """One chunk per paragraph unless it is longer than the model's window."""
    return [chunk for chunk, _ in encode_chunks(paragraphs, embedder)]
