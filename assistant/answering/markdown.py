"""An answer as Markdown with footnotes, ready to paste into a report: `assistant ask --format markdown` and the
page's "Copy with sources" button give the same text.

    The airstrikes were carried out in Deir al-Zour.[^1]

    [^1]: US strikes in Syria (000_f1b9.txt), ¶2: “The airstrikes, in the eastern province of Deir al-Zour, ...”

Markers become footnote references; each citation becomes one footnote naming the document, the paragraph (and the
page, for PDFs) and the quote. A sentence marked [unsupported] keeps its mark, and a declined answer is its text.
"""

from __future__ import annotations

import re

from assistant.text.markers import MARKER, marker_numbers


def answer_markdown(answer: dict) -> str:
    """`answer` is the JSON shape of an answer (`Answer.to_dict()`)."""
    text = answer.get("answer") or ""
    citations = answer.get("citations") or []
    if not citations:
        return text.strip() + "\n"
    known = {c["marker"] for c in citations}

    def footnote_refs(match: re.Match) -> str:
        return "".join(f"[^{n}]" for n in marker_numbers(match.group(1)) if n in known)

    body = MARKER.sub(footnote_refs, text)
    body = re.sub(r"\s+(\[\^\d+\])", r"\1", body).strip()  # a reference sits against the word before it
    notes = []
    for c in sorted(citations, key=lambda c: c["marker"]):
        page = f", p. {c['page']}" if c.get("page") is not None else ""
        quote = " ".join((c.get("quote") or "").split())
        flag = " (not verified)" if c.get("verified") is False else ""
        notes.append(f"[^{c['marker']}]: {_escape(c.get('title') or c['doc_id'])} ({c['doc_id']}), "
                     f"¶{c['paragraph']}{page}{flag}: “{quote}”")
    return body + "\n\n" + "\n".join(notes) + "\n"


def _escape(text: str) -> str:
    """A title on one line, with the characters that would start Markdown links or footnotes escaped."""
    return re.sub(r"([\[\]])", r"\\\1", " ".join(text.split()))
