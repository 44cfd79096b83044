"""The dense retriever: cosine similarity of the question's vector to the chunk vectors in the store."""

from __future__ import annotations

import numpy as np

from assistant.index.mirror import Mirror
from assistant.index.paragraphs import ParagraphIndex
from assistant.retrieval.ranking import Key, Ranking


def dense(index: ParagraphIndex, mirror: Mirror, query_vector: np.ndarray, n: int) -> Ranking:
    """The `n` nearest committed chunks, as paragraph keys in rank order, with each paragraph's best cosine."""
    ranking = Ranking()
    for row, distance in index.dense(mirror, query_vector, n):
        ranking.add(mirror.keys[row], 1.0 - float(distance))
    return ranking


def chunk_rows(mirror: Mirror) -> dict[Key, list[int]]:
    """Mirror rows of every paragraph's chunks."""
    rows: dict[Key, list[int]] = {}
    for row, key in enumerate(mirror.keys):
        rows.setdefault(key, []).append(row)
    return rows


def fill_similarity(index: ParagraphIndex, mirror: Mirror, keys: list[Key], query_vector: np.ndarray,
                    similarity: dict[Key, float]) -> None:
    """Cosine similarity of the question to the chosen paragraphs that the dense retriever did not return
    (best chunk), from the stored vectors: the answerer uses it as a feature."""
    missing = [key for key in keys if key not in similarity]
    if not missing:
        return
    rows: dict[Key, list[int]] = index.derived("chunk_rows", chunk_rows, mirror)
    wanted = {mirror.ids[row]: key for key in missing for row in rows.get(key, [])}
    if not wanted:
        return
    found = index.vectors(list(wanted))
    if not found:
        return
    sims = np.stack(list(found.values())).astype(np.float32) @ np.asarray(query_vector, dtype=np.float32)
    for chunk, sim in zip(found, sims):
        key = wanted[chunk]
        similarity[key] = max(similarity.get(key, -1.0), float(sim))
