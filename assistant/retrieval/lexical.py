"""The lexical retriever: BM25 over the index's mirror (assistant/index/bm25.py scores it from postings)."""

from __future__ import annotations

import numpy as np

from assistant.index.bm25 import Bm25
from assistant.index.mirror import Mirror
from assistant.index.paragraphs import ParagraphIndex
from assistant.retrieval.ranking import Ranking
from assistant.text.terms import stemmer


def bm25_search(bm25: Bm25, query: str, k: int) -> list[tuple[int, float]]:
    """(chunk row, score) of the `k` best chunks sharing at least one term with the query, best first."""
    if not bm25.rows_count:
        return []
    import bm25s

    tokens = bm25s.tokenize([query], stopwords="en", stemmer=stemmer(), show_progress=False, return_ids=False)
    if not tokens or not tokens[0]:
        return []
    # Rounded, and ties broken by row: equal scores are then ordered the same in every run and process.
    scores = np.round(bm25.scores(tokens[0]), 6)
    rows = np.flatnonzero(scores > 0)
    best = rows[np.lexsort((rows, -scores[rows]))][:k]
    return [(int(row), float(scores[row])) for row in best]


def lexical(index: ParagraphIndex, mirror: Mirror, query: str, n: int) -> Ranking:
    """The `n` best chunks by BM25, as paragraph keys in rank order, with each paragraph's best score."""
    bm25: Bm25 = index.derived("bm25", lambda m: index.lexicon(m).bm25(), mirror)
    ranking = Ranking()
    for row, score in bm25_search(bm25, query, n):
        ranking.add(mirror.keys[row], score)
    return ranking
