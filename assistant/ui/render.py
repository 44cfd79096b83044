"""HTML for the web UI: chat messages with linked citation markers, the sources panel, the documents table.

Pure functions over `Answer.to_dict()`-shaped data (what the UI keeps in each session's state), so they can be
tested without a server. The markup lives in Jinja2 templates (assistant/ui/templates/) with autoescape on, so
everything that comes from a document, a user or a model is escaped: it can never inject markup into the page.
The chat shows this HTML with Markdown rendering off, so Markdown in a document or a reply (`![x](http://...)`,
which a browser would fetch) is shown as the text it is.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import escape

from assistant.answering.markdown import answer_markdown
from assistant.text.markers import find_markers
from assistant.text.wording import shorten

EARLIER_TURNS_SHOWN = 10
MODE_LABELS = {"offline": "offline answer · sentences quoted from the documents",
               "llm": "LLM answer · citations checked against the paragraphs"}


def _clip(text: str, limit: int = 220) -> str:
    return shorten(text, limit)


TEMPLATES = Environment(loader=PackageLoader("assistant.ui", "templates"), autoescape=True,
                        undefined=StrictUndefined, keep_trailing_newline=False)
TEMPLATES.filters["clip"] = _clip


def _render(name: str, **values: Any) -> str:
    return TEMPLATES.get_template(name).render(**values).strip()


def esc(text: Any) -> str:
    return str(escape(str(text)))


def source_id(turn: int, marker: int) -> str:
    """The element id of one citation card in the sources panel (what a marker in the chat links to)."""
    return f"src-{turn}-{marker}"


def _citation(c: dict) -> dict:
    """A citation dict with its optional keys present (older answers and other producers may lack them)."""
    return dict(c, page=c.get("page"), verified=c.get("verified"), quote=c.get("quote") or "")


# --- the chat column ------------------------------------------------------------------------------------
def _pieces(text: str, citations: Sequence[dict]) -> list[dict]:
    """The answer text cut into plain text and markers whose numbers are all known (`[n]`, `[n, m]`, `[1-3]`,
    any form assistant/text/markers.py accepts); other markers stay text."""
    by_marker = {int(c["marker"]): _citation(c) for c in citations}
    pieces, last = [], 0
    for marker in find_markers(text):
        known = marker.numbers and all(n in by_marker for n in marker.numbers)
        pieces.append({"text": text[last:marker.start], "links": None})
        if known:
            pieces.append({"text": "", "links": [by_marker[n] for n in marker.numbers]})
        else:
            pieces.append({"text": text[marker.start:marker.end], "links": None})
        last = marker.end
    pieces.append({"text": text[last:], "links": None})
    return pieces


def link_markers(text: str, citations: Sequence[dict], turn: int) -> str:
    """The escaped answer text with each known marker turned into links to its source cards."""
    template = TEMPLATES.from_string('{% from "macros.html.j2" import linked_text %}{{ linked_text(p, t) }}')
    return template.render(p=_pieces(text, citations), t=turn)


def chat_message(answer: dict, turn: int) -> str:
    """The assistant's message in the chat: the answer with linked markers, a line saying when the answer is
    only weakly supported (and which question words the sources do not cover), its sources and confidence."""
    citations = [] if answer.get("refused") else [_citation(c) for c in answer.get("citations", [])]
    return _render("chat_message.html.j2", answer=dict(answer, refused=bool(answer.get("refused"))),
                   turn=turn, citations=citations,
                   pieces=_pieces(answer["answer"], citations), support=answer.get("support"),
                   uncovered=answer.get("uncovered") or [], confidence=answer.get("confidence"))


def chat_text(text: str, kind: str = "question") -> str:
    """One chat bubble that is not a finished answer: kind is 'question', 'partial', 'waiting' or 'error'."""
    return _render("chat_text.html.j2", text=text, kind=kind)


def chat_messages(turns: Sequence[dict]) -> list[dict[str, str]]:
    """The Chatbot value (messages format) for a session's finished turns."""
    messages: list[dict[str, str]] = []
    for number, turn in enumerate(turns):
        messages.append({"role": "user", "content": chat_text(turn["question"])})
        if turn.get("answer") is not None:
            messages.append({"role": "assistant", "content": chat_message(turn["answer"], number)})
        else:
            messages.append({"role": "assistant", "content": chat_text(turn.get("error", ""), "error")})
    return messages


def history(turns: Sequence[dict]) -> list[dict[str, str]]:
    """The conversation so far as plain messages, the history `Assistant.stream` takes."""
    out: list[dict[str, str]] = []
    for turn in turns:
        if turn.get("answer") is None:
            continue
        out.append({"role": "user", "content": turn["question"]})
        out.append({"role": "assistant", "content": turn["answer"]["answer"]})
    return out


# --- the sources panel ----------------------------------------------------------------------------------
def quote_parts(paragraph: str, quote: str) -> tuple[str, str, str]:
    """(before, quote as it appears, after); found exactly, else ignoring case and spacing; ("…", "", "") if
    the quote is not in the paragraph."""
    quote = (quote or "").strip()
    if not quote:
        return paragraph, "", ""
    start = paragraph.find(quote)
    end = start + len(quote)
    if start < 0:
        pattern = r"\s+".join(re.escape(w) for w in quote.split())
        match = re.search(pattern, paragraph, flags=re.IGNORECASE)
        if not match:
            return paragraph, "", ""
        start, end = match.span()
    return paragraph[:start], paragraph[start:end], paragraph[end:]


def highlight(paragraph: str, quote: str, css_class: str = "") -> tuple[str, bool]:
    """The escaped paragraph with `quote` wrapped in <mark>, and whether the quote was found."""
    parts = quote_parts(paragraph, quote)
    template = TEMPLATES.from_string('{% from "macros.html.j2" import marked %}{{ marked(p, c) }}')
    return template.render(p=parts, c=css_class), bool(parts[1])


def span_parts(parts: tuple[str, str, str], citation: dict, span: dict | None) -> tuple[str, str, str] | None:
    """The quote split around the answer span, (before, span, after), when the span (`Answer.span`: offsets in
    the paragraph) lies in this citation's quote; None otherwise."""
    if not span or not parts[1] or (span.get("doc_id"), span.get("paragraph")) != (citation.get("doc_id"),
                                                                                      citation.get("paragraph")):
        return None
    a, b = span["start"] - len(parts[0]), span["end"] - len(parts[0])
    if not 0 <= a < b <= len(parts[1]):
        return None
    return parts[1][:a], parts[1][a:b], parts[1][b:]


def _answer_view(answer: dict) -> dict:
    cards = []
    for c in answer.get("citations") or []:
        parts = quote_parts(c["text"], c.get("quote", ""))
        cards.append(dict(_citation(c), parts=parts, span=span_parts(parts, c, answer.get("span"))))
    documents: dict[str, dict] = {}  # the cited documents in the order of their first card, each with its cards
    for card in cards:
        documents.setdefault(card["doc_id"], {"doc_id": card["doc_id"], "title": card["title"], "cards": []})
        documents[card["doc_id"]]["cards"].append(card)
    return dict(answer, cards=cards, documents=list(documents.values()), markdown=answer_markdown(answer),
                contexts=answer.get("contexts") or [],
                notes=answer.get("notes") or [],
                refused=bool(answer.get("refused")), unsupported=bool(answer.get("unsupported")))


def sources_panel(turns: Sequence[dict], pending: str | None = None) -> str:
    """The latest answer's cited paragraphs in full (quote highlighted); earlier answers' sources folded below."""
    answered = [(n, t) for n, t in enumerate(turns) if t.get("answer") is not None]
    latest = None
    if answered and pending is None:
        number, turn = answered[-1]
        answer = turn["answer"]
        searched = answer.get("question") or ""
        latest = {"number": number, "question": turn["question"], "answer": _answer_view(answer),
                  "meta": MODE_LABELS.get(answer.get("mode", ""), f'{answer.get("mode", "")} answer'),
                  "searched": searched if searched and searched != " ".join(turn["question"].split()) else ""}
    earlier = [{"number": n, "question": t["question"], "answer": _answer_view(t["answer"])}
               for n, t in answered if latest is None or n != latest["number"]][-EARLIER_TURNS_SHOWN:]
    return _render("sources_panel.html.j2", pending=pending, latest=latest, earlier=list(reversed(earlier)))


# --- documents, uploads, settings -------------------------------------------------------------------------
def documents_table(docs: Sequence[Any], uploads_dir: str | None = None) -> str:
    rows = [{"doc_id": d.doc_id, "title": d.title, "paragraphs": int(d.paragraphs),
             "origin": "uploaded" if uploads_dir and str(d.source).startswith(uploads_dir) else "corpus"}
            for d in docs]
    return _render("documents.html.j2", docs=rows, total=sum(r["paragraphs"] for r in rows))


def upload_results(results: Sequence[dict]) -> str:
    """One line per uploaded file: {'name', 'ok': bool, 'message'}."""
    return _render("upload_results.html.j2", results=results)


def message(text: str, kind: str = "muted", strong: str = "", tail: str = "") -> str:
    """A one-line status under a control, e.g. message("Removed ", strong=doc_id, tail=".")."""
    return _render("message.html.j2", text=text, kind=kind, strong=strong, tail=tail)


def backend(embedding: str, index: str, llm: dict | None = None) -> str:
    """The Settings tab's "Active backend" box; `llm` is {"model", "server" (masked), "session": bool}."""
    return _render("backend.html.j2", embedding=embedding, index=index, llm=llm)
