"""How messages put the user's words and counts: one place, so every surface (CLI, page, API, reports) says it
the same way."""

from __future__ import annotations


def shorten(text: str, limit: int) -> str:
    """`text` on one line, cut at a word boundary before `limit` characters with " …" when longer: what a message
    echoes of the user's words (a 2,000-character question or a pasted blob of one "word" stays readable)."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[:limit]
    return (cut.rsplit(" ", 1)[0] if " " in cut[limit // 2:] else cut) + " …"


def plural(count: int, word: str, many: str | None = None) -> str:
    """"1 document", "2 documents", "1,204 paragraphs" (`many` for irregular plurals)."""
    return f"{count:,} {word if count == 1 else many or word + 's'}"
