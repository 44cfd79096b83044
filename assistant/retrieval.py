"""Hybrid retrieval: dense (Chroma, cosine) and lexical (BM25) candidates fused by reciprocal rank.

Both retrievers rank chunks; a paragraph takes the best rank of its chunks, so a long paragraph split for the
embedding model still competes as one paragraph and comes back whole.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from assistant.answering.text import stemmer
from assistant.bm25 import Bm25
from assistant.index import ParagraphIndex
from assistant.mirror import Mirror
from assistant.models import Context


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


def best_rank_per_paragraph(keys: Sequence[tuple[str, int]]) -> dict[tuple[str, int], int]:
    ranks: dict[tuple[str, int], int] = {}
    for key in keys:
        ranks.setdefault(key, len(ranks))
    return ranks


def chunk_rows(mirror: Mirror) -> dict[tuple[str, int], list[int]]:
    """Mirror rows of every paragraph's chunks."""
    rows: dict[tuple[str, int], list[int]] = {}
    for row, key in enumerate(mirror.keys):
        rows.setdefault(key, []).append(row)
    return rows


def _fill_dense(index: ParagraphIndex, mirror: Mirror, keys: list[tuple[str, int]], query_vector: np.ndarray,
                dense_sim: dict[tuple[str, int], float]) -> None:
    """Cosine similarity of the question to the chosen paragraphs that the dense retriever did not return
    (best chunk), from the stored vectors: the answerer uses it as a feature."""
    missing = [key for key in keys if key not in dense_sim]
    if not missing:
        return
    rows: dict[tuple[str, int], list[int]] = index.derived("chunk_rows", chunk_rows, mirror)
    wanted = {mirror.ids[row]: key for key in missing for row in rows.get(key, [])}
    if not wanted:
        return
    found = index.vectors(list(wanted))
    if not found:
        return
    sims = np.stack(list(found.values())).astype(np.float32) @ np.asarray(query_vector, dtype=np.float32)
    for chunk, sim in zip(found, sims):
        key = wanted[chunk]
        dense_sim[key] = max(dense_sim.get(key, -1.0), float(sim))


def retrieve(index: ParagraphIndex, query: str, query_vector: np.ndarray, top_k: int, candidates: int,
             rrf_k: int = 60, use_dense: bool = True, use_bm25: bool = True) -> list[Context]:
    """The `top_k` best paragraphs for `query`, fused from both retrievers (either can be switched off)."""
    mirror = index.mirror()
    if not mirror.keys:
        return []
    dense_keys: list[tuple[str, int]] = []
    dense_sim: dict[tuple[str, int], float] = {}
    if use_dense:
        for row, distance in index.dense(mirror, query_vector, candidates):
            key = mirror.keys[row]
            dense_keys.append(key)
            dense_sim[key] = max(dense_sim.get(key, -1.0), 1.0 - float(distance))
    bm25_keys: list[tuple[str, int]] = []
    bm25_score: dict[tuple[str, int], float] = {}
    if use_bm25:
        bm25: Bm25 = index.derived("bm25", lambda m: index.lexicon(m).bm25(), mirror)
        for row, score in bm25_search(bm25, query, candidates):
            key = mirror.keys[row]
            bm25_keys.append(key)
            bm25_score[key] = max(bm25_score.get(key, 0.0), score)
    fused: dict[tuple[str, int], float] = {}
    for ranking in (best_rank_per_paragraph(dense_keys), best_rank_per_paragraph(bm25_keys)):
        for key, rank in ranking.items():
            fused[key] = fused.get(key, 0.0) + 1.0 / (rrf_k + rank + 1)
    best = sorted(fused, key=lambda key: (-fused[key], key))[:top_k]
    if use_dense:
        _fill_dense(index, mirror, best, query_vector, dense_sim)
    contexts = []
    for key in best:
        paragraph = mirror.paragraphs[key]
        contexts.append(Context(paragraph.doc_id, paragraph.title, paragraph.number, paragraph.text, fused[key],
                                dense=dense_sim.get(key), bm25=bm25_score.get(key), page=paragraph.page))
    return contexts
