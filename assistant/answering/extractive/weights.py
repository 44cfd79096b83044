"""The offline answerer's weights (assistant/data/answerer.json, fitted by training/tune_answerer.py), typed.

`RankingWeights` is what ranking and reading need (tune_answerer.py builds it before anything else is fitted);
`AnswererWeights` adds how answers are composed and when they are declined. Every field is required: a file
fitted by an older script fails to load with the field it lacks named (scorer.WeightsError), rather than
answering with numbers nobody fitted.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from assistant.answering.scorer import LinearScorer, load_weights_file
from assistant.config.settings import PACKAGE_DATA

WEIGHTS_FILE = PACKAGE_DATA / "answerer.json"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ReaderOptions(_Strict):
    passages: int  # paragraphs the reader reads
    max_tokens: int  # tokens in one reader window
    rule: Literal["margin", "margin+answerable"]  # which span wins (spans.best)
    sentence_weight: float  # how much the carrying sentence's lexical score adds to a span's margin (spans.best)


class ComposeOptions(_Strict):
    """Which sentences join the first in an answer (answerer.choose)."""

    keep_within: float
    other_paragraph_within: float
    min_new_coverage: float
    span_other_paragraphs: float  # 0: an answer whose first sentence holds the span cites that paragraph alone


class DeclineModel(LinearScorer):
    """The decline model: a calibrated LinearScorer with its two fitted operating points."""

    decline_threshold: float
    confident_threshold: float


class AnswerabilityWeights(_Strict):
    features: DeclineModel
    checks: list[str]  # the necessary checks kept (question_types.failed_checks)
    check_confidence: float  # the confidence a failed necessary check caps the estimate at
    check_override: float  # the reader margin from which it lifts a failed check (answerer.reader_lifts)
    reader_no_answer: float  # LLM mode: a reader margin below this in every cited paragraph is weak support


class RankingWeights(_Strict):
    prefilter: LinearScorer  # the lexical sentence score
    prefilter_keep: int  # > 0: embed the best k sentences and re-score them with `rank`
    rank: LinearScorer | None = None
    reader: ReaderOptions
    context_weight: float  # weight of a follow-up's carried terms against the user's own


class AnswererWeights(RankingWeights):
    about: str
    fitted_on: str
    compose: ComposeOptions
    answerability: AnswerabilityWeights
    train: dict[str, Any]  # what the fit measured (cross-validated on train), for the model card


def load_weights(path=WEIGHTS_FILE) -> AnswererWeights:
    return load_weights_file(path, AnswererWeights)
