"""Plain data that crosses module boundaries: paragraphs, retrieved contexts, citations, answers, reports."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


FOLLOW_UP_TAG = " (follow-up to: "


@dataclass(frozen=True, kw_only=True)
class Question:
    """A question as the pipeline reads it: the user's own words this turn (`asked`) and, for a follow-up, the
    earlier questions it carries (`carried`, nearest first), which say what "them" or "it" is. Retrieval searches
    `text`, which is also what `Answer.question` shows: "Who ordered them? (follow-up to: Where were the strikes?)".
    Built by assistant/conversation.py; nothing parses `text` back."""

    asked: str
    carried: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        return f"{self.asked}{FOLLOW_UP_TAG}{'; '.join(self.carried)})" if self.carried else self.asked


@dataclass(frozen=True, kw_only=True)
class Paragraph:
    """One paragraph as a reader counts it. `start`/`end` are offsets into the document's text."""

    doc_id: str
    title: str
    number: int  # 1-based, reading order
    text: str
    start: int
    end: int
    page: int | None = None  # PDFs only


@dataclass(kw_only=True)
class Document:
    """A parsed source document."""

    doc_id: str
    title: str
    text: str  # the text the paragraph offsets refer to
    paragraphs: list[Paragraph]
    source: str  # path (or path#line for JSON Lines records)


@dataclass(kw_only=True)
class Context:
    """A retrieved paragraph with its scores (higher is better)."""

    doc_id: str
    title: str
    paragraph: int
    text: str
    score: float
    dense: float | None = None  # cosine similarity
    bm25: float | None = None
    page: int | None = None  # PDFs only

    def to_dict(self) -> dict[str, Any]:
        return {"doc_id": self.doc_id, "title": self.title, "paragraph": self.paragraph, "page": self.page,
                "text": self.text, "score": round(self.score, 6)}


@dataclass(kw_only=True)
class Citation:
    """A marker in the answer and the paragraph it points to. `quote` is the supporting span of `text`."""

    marker: int
    doc_id: str
    title: str
    paragraph: int
    text: str
    quote: str
    score: float
    verified: bool | None = None  # None: not checked (offline quotes are verbatim by construction)
    page: int | None = None  # the paragraph's page, for PDFs

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["score"] = round(self.score, 6)
        return data


@dataclass(frozen=True, kw_only=True)
class AnswerSpan:
    """The exact answer the reader marked: its text, the paragraph that holds it, and its character offsets in
    that paragraph's text (`text == paragraph_text[start:end]`)."""

    text: str
    doc_id: str
    paragraph: int
    start: int
    end: int
    marker: int | None = None  # the citation marker of that paragraph in the answer

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(kw_only=True)
class Answer:
    text: str
    citations: list[Citation] = field(default_factory=list)
    refused: bool = False
    contexts: list[Context] = field(default_factory=list)
    usage: dict[str, Any] = field(default_factory=dict)
    question: str = ""  # the standalone question that was retrieved for (`standalone.text`)
    mode: str = "offline"
    notes: list[str] = field(default_factory=list)  # e.g. "LLM unreachable, answered offline"
    unsupported: bool = False  # an LLM answer with no verified citation
    seconds: float = 0.0
    # Calibrated estimate that the documents answer the question (0..1; None when not computed), the band it
    # falls in ("confident", "weak": answered but weakly supported, "declined"), and the question's words that
    # the cited paragraphs (for a declined answer: the retrieved ones) do not contain. See
    # assistant/answering/extractive/answerability.py.
    confidence: float | None = None
    support: str = "confident"
    uncovered: list[str] = field(default_factory=list)
    span: AnswerSpan | None = None  # offline answers: the exact answer inside the first quoted sentence
    # LLM answers: the sentences no verified citation supports (each is followed by "[unsupported]" in `text`)
    unsupported_sentences: list[str] = field(default_factory=list)
    standalone: Question | None = None  # the question as retrieved, typed (a follow-up keeps what it carried)

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of `assistant ask --json` and the web API."""
        return {
            "answer": self.text,
            "refused": self.refused,
            "citations": [c.to_dict() for c in self.citations],
            "contexts": [c.to_dict() for c in self.contexts],
            "question": self.question,
            "mode": self.mode,
            "notes": self.notes,
            "unsupported": self.unsupported,
            "usage": self.usage,
            "confidence": self.confidence,
            "support": self.support,
            "uncovered": self.uncovered,
            "span": self.span.to_dict() if self.span else None,
            "unsupported_sentences": self.unsupported_sentences,
        }


@dataclass(kw_only=True)
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    duplicates: list[dict[str, str]] = field(default_factory=list)  # {"path", "doc_id", "same_as"}
    skipped: list[dict[str, str]] = field(default_factory=list)  # {"path", "reason"}
    renamed: list[dict[str, str]] = field(default_factory=list)  # {"path", "doc_id", "taken_by"}: id qualified
    repaired: list[str] = field(default_factory=list)  # what an interrupted earlier write left, cleaned first
    paragraphs: int = 0  # paragraphs embedded in this run
    chunks: int = 0
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)  # what the user should know about the index now

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> str:
        parts = [f"{len(self.added)} added", f"{len(self.updated)} updated", f"{len(self.unchanged)} unchanged"]
        if self.removed:
            parts.append(f"{len(self.removed)} removed")
        if self.duplicates:
            parts.append(f"{len(self.duplicates)} duplicate(s) skipped")
        if self.skipped:
            parts.append(f"{len(self.skipped)} file(s) skipped")
        if self.renamed:
            parts.append(f"{len(self.renamed)} given a qualified id (the name was taken)")
        text = ", ".join(parts) + f"; {self.paragraphs} paragraphs embedded in {self.seconds:.1f} s"
        if not self.added and not self.updated and self.unchanged:
            text += " (nothing changed: no embedding work done)"
        return text


@dataclass(kw_only=True)
class DocumentInfo:
    """An indexed document as `Assistant.documents()` lists it."""

    doc_id: str
    title: str
    paragraphs: int
    source: str
    sha256: str
    chunks: int = 0  # embedding chunks of this version
    name: str = ""  # the id its reader gave it (the path inside its folder); doc_id differs when qualified

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
