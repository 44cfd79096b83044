"""The in-memory mirror of the committed chunks, and the lexical statistics derived from it, kept document by document.

Why document by document: the mirror is read again whenever the store's revision changes, whichever process wrote.
Reading every row of a 30,000-chunk folder index from Chroma and tokenising it all again took 8 s on idle cores
(benchmarks/scale.py, "first question"), and a long-running server paid it on the next question after another
process ingested a single file. A document's rows never change while its content hash stays the same (the hash is
part of every chunk id: assistant/store/base.py), so the rows and tokens of documents whose hash did not change are
taken from the previous mirror and only the others are read (`benchmarks/scale.py` reports both reloads).

The result is the same as a full read, row for row and in the same order (document, paragraph, chunk): BM25 breaks
ties by row, so the same documents always give the same answers (tests/test_many_processes.py checks the equality).
"""

from __future__ import annotations

import sys
from collections import Counter
from dataclasses import dataclass, field

from assistant.answering.text import Idf, terms
from assistant.models import Paragraph
from assistant.store import Revision


@dataclass
class Mirror:
    """All committed chunks of one index revision, in reading order, for BM25 and paragraph look-ups."""

    revision: int
    ids: list[str]
    texts: list[str]
    keys: list[tuple[str, int]]  # (doc_id, paragraph) of each chunk
    paragraphs: dict[tuple[str, int], Paragraph]
    stamp: str = ""
    row_of: dict[str, int] = field(default_factory=dict)  # chunk id -> its row; dense results outside are ignored
    shas: dict[str, str] = field(default_factory=dict)  # doc_id -> the content hash of the version mirrored
    spans: dict[str, tuple[int, int]] = field(default_factory=dict)  # doc_id -> its rows [start, end)
    read: set[str] = field(default_factory=set)  # the documents read from the store (not taken from the previous)


def read_mirror(store, revision: Revision, committed: dict[str, str], previous: Mirror | None,
                chunks: dict[str, int] | None = None) -> Mirror:
    """The committed rows (`committed`: doc_id -> content hash), reusing `previous` for the documents it already
    holds at the same hash (and, when `chunks` gives each document's chunk count, as many rows) and reading only
    the others from the store."""
    reused = {d for d, sha in committed.items() if previous is not None and previous.shas.get(d) == sha
              and (chunks is None or _rows(previous, d) == chunks.get(d))}
    wanted = [d for d in committed if d not in reused]
    fresh: dict[str, list] = {}
    if wanted:  # a first read takes every row at once: a filter naming all documents would only slow it down
        for row in store.chunks(None if previous is None else wanted):
            doc_id = row.meta["doc_id"]
            if committed.get(doc_id) == row.meta["sha256"] and doc_id not in reused:
                fresh.setdefault(doc_id, []).append(row)
    ids: list[str] = []
    texts: list[str] = []
    keys: list[tuple[str, int]] = []
    paragraphs: dict[tuple[str, int], Paragraph] = {}
    spans: dict[str, tuple[int, int]] = {}
    for doc_id in sorted(committed):
        start = len(ids)
        if doc_id in reused:
            begin, end = previous.spans[doc_id]
            ids += previous.ids[begin:end]
            texts += previous.texts[begin:end]
            keys += previous.keys[begin:end]
            paragraphs.update((key, previous.paragraphs[key]) for key in previous.keys[begin:end])
        else:
            rows = sorted(fresh.get(doc_id, []), key=lambda r: (int(r.meta["paragraph"]), int(r.meta.get("chunk", 0))))
            for row in rows:
                meta = row.meta
                key = (doc_id, int(meta["paragraph"]))
                ids.append(row.id)
                texts.append(row.text)
                keys.append(key)
                if key not in paragraphs:  # its first chunk, which carries a cut paragraph's whole text
                    paragraphs[key] = Paragraph(doc_id, meta["title"], key[1], meta.get("para_text", row.text),
                                                int(meta["start"]), int(meta["end"]), meta.get("page"))
        if len(ids) > start:
            spans[doc_id] = (start, len(ids))
    return Mirror(revision.number, ids, texts, keys, paragraphs, revision.stamp,
                  {chunk: row for row, chunk in enumerate(ids)}, {d: committed[d] for d in spans}, spans,
                  set(wanted))


@dataclass
class DocumentTerms:
    bm25_tokens: list[list[str]]  # per chunk: bm25s's tokens (its stop words, Snowball stems)
    df: Counter  # per term of ours (`terms`): in how many of the document's chunks it occurs


class Lexicon:
    """Per document version, the BM25 tokens of its chunks and its share of the IDF counts, so that a new mirror
    tokenises only the documents that changed. One per ParagraphIndex; call `update` with each new mirror."""

    def __init__(self) -> None:
        self._documents: dict[tuple[str, str], DocumentTerms] = {}
        self._df: Counter = Counter()
        self._mirror: Mirror | None = None

    def update(self, mirror: Mirror) -> bool:
        """Bring the counts to `mirror`; True when any document was tokenised or dropped."""
        if mirror is self._mirror:
            return False
        changed = False
        current = {(doc_id, sha) for doc_id, sha in mirror.shas.items()}
        for doc_id, sha in current:  # rows read again, or kept terms that do not fit them: tokenise again
            kept = self._documents.get((doc_id, sha))
            if kept is not None and (doc_id in mirror.read or len(kept.bm25_tokens) != _rows(mirror, doc_id)):
                self._df.subtract(self._documents.pop((doc_id, sha)).df)
                changed = True
        for gone in set(self._documents) - current:
            self._df.subtract(self._documents.pop(gone).df)
            changed = True
        new = sorted(current - set(self._documents))
        if new:
            changed = True
            tokens = _bm25_tokens([t for doc_id, _ in new for t in _texts(mirror, doc_id)])
            at = 0
            for doc_id, sha in new:
                texts = _texts(mirror, doc_id)
                df: Counter = Counter()
                for text in texts:
                    df.update(set(terms(text)))
                self._documents[(doc_id, sha)] = DocumentTerms(tokens[at:at + len(texts)], df)
                self._df.update(df)
                at += len(texts)
        self._df = +self._df  # drop the terms no document holds any more
        self._mirror = mirror
        return changed

    def seed(self, mirror: Mirror, documents: dict[tuple[str, str], DocumentTerms]) -> None:
        """Start from saved terms (assistant/mirror_cache.py) of the documents `mirror` holds."""
        self._documents = dict(documents)
        self._df = Counter()
        for entry in self._documents.values():
            self._df.update(entry.df)
        self._mirror = mirror

    def terms_of(self, doc_id: str, sha: str) -> DocumentTerms:
        return self._documents[(doc_id, sha)]

    def bm25_tokens(self) -> list[list[str]]:
        """Every chunk's BM25 tokens, in the mirror's row order."""
        mirror = self._mirror
        return [row for doc_id in sorted(mirror.spans) for row in self._documents[(doc_id, mirror.shas[doc_id])]
                .bm25_tokens]

    def idf(self) -> Idf:
        return Idf.from_counts(Counter(self._df), len(self._mirror.ids) if self._mirror else 0)


def _rows(mirror: Mirror, doc_id: str) -> int:
    begin, end = mirror.spans.get(doc_id, (0, 0))
    return end - begin


def _texts(mirror: Mirror, doc_id: str) -> list[str]:
    begin, end = mirror.spans[doc_id]
    return mirror.texts[begin:end]


def _bm25_tokens(texts: list[str]) -> list[list[str]]:
    """bm25s's own tokenisation (English stop words, Snowball stems), as strings: kept per document, interned so
    that 30,000 chunks' tokens share one copy of each word."""
    if not texts:
        return []
    import bm25s

    from assistant.answering.text import stemmer

    tokens = bm25s.tokenize(texts, stopwords="en", stemmer=stemmer(), show_progress=False, return_ids=False)
    return [[sys.intern(t) for t in row] for row in tokens]
