"""Okapi BM25 over the mirrored chunks, scored at question time from postings.

The scores are bm25s's (its default, Lucene's variant: k1 1.5, b 0.75, idf log(1 + (N - df + 0.5) / (df + 0.5)),
term part tf / (k1 (1 - b + b len / avg len) + tf)), computed with the same float types in the same order, so
every score is the same float32 bm25s gives. What differs is when: bm25s computes a score for every (chunk, term)
pair when it builds its index, which took 1.8 s of a fresh process's first question at 30,000 chunks, and again
after every write by another process. Here building is a sort of term ids (Lexicon keeps each document's ids, so
only new documents are looked up), and a question scores only its own terms' postings: some thousands of
floats, well under a millisecond.

Tokens are bm25s's (its tokeniser and English stop words, Snowball stems: mirror.py `_bm25_tokens`).
"""

from __future__ import annotations

import math

import numpy as np

K1 = 1.5
B = 0.75


class Bm25:
    """Postings of every term (chunk rows and term counts, sorted by term), and each chunk's length part."""

    def __init__(self, vocabulary: dict[str, int], term_ids: np.ndarray, lengths: np.ndarray) -> None:
        """`term_ids`: every chunk's tokens as ids in `vocabulary`, chunk after chunk in row order; `lengths`: how
        many tokens each chunk has."""
        self.vocabulary = vocabulary
        rows_count = len(lengths)
        self.rows_count = rows_count
        rows = np.repeat(np.arange(rows_count, dtype=np.int64), lengths)
        pairs, counts = np.unique(term_ids.astype(np.int64) * max(rows_count, 1) + rows, return_counts=True)
        terms = pairs // max(rows_count, 1)
        self.rows = (pairs % max(rows_count, 1)).astype(np.int32)
        self.tf = counts.astype(np.float32)  # exact; widened per question
        self.starts = np.searchsorted(terms, np.arange(len(vocabulary) + 1))  # term t: starts[t]:starts[t + 1]
        average = lengths.mean() if rows_count else 1.0
        self.length_part = K1 * ((1 - B) + B * lengths.astype(np.float64) / average)

    def scores(self, tokens: list[str]) -> np.ndarray:
        """Every chunk's score for the query `tokens` (float32; a repeated token counts again, as in bm25s)."""
        scores = np.zeros(self.rows_count, dtype=np.float32)
        for token in tokens:
            term = self.vocabulary.get(token)
            if term is None or term + 1 >= len(self.starts):
                continue
            begin, end = int(self.starts[term]), int(self.starts[term + 1])
            if begin == end:  # a word of documents since removed
                continue
            rows, tf = self.rows[begin:end], self.tf[begin:end].astype(np.float64)
            df = end - begin
            idf = np.float32(math.log(1 + (self.rows_count - df + 0.5) / (df + 0.5)))  # as bm25s: float32
            part = (np.float64(idf) * (tf / (self.length_part[rows] + tf))).astype(np.float32)
            scores[rows] += part  # a term's rows are distinct: one addition each
        return scores
