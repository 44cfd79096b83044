"""Hybrid retrieval: the candidates of a list of retrievers (dense: Chroma, cosine; lexical: BM25) fused by
reciprocal rank, in the manner of llama-index's QueryFusionRetriever.

Each retriever ranks chunks; a paragraph takes the best rank of its chunks, so a long paragraph split for the
embedding model still competes as one paragraph and comes back whole.
"""

from __future__ import annotations

import numpy as np

from assistant.index.paragraphs import ParagraphIndex
from assistant.retrieval.dense import dense, fill_similarity
from assistant.retrieval.lexical import lexical
from assistant.retrieval.ranking import Key, Ranking
from assistant.types import Context


def reciprocal_rank_fusion(rankings: list[Ranking], rrf_k: int = 60) -> dict[Key, float]:
    """Each paragraph's summed 1 / (rrf_k + rank + 1) over the rankings it appears in (ranks from 0)."""
    fused: dict[Key, float] = {}
    for ranking in rankings:
        for key, rank in ranking.paragraph_ranks().items():
            fused[key] = fused.get(key, 0.0) + 1.0 / (rrf_k + rank + 1)
    return fused


def retrieve(index: ParagraphIndex, query: str, query_vector: np.ndarray, top_k: int, candidates: int,
             rrf_k: int = 60, use_dense: bool = True, use_bm25: bool = True) -> list[Context]:
    """The `top_k` best paragraphs for `query`, fused from both retrievers (either can be switched off)."""
    mirror = index.mirror()
    if not mirror.keys:
        return []
    by_dense = dense(index, mirror, query_vector, candidates) if use_dense else None
    by_bm25 = lexical(index, mirror, query, candidates) if use_bm25 else None
    fused = reciprocal_rank_fusion([r for r in (by_dense, by_bm25) if r is not None], rrf_k)
    best = sorted(fused, key=lambda key: (-fused[key], key))[:top_k]
    similarity = dict(by_dense.scores) if by_dense else {}
    if by_dense:
        fill_similarity(index, mirror, best, query_vector, similarity)
    bm25 = by_bm25.scores if by_bm25 else {}
    contexts = []
    for key in best:
        paragraph = mirror.paragraphs[key]
        contexts.append(Context(doc_id=paragraph.doc_id, title=paragraph.title, paragraph=paragraph.number,
                                text=paragraph.text, score=fused[key], dense=similarity.get(key),
                                bm25=bm25.get(key), page=paragraph.page))
    return contexts
