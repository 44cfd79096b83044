"""The offline answerer: quote the sentences of the retrieved paragraphs that best answer the question.

1. Every sentence of the top paragraphs gets cheap features: IDF-weighted coverage of the question's terms in
   the sentence, in the sentence with its neighbours and in the paragraph; question bigrams kept in order;
   whether the sentence holds what the question type asks for (a date for "when", a number for "how many", a
   name for "who"/"where"); the paragraph's dense similarity and BM25 score from retrieval, and its rank.
2. A linear score ranks them. Optionally (`prefilter_keep` > 0 in the weights) the best few are then embedded
   and re-scored with their own embedding similarity; the shipped weights embed none: on SQuAD 2.0 train it
   changed the composed answers by nothing measurable and cost most of a question's time (see
   benchmarks/tune_answerer.py). So an offline answer costs no model call beyond the question's embedding.
3. The best sentences (at most settings.max_answer_sentences, within `keep_within` of the best score), each
   followed by the marker of the paragraph it was copied from, make the answer: a quote is always a verbatim
   span of the paragraph it cites.
4. A logistic model over question-level features (the best sentence's features, the rarest question term that
   its neighbourhood lacks, a negation in the question that the text lacks, ...) estimates whether the
   documents answer the question at all; below `settings.decline_threshold` the answerer declines.

The weights live in `assistant/data/answerer.json`, fitted on SQuAD 2.0 train questions by
`benchmarks/tune_answerer.py`, whose docstring documents every feature.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from assistant.answering.text import Idf, coverage, split_sentences, terms, words
from assistant.models import Answer, Citation, Context

WEIGHTS_FILE = Path(__file__).resolve().parents[1] / "data" / "answerer.json"

# Sentence features (ranking). All lie in [0, 1] except the similarities (cosine, in practice 0..1).
LEXICAL = ["cover_sentence", "cover_window", "cover_paragraph", "bigram", "rank_prior", "dense_paragraph",
           "bm25_paragraph", "type_match", "type_miss", "length", "first", "novel"]
FEATURES = ["dense_sentence", *LEXICAL]
# Question-level features (answerability), computed from the best sentence and its paragraph.
ANSWERABLE = ["score", "margin", "dense_sentence", "dense_paragraph", "cover_sentence", "cover_window",
              "cover_paragraph", "bigram", "type_miss", "missing_max", "missing_max_window", "negation_miss",
              "dense_top"]

DEFAULT_WEIGHTS = {  # used only when assistant/data/answerer.json is missing; a rough hand-set model
    "prefilter": {"cover_sentence": 3.0, "cover_window": 1.0, "cover_paragraph": 1.0, "bigram": 1.0,
                  "rank_prior": 1.0, "dense_paragraph": 2.0, "type_match": 0.5},
    "prefilter_keep": 8,
    "rank": {"dense_sentence": 3.0, "cover_sentence": 3.0, "cover_window": 1.0, "cover_paragraph": 1.0,
             "bigram": 1.0, "rank_prior": 1.0, "dense_paragraph": 2.0, "type_match": 0.5},
    "answerable": {"bias": -6.0, "dense_sentence": 4.0, "dense_paragraph": 2.0, "cover_sentence": 2.0,
                   "cover_paragraph": 3.0, "missing_max": -2.0},
    "keep_within": 1.0,
}

_NEGATION = re.compile(r"\b(not|never|no|none|neither|nor|without|cannot|n't|didn't|doesn't|don't|isn't|wasn't|"
                       r"weren't|aren't|won't|couldn't|wouldn't|hasn't|haven't|hadn't|fail|failed|refused|unable)\b",
                       re.IGNORECASE)
_TIME_Q = re.compile(r"^(when\b)|\b(what|which|in what|in which)\s+(year|years|decade|century|centuries|date|month|"
                     r"day|era|period|season|time)\b|\bhow long ago\b|\bsince when\b", re.IGNORECASE)
_NUMBER_Q = re.compile(r"\bhow (many|much|old|long|far|large|big|tall|high|often|fast|heavy|deep|wide)\b|"
                       r"\bwhat (percentage|percent|proportion|fraction|number|amount|share|size|age|rate)\b",
                       re.IGNORECASE)
_PERSON_Q = re.compile(r"^(who|whom|whose)\b|\b(who|whom|whose)\b", re.IGNORECASE)
_PLACE_Q = re.compile(r"^where\b|\b(in|from|to) where\b|\bwhere\b|\bwhat (country|city|state|town|region|province|"
                      r"continent|place|county|nation)\b|\bwhich (country|city|state|town|region|province|"
                      r"continent|place|county|nation)\b", re.IGNORECASE)
_TIME_A = re.compile(r"\b(1[0-9]{3}|20[0-9]{2})s?\b|\b\d{1,2}(st|nd|rd|th)\b|\b(january|february|march|april|may|"
                     r"june|july|august|september|october|november|december|jan|feb|mar|apr|jun|jul|aug|sep|sept|"
                     r"oct|nov|dec|monday|tuesday|wednesday|thursday|friday|saturday|sunday|yesterday|today|"
                     r"tomorrow|tonight|spring|summer|autumn|winter|century|centuries|decade|decades|ago|bc|bce|ad|"
                     r"ce|era|dynasty|weekend|week|month|year|years)\b", re.IGNORECASE)
_NUMBER_A = re.compile(r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fifteen|"
                       r"twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|hundreds|thousand|thousands|"
                       r"million|millions|billion|billions|trillion|dozen|dozens|half|quarter|third|double|twice|"
                       r"several|percent)\b", re.IGNORECASE)
_CAPITAL = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][\w'’\-]*")


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

    @property
    def text(self) -> str:
        return self.context.text[self.start:self.end]


def load_weights(path: Path = WEIGHTS_FILE) -> dict:
    if path.is_file():
        return json.loads(path.read_text())
    return DEFAULT_WEIGHTS


def question_type(question: str) -> str | None:
    """'time', 'number', 'person', 'place' or None: what kind of phrase the answer is."""
    if _NUMBER_Q.search(question):
        return "number"
    if _TIME_Q.search(question):
        return "time"
    if _PLACE_Q.search(question):
        return "place"
    if _PERSON_Q.search(question):
        return "person"
    return None


def has_type(sentence: str, kind: str | None, question_words: set[str]) -> bool:
    if kind == "time":
        return bool(_TIME_A.search(sentence))
    if kind == "number":
        return bool(_NUMBER_A.search(sentence))
    if kind in ("person", "place"):  # a capitalised word the question does not already name
        return any(m.group(0).lower().replace("’", "'") not in question_words for m in _CAPITAL.finditer(sentence))
    return False


def _bigrams(seq: list[str]) -> set[tuple[str, str]]:
    return set(zip(seq, seq[1:]))


def _missing_max(q_unique: set[str], present: set[str], idf: Idf) -> float:
    """The IDF of the rarest question term absent from `present`, relative to the rarest possible term."""
    top = math.log(1 + (idf.n + 1) / 0.5)
    missing = [idf(t) for t in q_unique if t not in present]
    return max(missing) / top if missing else 0.0


def lexical_candidates(question: str, contexts: list[Context], idf: Idf) -> list[Candidate]:
    """Every sentence of the contexts with its lexical features (no embedding yet)."""
    q_terms = terms(question)
    q_unique = set(q_terms)
    q_bigrams = _bigrams(q_terms)
    q_words = set(words(question))
    kind = question_type(question)
    candidates: list[Candidate] = []
    top_bm25 = max((c.bm25 for c in contexts if c.bm25), default=0.0)
    for rank, context in enumerate(contexts):
        spans = split_sentences(context.text)
        sentence_terms = [terms(context.text[s:e]) for s, e in spans]
        sets = [set(t) for t in sentence_terms]
        para_terms = set().union(*sets) if sets else set()
        cover_p = coverage(q_terms, para_terms, idf)
        dense_p = context.dense if context.dense is not None else 0.0
        bm25_p = (context.bm25 or 0.0) / top_bm25 if top_bm25 else 0.0
        for i, (start, end) in enumerate(spans):
            window = sets[i] | (sets[i - 1] if i else set()) | (sets[i + 1] if i + 1 < len(sets) else set())
            text = context.text[start:end]
            typed = has_type(text, kind, q_words) if kind else False
            features = {
                "cover_sentence": coverage(q_terms, sets[i], idf),
                "cover_window": coverage(q_terms, window, idf),
                "cover_paragraph": cover_p,
                "bigram": len(q_bigrams & _bigrams(sentence_terms[i])) / len(q_bigrams) if q_bigrams else 0.0,
                "rank_prior": 1.0 / (rank + 1),
                "dense_paragraph": dense_p,
                "bm25_paragraph": bm25_p,
                "type_match": float(typed),
                "type_miss": float(kind is not None and not typed),
                "length": min(len(sentence_terms[i]), 40) / 40,
                "first": float(i == 0),
                "novel": float(bool(sets[i] - q_unique)),
            }
            candidates.append(Candidate(context, rank, start, end, features, position=i, window_terms=window))
    return candidates


_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*\s*$")


def is_heading(text: str) -> bool:
    """A title line: a short paragraph (at most 12 words) with no sentence-ending punctuation."""
    stripped = text.strip()
    return len(words(stripped)) <= 12 and not _SENTENCE_END.search(stripped)


def echo_heading(candidate: Candidate) -> bool:
    """A heading-only paragraph that adds no content word to the question ("Marigold Station" for "Who founded
    Marigold Station?"): it names the topic and answers nothing. A headline with new words may hold the answer."""
    return not candidate.features.get("novel", 1.0) and is_heading(candidate.context.text)


def demote_headings(candidates: list[Candidate]) -> list[Candidate]:
    """Echo headings go after every other sentence unless nothing else was retrieved; the order is otherwise kept."""
    echo = [c for c in candidates if echo_heading(c)]
    if not echo or len(echo) == len(candidates):
        return candidates
    return [c for c in candidates if not echo_heading(c)] + echo


def linear(features: dict[str, float], model: dict[str, float]) -> float:
    return model.get("bias", 0.0) + sum(w * features.get(f, 0.0) for f, w in model.items() if f != "bias")


def score_sentences(question: str, question_vector: np.ndarray, contexts: list[Context], embedder,
                    idf: Idf, weights: dict) -> list[Candidate]:
    """The sentences of the contexts with their features and ranking score, best first.

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
    prefilter = weights.get("prefilter", weights["rank"])
    for cand in candidates:
        cand.score = linear(cand.features, prefilter)
    keep = int(weights.get("prefilter_keep", 8))
    # ties broken by reading order (paragraph rank, then position) so that answers are deterministic
    candidates.sort(key=lambda c: (-c.score, c.rank, c.position))
    if keep <= 0:  # lexical ranking only: no sentence is embedded
        return demote_headings(candidates)
    kept = candidates[:keep]
    vectors = embedder.embed([c.text for c in kept])
    for cand, sim in zip(kept, vectors @ question_vector):
        cand.features["dense_sentence"] = float(sim)
        cand.score = linear(cand.features, weights["rank"])
    return demote_headings(sorted(kept, key=lambda c: (-c.score, c.rank, c.position)))


def answerable_features(question: str, ranked: list[Candidate], contexts: list[Context], idf: Idf) -> dict:
    best = ranked[0]
    q_unique = set(terms(question))
    para_terms = set(terms(best.context.text))
    q_neg = bool(_NEGATION.search(question))
    window_text = " ".join(best.context.text[c.start:c.end] for c in ranked if c.context is best.context
                           and abs(c.position - best.position) <= 1) or best.text
    features = {f: best.features.get(f, 0.0) for f in ANSWERABLE}
    features.update(
        score=best.score,
        margin=min(best.score - ranked[1].score, 5.0) if len(ranked) > 1 else 5.0,
        missing_max=_missing_max(q_unique, para_terms, idf),
        missing_max_window=_missing_max(q_unique, best.window_terms, idf),
        negation_miss=float(q_neg and not _NEGATION.search(window_text)),
        dense_top=max((c.dense for c in contexts if c.dense is not None), default=0.0),
    )
    return features


def answerability(features: dict[str, float], weights: dict) -> float:
    z = linear(features, weights["answerable"])
    return 1.0 / (1.0 + math.exp(-max(min(z, 50.0), -50.0)))


def choose(ranked: list[Candidate], max_sentences: int, keep_within: float) -> list[Candidate]:
    """The best sentence and the next ones whose score is within `keep_within` of it (at most max_sentences).
    A heading that only echoes the question is quoted only when nothing else was retrieved."""
    echo = echo_heading(ranked[0])
    return [c for c in ranked[:max_sentences] if c.score >= ranked[0].score - keep_within
            and (echo or not echo_heading(c))]


def compose(ranked: list[Candidate], max_sentences: int, keep_within: float) -> tuple[str, list[Citation]]:
    """Join the chosen sentences, each followed by its paragraph's marker; one marker per paragraph, numbered
    in order of each paragraph's best sentence. Sentences of one paragraph are quoted in reading order."""
    chosen = choose(ranked, max_sentences, keep_within)
    markers: dict[tuple[str, int], int] = {}
    groups: dict[tuple[str, int], list[Candidate]] = {}
    for candidate in chosen:
        key = (candidate.context.doc_id, candidate.context.paragraph)
        markers.setdefault(key, len(markers) + 1)
        groups.setdefault(key, []).append(candidate)
    citations: list[Citation] = []
    parts: list[str] = []
    for key, group in groups.items():
        group.sort(key=lambda c: c.start)
        ctx = group[0].context
        citations.append(Citation(markers[key], ctx.doc_id, ctx.title, ctx.paragraph, ctx.text,
                                  ctx.text[group[0].start:group[-1].end], max(c.score for c in group),
                                  page=ctx.page))
        parts.extend(f"{c.text} [{markers[key]}]" for c in group)
    return " ".join(parts), citations


def answer_offline(question: str, question_vector: np.ndarray, contexts: list[Context], embedder, idf: Idf,
                   settings, decline_text: str, weights: dict | None = None) -> Answer:
    weights = weights or load_weights()
    ranked = score_sentences(question, question_vector, contexts, embedder, idf, weights)
    probability = answerability(answerable_features(question, ranked, contexts, idf), weights) if ranked else 0.0
    usage = {"answerable_probability": round(probability, 4)}
    if not ranked or probability < settings.decline_threshold:
        return Answer(decline_text, [], True, contexts, usage, question, "offline")
    text, citations = compose(ranked, settings.max_answer_sentences, weights.get("keep_within", 1.0))
    return Answer(text, citations, False, contexts, usage, question, "offline")
