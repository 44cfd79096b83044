"""HTML for the web UI: chat messages with linked citation markers, the sources panel, the documents table.

Pure functions over `Answer.to_dict()`-shaped data (what the UI keeps in each session's state), so they can be
tested without a server. Everything that comes from a document or a user is escaped: a document can never
inject markup into the page.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from html import escape
from typing import Any

from assistant.markers import Marker, find_markers

EARLIER_TURNS_SHOWN = 10
MODE_LABELS = {"offline": "offline answer · sentences quoted from the documents",
               "llm": "LLM answer · citations checked against the paragraphs"}


def esc(text: Any) -> str:
    return escape(str(text), quote=True)


def source_id(turn: int, marker: int) -> str:
    """The element id of one citation card in the sources panel (what a marker in the chat links to)."""
    return f"src-{turn}-{marker}"


def _para_label(citation: dict) -> str:
    page = f", p. {citation['page']}" if citation.get("page") is not None else ""
    return f"{citation['title']} ¶{citation['paragraph']}{page}"


# --- the chat column ------------------------------------------------------------------------------------
def link_markers(text: str, citations: Sequence[dict], turn: int) -> str:
    """Escape the answer text and turn each marker whose numbers are all known (`[n]`, `[n, m]`, `[1-3]`, any
    form assistant/markers.py accepts) into links to their source cards; other markers stay as text."""
    by_marker = {int(c["marker"]): c for c in citations}

    def replace(marker: Marker) -> str:
        if not marker.numbers or not all(n in by_marker for n in marker.numbers):
            return esc(text[marker.start:marker.end])
        links = []
        for n in marker.numbers:
            c = by_marker[n]
            unverified = c.get("verified") is False
            cls = "cite unverified" if unverified else "cite"
            tip = _para_label(c) + (" (not verified)" if unverified else "")
            links.append(f'<a class="{cls}" href="#{source_id(turn, n)}" data-turn="{turn}" data-marker="{n}" '
                         f'title="{esc(tip)}">{n}</a>')
        return "".join(links)

    pieces, last = [], 0
    for marker in find_markers(text):
        pieces.append(esc(text[last:marker.start]))
        pieces.append(replace(marker))
        last = marker.end
    pieces.append(esc(text[last:]))
    return "".join(pieces)


def chat_message(answer: dict, turn: int) -> str:
    """The assistant's message in the chat: the answer with linked markers and a one-line list of its sources."""
    if answer.get("refused"):
        return f'<div class="declined">{esc(answer["answer"])}</div>'
    body = link_markers(answer["answer"], answer.get("citations", []), turn)
    items = []
    for c in answer.get("citations", []):
        flag = ' <span class="warn">not verified</span>' if c.get("verified") is False else ""
        items.append(f'<a class="cite-ref" href="#{source_id(turn, c["marker"])}" data-turn="{turn}" '
                     f'data-marker="{c["marker"]}"><b>{c["marker"]}</b> {esc(_para_label(c))}</a>{flag}')
    footer = f'<div class="cite-list">Sources: {" · ".join(items)}</div>' if items else ""
    return f'<div class="answer">{body}</div>{footer}'


def chat_messages(turns: Sequence[dict]) -> list[dict[str, str]]:
    """The Chatbot value (messages format) for a session's finished turns."""
    messages: list[dict[str, str]] = []
    for number, turn in enumerate(turns):
        messages.append({"role": "user", "content": esc(turn["question"])})
        if turn.get("answer") is not None:
            messages.append({"role": "assistant", "content": chat_message(turn["answer"], number)})
        else:
            messages.append({"role": "assistant", "content": f'<div class="error">{esc(turn.get("error", ""))}</div>'})
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
def highlight(paragraph: str, quote: str, css_class: str = "") -> tuple[str, bool]:
    """The escaped paragraph with `quote` wrapped in <mark>; found exactly, else ignoring case and spacing."""
    quote = (quote or "").strip()
    if not quote:
        return esc(paragraph), False
    start = paragraph.find(quote)
    end = start + len(quote)
    if start < 0:
        words = quote.split()
        pattern = r"\s+".join(re.escape(w) for w in words)
        match = re.search(pattern, paragraph, flags=re.IGNORECASE)
        if not match:
            return esc(paragraph), False
        start, end = match.span()
    mark = f'<mark class="{css_class}">' if css_class else "<mark>"
    return (esc(paragraph[:start]) + f"{mark}{esc(paragraph[start:end])}</mark>" + esc(paragraph[end:])), True


def _card(citation: dict, turn: int) -> str:
    unverified = citation.get("verified") is False  # its span is shown, but not as support
    body, found = highlight(citation["text"], citation.get("quote", ""), "weak" if unverified else "")
    badge = ('<span class="badge warn">⚠ not verified: this paragraph may not support the claim</span>'
             if unverified else "")
    missing = "" if found or not citation.get("quote") else (
        f'<div class="quote-missing">Quoted as: “{esc(citation["quote"])}” (not found word for word)</div>')
    classes = "src-card unverified" if unverified else "src-card"
    return (f'<div class="{classes}" id="{source_id(turn, citation["marker"])}" data-doc="{esc(citation["doc_id"])}" '
            f'data-paragraph="{int(citation["paragraph"])}">'
            f'<div class="src-head"><span class="src-marker">{int(citation["marker"])}</span>'
            f'<span class="src-title">{esc(citation["title"])}</span>'
            f'<span class="src-para-no">¶{int(citation["paragraph"])}'
            f'{", p. " + str(int(citation["page"])) if citation.get("page") is not None else ""}</span></div>'
            f'<div class="src-doc">{esc(citation["doc_id"])}</div>{badge}'
            f'<div class="src-para">{body}</div>{missing}</div>')


def _answer_sources(answer: dict, turn: int) -> str:
    parts = []
    for note in answer.get("notes") or []:
        parts.append(f'<div class="note">{esc(note)}</div>')
    if answer.get("refused"):
        parts.append('<div class="declined-box"><b>No answer in the documents.</b> Nothing in the indexed '
                     'documents answers this question, so nothing is cited.</div>')
        contexts = answer.get("contexts") or []
        if contexts:
            rows = "".join(f'<li><b>{esc(c["title"])} ¶{int(c["paragraph"])}</b>: {esc(_clip(c["text"]))}</li>'
                           for c in contexts[:3])
            parts.append(f'<details class="closest"><summary>Closest passages (not used)</summary><ul>{rows}</ul>'
                         '</details>')
        return "".join(parts)
    if answer.get("unsupported"):
        parts.append('<div class="badge warn block">⚠ No citation in this answer could be verified against the '
                     'documents: treat it with care.</div>')
    citations = answer.get("citations") or []
    if not citations:
        parts.append('<div class="muted">This answer cites no paragraph.</div>')
    parts.extend(_card(c, turn) for c in citations)
    return "".join(parts)


def _clip(text: str, limit: int = 220) -> str:
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + " …"


def sources_panel(turns: Sequence[dict], pending: str | None = None) -> str:
    """The latest answer's cited paragraphs in full (quote highlighted); earlier answers' sources folded below."""
    answered = [(n, t) for n, t in enumerate(turns) if t.get("answer") is not None]
    if pending is not None:
        head = (f'<div class="src-question pending">Searching the documents for: <q>{esc(pending)}</q></div>')
    elif not answered:
        return ('<div class="src-empty">Ask a question: the paragraphs each answer cites appear here, with the '
                'supporting words <mark>highlighted</mark>.</div>')
    else:
        head = ""
    parts = [head]
    latest = answered[-1] if answered and pending is None else None
    if latest is not None:
        number, turn = latest
        answer = turn["answer"]
        searched = answer.get("question") or ""
        meta = MODE_LABELS.get(answer.get("mode", ""), f'{esc(answer.get("mode", ""))} answer')
        if searched and searched != " ".join(turn["question"].split()):
            meta += f' · searched for <q>{esc(searched)}</q>'
        parts.append(f'<div class="src-question" data-turn="{number}">Sources for <q>{esc(turn["question"])}</q>'
                     f'<div class="src-meta">{meta}</div></div>')
        parts.append(f'<div class="src-latest" data-turn="{number}">{_answer_sources(answer, number)}</div>')
    earlier = [item for item in answered if item is not latest][-EARLIER_TURNS_SHOWN:]
    if earlier:
        parts.append('<div class="src-earlier-title">Earlier answers</div>')
        for number, turn in reversed(earlier):
            summary = esc(_clip(turn["question"], 90))
            parts.append(f'<details class="src-earlier" data-turn="{number}"><summary>{summary}</summary>'
                         f'{_answer_sources(turn["answer"], number)}</details>')
    return "".join(parts)


# --- documents ------------------------------------------------------------------------------------------
def documents_table(docs: Sequence[Any], uploads_dir: str | None = None) -> str:
    if not docs:
        return '<div class="src-empty">No documents are indexed yet: upload some above.</div>'
    rows = []
    for d in docs:
        origin = "uploaded" if uploads_dir and str(d.source).startswith(uploads_dir) else "corpus"
        rows.append(f'<tr data-doc="{esc(d.doc_id)}"><td class="doc-title">{esc(d.title)}</td>'
                    f'<td class="doc-id">{esc(d.doc_id)}</td><td class="num">{int(d.paragraphs)}</td>'
                    f'<td><span class="origin {origin}">{origin}</span></td></tr>')
    total = sum(int(d.paragraphs) for d in docs)
    return (f'<table class="docs"><thead><tr><th>Title</th><th>Document id</th><th class="num">¶</th><th></th>'
            f'</tr></thead><tbody>{"".join(rows)}</tbody></table>'
            f'<div class="muted">{len(docs)} document{"s" if len(docs) != 1 else ""}, {total} paragraphs.</div>')


def upload_results(results: Sequence[dict]) -> str:
    """One line per uploaded file: {'name', 'ok': bool, 'message'}."""
    if not results:
        return ""
    rows = "".join(
        f'<li class="{"ok" if r["ok"] else "bad"}" data-file="{esc(r["name"])}"><span class="icon">'
        f'{"✓" if r["ok"] else "✗"}</span><b>{esc(r["name"])}</b>: {esc(r["message"])}</li>' for r in results)
    return f'<ul class="upload-results">{rows}</ul>'
