"""The offline answerer: the reader marks the answer span in the retrieved paragraphs, the answer quotes the
sentence that carries it, or it declines.

1. Every quotable sentence of the top paragraphs is ranked by its lexical features (`ranking.py`; `quotable.py`
   keeps headings, captions, menus and copyright lines out).
2. The reader (`reader.py`, a MiniLM fine-tuned on SQuAD; `spans.py`) reads the top paragraphs, each in one window
   around its best sentence, follow-ups with the questions they carry, and marks the best answer span with its
   margin over "no answer". The sentence holding that span becomes the first quoted sentence.
3. `answerability.py` estimates the probability that the documents answer the question at all (`confidence`),
   from the lexical features and the reader's scores, stacked by one calibrated logistic model; below the
   decline threshold the answerer declines. Necessary answer-type checks decline too, where they earned it on
   train data and unless the reader answers plainly.
4. The answer opens with the exact span (when it is shorter than its sentence), then the sentence that carries
   it. Another sentence is added (at most settings.max_answer_sentences) only when it contributes: its score is
   close to the best one, and, from another paragraph, it holds question terms the sentences before it lack.
   Each is followed by the marker of the paragraph it was copied from, so a quote is always a verbatim span of the
   paragraph it cites, and no paragraph is cited for nothing. `Answer.span` gives the span's paragraph and offsets.

The weights live in `assistant/data/answerer.json` (typed and checked by `weights.py`), fitted on SQuAD 2.0
train questions by `training/tune_answerer.py`, whose docstring documents every step; the reader's card is
`assistant/data/reader.md`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import partial

import numpy as np

from assistant.answering.extractive import answerability, question_types, spans
from assistant.answering.citations import STATEMENT_TERMS, claims_and_sentences
from assistant.answering.extractive.ranking import Candidate, QuestionTerms, coverage, score_sentences
from assistant.answering.extractive.reader import Reader, Reading
from assistant.answering.extractive.soft_coverage import QuestionTokens, soft_coverage
from assistant.text.terms import Idf, terms
from assistant.answering.extractive.weights import (AnswerabilityWeights, AnswererWeights, ComposeOptions,
                                                    DeclineModel, RankingWeights)
from assistant.types import Answer, AnswerSpan, Citation, Context, Question

READING_FEATURES = [*spans.FEATURES, "reader_agrees", "reader_sentence_gap", "reader_margin_x_cover",
                    "reader_margin_x_dense"]  # beside answerability.FEATURES
SPAN_LEADS = 0.7  # the span opens the answer when it is shorter than this share of its sentence


def choose(ranked: list[Candidate], q: QuestionTerms, idf: Idf, max_sentences: int, compose: ComposeOptions,
           spanned: bool = False) -> list[Candidate]:
    """The best sentence, then (in score order) each sentence that contributes: within `keep_within` of the best
    score if it shares the best sentence's paragraph; from another paragraph, within `other_paragraph_within` and
    holding at least `min_new_coverage` of the question's weight that the sentences chosen so far lack. When the
    first sentence carries the reader's span (`spanned`) and `span_other_paragraphs` is 0, the answer cites the
    span's paragraph alone (citations follow the span)."""
    other_paragraphs = not spanned or compose.span_other_paragraphs != 0
    chosen = [ranked[0]]
    covered = set(ranked[0].terms)
    top = max(c.score for c in ranked)  # the first may be the reader's sentence, not the best by score
    for cand in ranked[1:]:
        if len(chosen) >= max_sentences:
            break
        gap = top - cand.score
        if cand.context is ranked[0].context:
            keep = gap <= compose.keep_within
        elif other_paragraphs:
            new = coverage(q, cand.terms - covered, idf) if q.weights else 0.0
            keep = gap <= compose.other_paragraph_within and new > compose.min_new_coverage
        else:
            keep = False
        if keep:
            chosen.append(cand)
            covered |= cand.terms
    return chosen


def compose_answer(chosen: list[Candidate]) -> tuple[str, list[Citation]]:
    """The chosen sentences in order (the best first), each followed by its paragraph's marker; markers are
    numbered by first use, one per paragraph, and each citation quotes the span of its chosen sentences."""
    markers: dict[tuple[str, int], int] = {}
    groups: dict[tuple[str, int], list[Candidate]] = {}
    for candidate in chosen:
        key = (candidate.context.doc_id, candidate.context.paragraph)
        markers.setdefault(key, len(markers) + 1)
        groups.setdefault(key, []).append(candidate)
    citations = []
    for key, group in groups.items():
        ctx = group[0].context
        start, end = min(c.start for c in group), max(c.end for c in group)
        citations.append(Citation(marker=markers[key], doc_id=ctx.doc_id, title=ctx.title, paragraph=ctx.paragraph,
                                  text=ctx.text, quote=ctx.text[start:end], score=max(c.score for c in group),
                                  page=ctx.page))
    text = " ".join(f"{c.text} [{markers[(c.context.doc_id, c.context.paragraph)]}]" for c in chosen)
    return text, citations


def estimate(q: QuestionTerms, ranked: list[Candidate], contexts: list[Context], idf: Idf,
             weights: AnswerabilityWeights, read: Read | None = None,
             question_tokens: QuestionTokens | None = None) -> tuple[float, list[str]]:
    """(confidence, the necessary checks failed): P(the documents answer the
    question), calibrated, from the lexical features of the quoted sentence (the reader's, else the best by
    lexical score, `ranked[0]`) and the reader's scores (`read`). A failed necessary check declines whatever the
    confidence, unless the reader lifts it (`reader_lifts`). `question_tokens`: the question's MiniLM word-piece
    vectors when retrieval computed them (embeddings.embed_question); soft coverage computes them otherwise."""
    if not ranked:
        return 0.0, []
    model = weights.features
    uses_soft = "soft_coverage" in model.weights  # a model fitted without it skips its MiniLM pass
    coverage = partial(soft_coverage, question_tokens=question_tokens) if uses_soft else None
    features = reading_features(q, read.quoted if read else ranked, contexts, idf, read, coverage=coverage)
    confidence = model.probability(features)
    failed = answerability.checks_failed(q.asked, ranked, weights.checks)
    if failed and reader_lifts(failed, features["reader_margin"], read.found.text if read and read.found else None,
                               weights.check_override):
        failed = []
    if failed:  # a count, an amount or a date asked for and none given: see answerability.py
        confidence = min(confidence, weights.check_confidence)
    return confidence, failed


def reader_lifts(failed: list[str], margin: float, span: str | None, override: float) -> bool:
    """Does the reader lift the failed necessary checks? Only when its margin reaches the fitted `override` and its
    span holds what each check looks for: a check must never decline what the reader answers plainly ("48,000
    visitors" for a count of guests), and a span of another kind is no plain answer ("sister" for how many leeks)."""
    return span is not None and margin >= override and question_types.span_passes(failed, span)


def reading_features(q: QuestionTerms, ranked: list[Candidate], contexts: list[Context], idf: Idf,
                     read: Read | None, coverage=None) -> dict[str, float]:
    """The decline model's inputs: the lexical features (answerability.FEATURES) of `ranked[0]` (the answerer
    passes the quoted sentence: the reader's), the reader's (spans.FEATURES), and whether the reader's sentence is
    the lexical ranker's best and how far below it it scores."""
    features = answerability.question_features(q.text, ranked, contexts, idf, q.weights, q.asked, coverage)
    features.update(spans.features(read.readings, read.found) if read else spans.features([]))
    carrier, best = (read.carrier, read.ranked[0]) if read and read.ranked else (None, None)
    features["reader_agrees"] = float(carrier is not None and carrier is best)
    features["reader_sentence_gap"] = min(best.score - carrier.score, 10.0) if carrier is not None else 10.0
    # the reader's belief counts for more when the passages are about the question at all (off-corpus passages can
    # hold a span of the asked type)
    features["reader_margin_x_cover"] = features["reader_margin"] * features["cover_retrieved"]
    features["reader_margin_x_dense"] = features["reader_margin"] * features["dense_top"]
    return features


def thresholds(model: DeclineModel, settings) -> tuple[float, float]:
    """(decline below, confident from): the settings' values when set, else the model's fitted ones."""
    decline = settings.decline_threshold if settings.decline_threshold is not None else model.decline_threshold
    confident = (settings.confident_threshold if settings.confident_threshold is not None
                 else model.confident_threshold)
    return decline, max(confident, decline)


@dataclass
class Read:
    """What the answerer knows after ranking and reading: the sentences by lexical score (`ranked`), the reader's
    readings, the winning span and the sentence that carries it (None without a reader, or when the span lies in
    no quotable sentence)."""

    ranked: list[Candidate]
    readings: list[Reading]
    found: spans.Found | None = None
    carrier: Candidate | None = None

    @property
    def quoted(self) -> list[Candidate]:
        """The sentences in the order the answer quotes them: the span's sentence first."""
        if self.carrier is None:
            return self.ranked
        return [self.carrier, *(c for c in self.ranked if c is not self.carrier)]


def read_and_rank(q: QuestionTerms, question_vector: np.ndarray, contexts: list[Context], embedder, idf: Idf,
                  weights: RankingWeights, reader: Reader | None) -> Read:
    """Rank the sentences of the contexts, read the top contexts, and find the sentence holding the best span."""
    ranked = score_sentences(q, question_vector, contexts, embedder, idf, weights)
    options = weights.reader
    readings = spans.read(reader, q.asked, q.carried, ranked, contexts, options.passages, options.max_tokens)
    # not for a follow-up: its carried terms lift the sentence that answered the earlier question ("What happened
    # to them the following year?" is not answered by "accelerated in 2019"), and the train conversations cannot
    # measure that (their two questions share a paragraph by construction)
    found = spans.best(readings, contexts, options.rule, ranked, 0.0 if q.carried else options.sentence_weight)
    carrier = spans.carrying_sentence(found, ranked) if found else None
    return Read(ranked, readings, found if carrier is not None else None, carrier)


def rate(answer: Answer, question: Question, question_vector: np.ndarray, contexts: list[Context], idf: Idf, settings,
         weights: AnswererWeights, reader: Reader | None = None,
         question_tokens: QuestionTokens | None = None) -> Answer:
    """Fill in an LLM answer's confidence, support and uncovered words from the same estimate the offline
    answerer declines on (the LLM's own refusal decides `refused`; this only labels the answer). The reader reads
    the paragraphs the answer cites: when it finds no answer in any of them, the answer is weakly supported."""
    q = QuestionTerms.of(question, weights.context_weight)
    read = read_and_rank(q, question_vector, contexts, None, idf, weights, reader) if contexts else Read([], [])
    confidence, _ = estimate(q, read.ranked, contexts, idf, weights.answerability, read, question_tokens)
    if not answer.refused:  # the answer is only as good as the share of its statements a source verifies
        confidence *= supported_share(answer)
    answer.confidence = round(confidence, 4)
    answer.support = answerability.support(confidence, answer.refused,
                                           thresholds(weights.answerability.features, settings)[1])
    if not answer.refused and (answer.unsupported or answer.unsupported_sentences):
        answer.support = "weak"
    sources = contexts if answer.refused else answer.citations
    answer.uncovered = answerability.uncovered(q.asked, [c.text for c in sources])
    if not answer.refused and answer.citations and reader is not None:
        retrieved = {(c.doc_id, c.paragraph): c for c in contexts}
        cited = [retrieved.get((c.doc_id, c.paragraph))
                 or Context(doc_id=c.doc_id, title=c.title, paragraph=c.paragraph, text=c.text, score=0.0, dense=0.0)
                 for c in answer.citations]
        cited_ranked = score_sentences(q, question_vector, cited, None, idf, weights)
        found = spans.read(reader, q.asked, q.carried, cited_ranked, cited, len(cited),
                           weights.reader.max_tokens)
        if found and max(r.margin for r in found) < weights.answerability.reader_no_answer:
            answer.support = "weak"
            answer.notes.append("The reader found no answer to the question in the paragraphs this answer cites.")
    return answer


def supported_share(answer: Answer) -> float:
    """The share of an LLM answer's statements that a verified citation supports (0 when none is)."""
    if answer.unsupported:
        return 0.0
    _, sentences = claims_and_sentences(answer.text)
    statements = [s for s in sentences if len(terms(s.text)) >= STATEMENT_TERMS]
    return 1.0 - min(len(answer.unsupported_sentences), len(statements)) / max(len(statements), 1)


def compose_span_answer(chosen: list[Candidate], found: spans.Found | None) -> tuple[str, list[Citation],
                                                                                   AnswerSpan | None]:
    """The answer's text, citations and span: the exact span first when it is shorter than its sentence, then
    the quoted sentences, each followed by its paragraph's marker."""
    text, citations = compose_answer(chosen)
    if found is None:
        return text, citations, None
    marker = next((c.marker for c in citations
                   if (c.doc_id, c.paragraph) == (found.context.doc_id, found.context.paragraph)), None)
    span = AnswerSpan(text=found.text, doc_id=found.context.doc_id, paragraph=found.context.paragraph,
                      start=found.start, end=found.end, marker=marker)
    sentence = chosen[0].text
    if found.text.strip() and len(found.text) < SPAN_LEADS * len(sentence):
        text = f"{found.text.strip()} — {text}"
    return text, citations, span


_PIECE_END = re.compile(r"(?<= —) |(?<=\]) (?=\S)")


def answer_pieces(text: str) -> list[str]:
    """An offline answer's text as it is streamed: the span's lead ("Deir al-Zour — "), then each quoted sentence
    with its marker; joined, the pieces are the text."""
    pieces, start = [], 0
    for cut in _PIECE_END.finditer(text):
        pieces.append(text[start:cut.end()])
        start = cut.end()
    pieces.append(text[start:])
    return [p for p in pieces if p]


def answer_offline(question: Question, question_vector: np.ndarray, contexts: list[Context], embedder, idf: Idf,
                   settings, decline_text: str, weights: AnswererWeights, reader: Reader | None = None,
                   question_tokens: QuestionTokens | None = None) -> Answer:
    q = QuestionTerms.of(question, weights.context_weight)
    read = read_and_rank(q, question_vector, contexts, embedder, idf, weights, reader)
    confidence, failed = estimate(q, read.ranked, contexts, idf, weights.answerability, read, question_tokens)
    decline_below, confident_from = thresholds(weights.answerability.features, settings)
    if not read.ranked or failed or confidence < decline_below:
        missing = answerability.uncovered(q.asked, [c.text for c in contexts])
        return Answer(text=decline_text, refused=True, contexts=contexts, question=question.text, standalone=question,
                      mode="offline", confidence=round(confidence, 4), support="declined", uncovered=missing)
    chosen = choose(read.quoted, q, idf, settings.max_answer_sentences, weights.compose,
                    spanned=read.carrier is not None)
    text, citations, span = compose_span_answer(chosen, read.found)
    missing = answerability.uncovered(q.asked, [c.text for c in citations])
    return Answer(text=text, citations=citations, refused=False, contexts=contexts, question=question.text,
                  standalone=question, mode="offline", confidence=round(confidence, 4),
                  support=answerability.support(confidence, False, confident_from), uncovered=missing, span=span)
