"""The offline answerer: quote the sentences of the retrieved paragraphs that best answer the question.

Every sentence of the top paragraphs is scored by a linear model over a few features (embedding similarity of
sentence and paragraph to the question, IDF-weighted coverage of the question's terms, retrieval rank). The best
sentences, each followed by the marker of the paragraph it was copied from, make the answer: a quote is always
a verbatim span of the paragraph it cites. A logistic model over the best sentence's features estimates whether
the documents answer the question at all; below `decline_threshold` the answerer declines.
The weights live in `assistant/data/answerer.json` (fitted on SQuAD 2.0 train by benchmarks/tune_answerer.py).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.answering.text import Idf, coverage, split_sentences, terms
from assistant.models import Answer, Citation, Context

WEIGHTS_FILE = Path(__file__).resolve().parents[1] / "data" / "answerer.json"
FEATURES = ["dense_sentence", "dense_paragraph", "cover_sentence", "cover_paragraph", "rank_prior", "cover_missing"]
DEFAULT_WEIGHTS = {
    "rank": {"dense_sentence": 1.0, "dense_paragraph": 0.3, "cover_sentence": 0.8, "cover_paragraph": 0.3,
             "rank_prior": 0.15, "cover_missing": 0.0},
    "answerable": {"bias": -4.0, "dense_sentence": 4.0, "dense_paragraph": 2.0, "cover_sentence": 2.0,
                   "cover_paragraph": 3.0, "rank_prior": 0.0, "cover_missing": -1.0},
    "keep_within": 0.25,
}


@dataclass
class Candidate:
    context: Context
    rank: int
    start: int
    end: int
    features: dict[str, float]
    score: float = 0.0

    @property
    def text(self) -> str:
        return self.context.text[self.start:self.end]


def load_weights(path: Path = WEIGHTS_FILE) -> dict:
    if path.is_file():
        return json.loads(path.read_text())
    return DEFAULT_WEIGHTS


def score_sentences(question: str, question_vector: np.ndarray, contexts: list[Context], embedder,
                    idf: Idf, weights: dict) -> list[Candidate]:
    """All sentences of the contexts with their features and ranking score, best first."""
    q_terms = terms(question)
    candidates: list[Candidate] = []
    for rank, context in enumerate(contexts):
        para_terms = set(terms(context.text))
        cover_p = coverage(q_terms, para_terms, idf)
        for start, end in split_sentences(context.text):
            sentence_terms = set(terms(context.text[start:end]))
            candidates.append(Candidate(context, rank, start, end, {
                "cover_sentence": coverage(q_terms, sentence_terms, idf),
                "cover_paragraph": cover_p,
                "cover_missing": 1.0 - cover_p,
                "rank_prior": 1.0 / (rank + 1),
            }))
    if not candidates:
        return []
    vectors = embedder.embed([c.text for c in candidates] + [c.text for c in contexts])
    sentence_sims = vectors[: len(candidates)] @ question_vector
    paragraph_sims = vectors[len(candidates):] @ question_vector
    for candidate, sim in zip(candidates, sentence_sims):
        candidate.features["dense_sentence"] = float(sim)
        candidate.features["dense_paragraph"] = float(paragraph_sims[candidate.rank])
        candidate.score = sum(weights["rank"].get(f, 0.0) * candidate.features[f] for f in FEATURES)
    return sorted(candidates, key=lambda c: -c.score)


def answerability(candidate: Candidate, weights: dict) -> float:
    model = weights["answerable"]
    z = model.get("bias", 0.0) + sum(model.get(f, 0.0) * candidate.features[f] for f in FEATURES)
    return 1.0 / (1.0 + math.exp(-z))


def compose(ranked: list[Candidate], max_sentences: int, keep_within: float) -> tuple[str, list[Citation]]:
    """Join the best sentences, each followed by its paragraph's marker; one marker per paragraph.

    A citation's quote is the verbatim span of its paragraph from the first to the last sentence quoted from it,
    so every quoted sentence lies inside the quote of the marker it carries."""
    chosen = [c for c in ranked[:max_sentences] if c.score >= ranked[0].score - keep_within]
    by_paragraph: dict[tuple[str, int], list[Candidate]] = {}
    for candidate in chosen:
        by_paragraph.setdefault((candidate.context.doc_id, candidate.context.paragraph), []).append(candidate)
    markers = {key: n for n, key in enumerate(by_paragraph, start=1)}
    citations = []
    for key, group in by_paragraph.items():
        ctx = group[0].context
        start, end = min(c.start for c in group), max(c.end for c in group)
        citations.append(Citation(markers[key], ctx.doc_id, ctx.title, ctx.paragraph, ctx.text,
                                  ctx.text[start:end], group[0].score))
    parts = [f"{c.text} [{markers[(c.context.doc_id, c.context.paragraph)]}]" for c in chosen]
    return " ".join(parts), citations


def answer_offline(question: str, question_vector: np.ndarray, contexts: list[Context], embedder, idf: Idf,
                   settings, decline_text: str, weights: dict | None = None) -> Answer:
    weights = weights or load_weights()
    ranked = score_sentences(question, question_vector, contexts, embedder, idf, weights)
    probability = answerability(ranked[0], weights) if ranked else 0.0
    usage = {"answerable_probability": round(probability, 4)}
    if not ranked or probability < settings.decline_threshold:
        return Answer(decline_text, [], True, contexts, usage, question, "offline")
    text, citations = compose(ranked, settings.max_answer_sentences, weights.get("keep_within", 0.25))
    return Answer(text, citations, False, contexts, usage, question, "offline")
