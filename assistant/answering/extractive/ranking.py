"""Sentence ranking for the offline answerer: every quotable sentence of the retrieved paragraphs, its lexical
features, and a linear score (weights fitted by training/tune_answerer.py: `prefilter`, `rank`).

The features: IDF-weighted coverage of the question's terms in the sentence, in the sentence with its neighbours
and in the paragraph; question bigrams kept in order; whether the sentence holds what the question type asks for
(`question_types.py`); the paragraph's dense similarity and BM25 score, and its rank. A follow-up (a Question that
carries earlier questions, see assistant/conversation.py) is scored on its own words: its type and terms come from
the part the user typed, the carried questions' terms count `context_weight` (fitted, in the weights) as much. The
reader (reader.py, spans.py) then reads the best paragraphs around their best sentences.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from assistant.answering.extractive.question_types import has_type, question_type
from assistant.answering.extractive.quotable import quotable
from assistant.text.terms import Idf, split_sentences, terms, words
from assistant.types import Context, Question

if TYPE_CHECKING:
    from assistant.answering.extractive.weights import RankingWeights

_WH = re.compile(r"\b(what|who|whom|whose|when|where|which|why|how)\b", re.IGNORECASE)

# Sentence features (ranking). All lie in [0, 1] except the similarities (cosine, in practice 0..1).
LEXICAL = ["cover_sentence", "cover_window", "cover_paragraph", "bigram", "rank_prior", "dense_paragraph",
           "bm25_paragraph", "type_match", "type_miss", "length", "first", "novel"]
FEATURES = ["dense_sentence", *LEXICAL]


@dataclass
class Candidate:
    context: Context
    rank: int
    start: int
    end: int
    features: dict[str, float]
    score: float = 0.0
    position: int = 0  # sentence number within its paragraph
    window_terms: set[str] = field(default_factory=set, repr=False)
    terms: set[str] = field(default_factory=set, repr=False)

    @property
    def text(self) -> str:
        return self.context.text[self.start:self.end]


@dataclass(kw_only=True)
class QuestionTerms:
    """What the answerer scores against: the question (the words the user typed this turn, and a follow-up's
    carried context) and what is derived from it once."""

    question: Question
    weights: dict[str, float]  # stemmed term -> weight (own terms 1, carried-only terms `context_weight`)
    bigrams: set[tuple[str, str]]
    kind: str | None
    words: set[str]

    @property
    def text(self) -> str:
        return self.question.text  # as retrieved (a follow-up with its context tag)

    @property
    def asked(self) -> str:
        return self.question.asked  # the user's own words this turn

    @property
    def carried(self) -> tuple[str, ...]:
        return self.question.carried  # a follow-up's earlier questions (the reader reads them)

    @classmethod
    def of(cls, question: Question, context_weight: float) -> QuestionTerms:
        asked, carried = question.asked, question.carried
        own = terms(asked)
        weights = {t: context_weight for q in carried for t in terms(q)}
        weights.update(dict.fromkeys(own, 1.0))
        bigrams = _bigrams(own).union(*(_bigrams(terms(q)) for q in carried))
        # an elliptical follow-up ("And Loveluck?", no question word of its own) asks for the same kind of thing
        # as the question it follows
        kind = question_type(asked)
        if kind is None and carried and not _WH.search(asked):
            kind = question_type(carried[0])
        return cls(question=question, weights=weights, bigrams=bigrams, kind=kind, words=set(words(question.text)))


def _bigrams(seq: list[str]) -> set[tuple[str, str]]:
    return set(zip(seq, seq[1:]))


def coverage(q: QuestionTerms, present: set[str], idf: Idf) -> float:
    """Weighted IDF share of the question's terms found in `present` (0..1)."""
    total = sum(w * idf(t) for t, w in q.weights.items())
    return sum(w * idf(t) for t, w in q.weights.items() if t in present) / total if total else 0.0


def lexical_candidates(q: QuestionTerms, contexts: list[Context], idf: Idf) -> list[Candidate]:
    """Every quotable sentence of the contexts with its lexical features (no embedding yet)."""
    candidates: list[Candidate] = []
    top_bm25 = max((c.bm25 for c in contexts if c.bm25), default=0.0)
    for rank, context in enumerate(contexts):
        spans = split_sentences(context.text)
        sentence_terms = [terms(context.text[s:e]) for s, e in spans]
        sets = [set(t) for t in sentence_terms]
        cover_p = coverage(q, set().union(*sets) if sets else set(), idf)
        dense_p = context.dense if context.dense is not None else 0.0
        bm25_p = (context.bm25 or 0.0) / top_bm25 if top_bm25 else 0.0
        for i, (start, end) in enumerate(spans):
            text = context.text[start:end]
            if not quotable(text, context.text):
                continue
            window = sets[i] | (sets[i - 1] if i else set()) | (sets[i + 1] if i + 1 < len(sets) else set())
            typed = has_type(text, q.kind, q.words) if q.kind else False
            features = {
                "cover_sentence": coverage(q, sets[i], idf),
                "cover_window": coverage(q, window, idf),
                "cover_paragraph": cover_p,
                "bigram": len(q.bigrams & _bigrams(sentence_terms[i])) / len(q.bigrams) if q.bigrams else 0.0,
                "rank_prior": 1.0 / (rank + 1),
                "dense_paragraph": dense_p,
                "bm25_paragraph": bm25_p,
                "type_match": float(typed),
                "type_miss": float(q.kind is not None and not typed),
                "length": min(len(sentence_terms[i]), 40) / 40,
                "first": float(i == 0),
                "novel": float(bool(sets[i] - set(q.weights))),
            }
            candidates.append(Candidate(context, rank, start, end, features, position=i, window_terms=window,
                                        terms=sets[i]))
    return candidates


def score_sentences(question: QuestionTerms, question_vector: np.ndarray, contexts: list[Context], embedder,
                    idf: Idf, weights: RankingWeights) -> list[Candidate]:
    """The quotable sentences of the contexts with their features and ranking score, best first.

    With `prefilter_keep` = 0 (the shipped weights) the lexical pre-score is the ranking and no sentence is
    embedded; with k > 0 only the k best by the pre-score are embedded, re-scored and returned."""
    candidates = lexical_candidates(question, contexts, idf)
    if not candidates:
        return []
    missing_dense = [c for c in contexts if c.dense is None]
    if missing_dense:  # contexts that did not come through dense retrieval: embed the paragraphs themselves
        sims = embedder.embed([c.text for c in missing_dense]) @ question_vector
        dense_of = {id(c): float(s) for c, s in zip(missing_dense, sims)}
        for cand in candidates:
            if id(cand.context) in dense_of:
                cand.features["dense_paragraph"] = dense_of[id(cand.context)]
    for cand in candidates:
        cand.score = weights.prefilter.score(cand.features)
    keep = weights.prefilter_keep
    # ties broken by reading order (paragraph rank, then position) so that answers are deterministic
    candidates.sort(key=lambda c: (-c.score, c.rank, c.position))
    if keep <= 0:  # lexical ranking only: no sentence is embedded
        return candidates
    kept = candidates[:keep]
    vectors = embedder.embed([c.text for c in kept])
    for cand, sim in zip(kept, vectors @ question_vector):
        cand.features["dense_sentence"] = float(sim)
        cand.score = weights.rank.score(cand.features)
    return sorted(kept, key=lambda c: (-c.score, c.rank, c.position))
