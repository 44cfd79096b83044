"""Reading the retrieved paragraphs for the answer span: which passages the reader reads, which span wins, and
the sentence that carries it.

The answerer reads the top `reader_passages` paragraphs by retrieval rank, each as one window centred on its best
sentence by the lexical ranker (`ranking.score_sentences`), in one batch (`reader.Reader.read`). The span with
the largest margin over "no answer", plus a fitted share of its sentence's lexical score, wins
(training/tune_answerer.py fits the share and compares other rules on train questions).
The answer then opens with that span and quotes the sentence that holds it, so the citation follows the span.
"""

from __future__ import annotations

from dataclasses import dataclass

from assistant.answering.extractive.reader import Passage, Reader, Reading
from assistant.answering.extractive.reader_input import reader_question
from assistant.text.terms import STOPWORDS, word_positions, words
from assistant.types import Context

LONG_SENTENCE_CHARS = 600  # about 150 tokens: longer than the room a window leaves it
MARGIN_CLIP = 20.0  # margins and logits beyond this say nothing more (features are clipped to it)
FEATURES = ["reader_margin", "reader_answerable", "reader_answerable_max", "reader_margin_first"]


@dataclass
class Found:
    """The winning span: the context it is in, its characters in the context's text, and the reading."""

    context: Context
    start: int
    end: int
    reading: Reading

    @property
    def text(self) -> str:
        return self.context.text[self.start:self.end]


def read(reader: Reader | None, asked: str, carried: tuple[str, ...], ranked: list, contexts: list[Context],
         passages: int, max_tokens: int) -> list[Reading]:
    """The reader's readings of the top `passages` contexts (by retrieval rank), each windowed on its best
    sentence in `ranked` (the lexical ranking, best first). [] without a reader."""
    if reader is None or not contexts:
        return []
    focus: dict[int, tuple[int, int]] = {}
    for cand in ranked:
        focus.setdefault(id(cand.context), (cand.start, cand.end))
    chosen = contexts[:passages]
    wanted = {w for w in words(asked) if w not in STOPWORDS}
    items = [Passage(c.text, narrowed(c.text, focus.get(id(c), (0, 0)), wanted)) for c in chosen]
    return reader.read(reader_question(asked, carried), items, max_tokens)


def narrowed(text: str, focus: tuple[int, int], wanted: set[str]) -> tuple[int, int]:
    """A focus sentence longer than a window (text with no full stops: a table, a transcript, a file with no line
    breaks) is narrowed to where the question's words sit in it, so the window centred on it holds them."""
    start, end = focus
    if end - start <= LONG_SENTENCE_CHARS or not wanted:
        return focus
    hits = [offset for offset, word in word_positions(text, start, end) if word in wanted]
    if not hits:
        return focus
    middle = hits[len(hits) // 2]
    return max(start, middle - 100), min(end, middle + 100)


def best(readings: list[Reading], contexts: list[Context], rule: str = "margin", ranked: list | None = None,
         sentence_weight: float = 0.0) -> Found | None:
    """The winning span (None when nothing was read): the largest margin over "no answer" ("margin"), or the
    largest margin plus answerable logit ("margin+answerable"), plus `sentence_weight` times the lexical score of
    the sentence that carries the span (`ranked`: the lexical ranking).

    Why the sentence's score: the reader reads each passage alone, so its margins are not comparable across
    passages. A date question finds a date in every paragraph with about the same margin ("When did share prices
    bottom out?": "9 March 2009" in the paragraph about share prices, "2013" in the next one); how well the
    carrying sentence matches the question tells them apart. The weight is fitted on train questions. It only
    weighs spans the reader believes (margin above 0) when there is one: a sentence that matches the question well
    but where the reader finds no answer ("2018" for when the EU proposed a draft) must not win over a believed
    span elsewhere."""
    if not readings:
        return None
    believed = [r for r in readings if r.margin > 0]  # a span the reader doubts never beats one it believes
    found = [Found(contexts[r.passage], r.span.start, r.span.end, r) for r in believed or readings]
    floor = min((c.score for c in ranked or []), default=0.0)  # for a span in no quotable sentence

    def key(f: Found) -> float:
        value = f.reading.margin + (f.reading.answerable if rule == "margin+answerable" else 0.0)
        if sentence_weight and ranked:
            carrier = carrying_sentence(f, ranked)
            value += sentence_weight * (carrier.score if carrier is not None else floor)
        return value

    return max(found, key=key)


def features(readings: list[Reading], found: Found | None = None) -> dict[str, float]:
    """The reader's inputs to the decline model: the margin over "no answer" of the span the answer gives
    (`found`; the largest margin when there is none) and the answerable logit of its passage, the largest
    answerable logit, and the top-ranked passage's margin. The span given, not the largest margin: when the
    sentence term picks a span the reader doubts, the decline model must see that doubt."""
    if not readings:
        return dict.fromkeys(FEATURES, -MARGIN_CLIP)
    clip = lambda v: max(-MARGIN_CLIP, min(MARGIN_CLIP, v))  # noqa: E731
    top = found.reading if found is not None else max(readings, key=lambda r: r.margin)
    return {"reader_margin": clip(top.margin), "reader_answerable": clip(top.answerable),
            "reader_answerable_max": clip(max(r.answerable for r in readings)),
            "reader_margin_first": clip(readings[0].margin)}


def carrying_sentence(found: Found, ranked: list):
    """The ranked candidate (a quotable sentence) of the span's paragraph that holds most of the span; None
    when the span lies in no quotable sentence (a heading, a caption)."""
    best_overlap, best_cand = 0, None
    for cand in ranked:
        if cand.context is not found.context:
            continue
        overlap = min(cand.end, found.end) - max(cand.start, found.start)
        if overlap > best_overlap:
            best_overlap, best_cand = overlap, cand
    return best_cand
