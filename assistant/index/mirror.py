"""The in-memory mirror of the committed chunks, and the lexical statistics derived from it, kept document by document.

Why document by document: the mirror is read again whenever the store's revision changes, whichever process wrote.
Reading every row of a 30,000-chunk folder index from Chroma and tokenising it all again took 8 s on idle cores
(benchmarks/scale.py, "first question"), and a long-running server paid it on the next question after another
process ingested a single file. A document's rows never change while its content hash stays the same (the hash is
part of every chunk id: assistant/index/store/base.py), so the rows and tokens of documents whose hash did not change are
taken from the previous mirror and only the others are read (`benchmarks/scale.py` reports both reloads).

The result is the same as a full read, row for row and in the same order (document, paragraph, chunk): BM25 breaks
ties by row, so the same documents always give the same answers (tests/integration/index/test_many_processes.py checks the equality).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from assistant.text.terms import Idf, stemmer, terms
from assistant.index.bm25 import Bm25
from assistant.types import DocumentInfo, Paragraph
from assistant.index.store import Revision


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


def assemble(documents: Iterable[tuple], revision: int = -1, stamp: str = "", read: set[str] | None = None) -> Mirror:
    """A mirror from its documents in doc_id order, each (doc_id, content hash, chunk ids, texts, keys, its
    paragraphs): what read_mirror takes from the store or the previous mirror, and mirror_cache from its file."""
    ids: list[str] = []
    texts: list[str] = []
    keys: list[tuple[str, int]] = []
    paragraphs: dict[tuple[str, int], Paragraph] = {}
    shas: dict[str, str] = {}
    spans: dict[str, tuple[int, int]] = {}
    for doc_id, sha, doc_ids, doc_texts, doc_keys, doc_paragraphs in documents:
        start = len(ids)
        ids += doc_ids
        texts += doc_texts
        keys += doc_keys
        paragraphs.update(((p.doc_id, p.number), p) for p in doc_paragraphs)
        if len(ids) > start:
            shas[doc_id], spans[doc_id] = sha, (start, len(ids))
    return Mirror(revision, ids, texts, keys, paragraphs, stamp, {chunk: row for row, chunk in enumerate(ids)},
                  shas, spans, read or set())


def read_mirror(store, revision: Revision, documents: list[DocumentInfo], previous: Mirror | None) -> Mirror:
    """The rows of the committed `documents`, reusing `previous` for those it holds at the same content hash and
    chunk count, and reading only the others from the store."""
    reused = {d.doc_id for d in documents if previous is not None and previous.shas.get(d.doc_id) == d.sha256
              and _rows(previous, d.doc_id) == d.chunks}
    wanted = [d.doc_id for d in documents if d.doc_id not in reused]
    committed = {d.doc_id: d.sha256 for d in documents}
    fresh: dict[str, list] = {}
    if wanted:  # a first read takes every row at once: a filter naming all documents would only slow it down
        for row in store.chunks(None if previous is None else wanted):
            doc_id = row.meta["doc_id"]
            if committed.get(doc_id) == row.meta["sha256"]:
                fresh.setdefault(doc_id, []).append(row)

    def parts():
        for doc_id in sorted(committed):
            if doc_id in reused:
                begin, end = previous.spans[doc_id]
                keys = previous.keys[begin:end]
                yield (doc_id, committed[doc_id], previous.ids[begin:end], previous.texts[begin:end], keys,
                       [previous.paragraphs[key] for key in dict.fromkeys(keys)])
                continue
            rows = sorted(fresh.get(doc_id, []), key=lambda r: (int(r.meta["paragraph"]), int(r.meta.get("chunk", 0))))
            keys = [(doc_id, int(row.meta["paragraph"])) for row in rows]
            paragraphs: dict[tuple[str, int], Paragraph] = {}
            for key, row in zip(keys, rows):
                if key not in paragraphs:  # its first chunk, which carries a cut paragraph's whole text
                    meta = row.meta
                    paragraphs[key] = Paragraph(doc_id=doc_id, title=meta["title"], number=key[1],
                                                text=meta.get("para_text", row.text), start=int(meta["start"]),
                                                end=int(meta["end"]), page=meta.get("page"))
            yield (doc_id, committed[doc_id], [row.id for row in rows], [row.text for row in rows], keys,
                   list(paragraphs.values()))

    return assemble(parts(), revision.number, revision.stamp, set(wanted))


class Lexicon:
    """Per document version, the BM25 term ids of its chunks, and the IDF counts over all chunks, kept in step with
    one mirror, so that a new mirror tokenises only the documents that changed. A document's share of the counts is
    not kept (it would cost more memory than its terms): when it leaves, its chunks, still in the previous mirror,
    are counted again and subtracted. One per ParagraphIndex; call `update` with each new mirror."""

    def __init__(self) -> None:
        # (doc_id, hash) -> its chunks' BM25 tokens as ids in `vocabulary`, one after another, and each chunk's count
        self.terms: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = {}
        self.vocabulary: dict[str, int] = {}  # BM25 token (bm25s's tokeniser) -> id; grows, ids never change
        self.df: Counter = Counter()  # per term of ours (`terms`): in how many chunks it occurs
        self.mirror: Mirror | None = None  # the mirror `terms` and `df` describe

    def update(self, mirror: Mirror) -> bool:
        """Bring terms and counts to `mirror`; True when any document was tokenised or dropped."""
        if mirror is self.mirror:
            return False
        current = set(mirror.shas.items())
        stale = {version for version in self.terms if version not in current  # gone, or read again, or not fitting
                 or version[0] in mirror.read or len(self.terms[version][1]) != _rows(mirror, version[0])}
        for doc_id, sha in stale:
            del self.terms[(doc_id, sha)]
            self.df.subtract(_document_df(_texts(self.mirror, doc_id)))
        new = sorted(current - set(self.terms))
        if new:
            texts = [_texts(mirror, doc_id) for doc_id, _ in new]
            tokens = _bm25_tokens([t for chunks in texts for t in chunks])
            at = 0
            for version, chunks in zip(new, texts):
                self.terms[version] = self._ids(tokens[at:at + len(chunks)])
                self.df.update(_document_df(chunks))
                at += len(chunks)
        self.df = +self.df  # drop the terms no chunk holds any more
        self.mirror = mirror
        return bool(stale or new)

    def _ids(self, rows: list[list[str]]) -> tuple[np.ndarray, np.ndarray]:
        vocabulary = self.vocabulary
        ids = np.fromiter((vocabulary.setdefault(t, len(vocabulary)) for row in rows for t in row), np.int32)
        return ids, np.fromiter((len(row) for row in rows), np.int32, len(rows))

    def bm25(self) -> Bm25:
        """BM25 over every chunk, in the mirror's row order: a concatenation and a sort (assistant/index/bm25.py)."""
        parts = [self.terms[(doc_id, self.mirror.shas[doc_id])] for doc_id in sorted(self.mirror.spans)]
        if not parts:
            return Bm25(self.vocabulary, np.zeros(0, np.int32), np.zeros(0, np.int32))
        return Bm25(self.vocabulary, np.concatenate([ids for ids, _ in parts]),
                    np.concatenate([lengths for _, lengths in parts]))

    def idf(self) -> Idf:
        return Idf.from_counts(Counter(self.df), len(self.mirror.ids) if self.mirror else 0)


def _document_df(texts: list[str]) -> Counter:
    df: Counter = Counter()
    for text in texts:
        df.update(set(terms(text)))
    return df


def _rows(mirror: Mirror, doc_id: str) -> int:
    begin, end = mirror.spans.get(doc_id, (0, 0))
    return end - begin


def _texts(mirror: Mirror, doc_id: str) -> list[str]:
    begin, end = mirror.spans[doc_id]
    return mirror.texts[begin:end]


def _bm25_tokens(texts: list[str]) -> list[list[str]]:
    """bm25s's own tokenisation (English stop words, Snowball stems), as strings (turned into ids at once)."""
    if not texts:
        return []
    import bm25s

    tokens = bm25s.tokenize(texts, stopwords="en", stemmer=stemmer(), show_progress=False, return_ids=False)
    return tokens
