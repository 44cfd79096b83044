"""Which span wins when the reader finds one in several paragraphs (`spans.best`).

The reader reads each paragraph alone, so a date question finds a date in each with about the same margin; the
carrying sentence's lexical score (weighted by the fitted `sentence_weight`) decides between them."""

from __future__ import annotations

from assistant.answering.extractive import spans
from assistant.answering.extractive.ranking import Candidate
from assistant.answering.extractive.reader import Reading
from assistant.answering.extractive.reader_input import Span
from assistant.types import Context

LOWEST = "They reached their lowest point on 9 March 2009."
LATER = "By the end of 2013 the index had climbed back above its old peak."


def context(paragraph: int, text: str) -> Context:
    return Context(doc_id="markets.txt", title="markets", paragraph=paragraph, text=text, score=1.0)


def reading(passage: int, text: str, span: str, margin: float) -> Reading:
    start = text.index(span)
    return Reading(passage=passage, span=Span(passage, start, start + len(span), margin, 0.0), answerable=5.0,
                   chars=(0, len(text)))


CONTEXTS = [context(2, LOWEST), context(3, LATER)]
READINGS = [reading(0, LOWEST, "9 March 2009", 11.0), reading(1, LATER, "2013", 11.6)]
RANKED = [Candidate(context=CONTEXTS[0], rank=0, start=0, end=len(LOWEST), features={}, score=2.0),
          Candidate(context=CONTEXTS[1], rank=1, start=0, end=len(LATER), features={}, score=-1.0)]


def test_the_largest_margin_wins_when_sentences_do_not_count():
    assert spans.best(READINGS, CONTEXTS, "margin", RANKED, 0.0).text == "2013"


def test_a_close_margin_in_the_sentence_that_matches_the_question_wins():
    found = spans.best(READINGS, CONTEXTS, "margin", RANKED, 0.5)
    assert found.text == "9 March 2009" and found.context.paragraph == 2


def test_a_much_larger_margin_still_wins_over_a_better_sentence():
    readings = [reading(0, LOWEST, "9 March 2009", 3.0), READINGS[1]]
    assert spans.best(readings, CONTEXTS, "margin", RANKED, 0.5).text == "2013"


def test_a_span_the_reader_doubts_never_wins_over_one_it_believes():
    readings = [reading(0, LOWEST, "9 March 2009", -3.0), reading(1, LATER, "2013", 2.0)]
    assert spans.best(readings, CONTEXTS, "margin", RANKED, 10.0).text == "2013"
