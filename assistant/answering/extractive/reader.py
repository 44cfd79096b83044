"""The reader: a small transformer that reads passages and marks the answer span, or finds none.

MiniLM (6 layers) fine-tuned here as a SQuAD 2.0-style reader on 105,000 SQuAD train questions and the negatives
users meet (`training/`; model card `assistant/data/reader.md`), shipped as int8 ONNX and run with onnxruntime and
tokenizers: no torch at run time.

What it gives the answerer, per passage read (`Reading`):
- the best span (characters in the passage) and its margin over "no answer here" (span score minus the [CLS]
  score): how much more the model believes this span than that the passage does not answer;
- the answerable head's logit for the passage: a second, separately trained opinion on the same question.

Cost is bounded: each passage is read as one window of at most `max_tokens` tokens (question included), the
window centred on the passage's `focus` (its best sentence) when the passage is longer, and all of them in one
batch. At 4 windows of 128 tokens this is about 25 ms on two cores.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from assistant.config.settings import PACKAGE_DATA
from assistant.answering.extractive.reader_input import (CLS, SEP, Span, Window, batch, best_span, load_tokenizer,
                                              question_ids, windows)

MODEL_FILE = PACKAGE_DATA / "reader.onnx"
CARD_FILE = MODEL_FILE.with_suffix(".json")
OUTPUTS = ["start_logits", "end_logits", "answerable_logit"]


class ReaderCard(BaseModel):
    """What training/export_reader.py records beside the model (`assistant/data/reader.json`); the human-readable
    card is reader.md."""

    model_config = ConfigDict(extra="forbid")
    onnx_sha256: str
    base: str
    trained_on: str
    data_md5: str
    commit: str
    recipe: dict
    window_tokens: int = Field(gt=16, description="the window length it was trained on (question included)")
    null_threshold: float = Field(description="margin over no answer from which a span counts as an answer, "
                                              "fitted on held-out train articles (reader alone)")
    heldout: dict = Field(default_factory=dict)
    parity: dict = Field(default_factory=dict)


@lru_cache(maxsize=1)
def card() -> ReaderCard:
    return ReaderCard.model_validate_json(CARD_FILE.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Passage:
    """A text to read and the stretch of it (characters) the window must keep when the text is too long."""

    text: str
    focus: tuple[int, int] = (0, 0)


@dataclass
class Reading:
    """What the reader found in one passage: the best span, its margin over no answer, the answerable logit,
    and the passage characters the window covered."""

    passage: int
    span: Span
    answerable: float
    chars: tuple[int, int]

    @property
    def margin(self) -> float:
        return self.span.margin


class Reader:
    """One onnxruntime session over the shipped model; thread-safe (`read` may be called from any thread)."""

    def __init__(self, model_file: Path = MODEL_FILE, threads: int | None = None) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or os.cpu_count() or 1
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")  # see embeddings.py
        options.enable_mem_pattern = False
        self.session = ort.InferenceSession(str(model_file), options, providers=["CPUExecutionProvider"])
        self.tokenizer = load_tokenizer()
        self._lock = threading.Lock()

    def window(self, question: list[int], encoding, focus: tuple[int, int], max_tokens: int,
               index: int) -> Window:
        """One window of a passage: all of it when it fits, else `room` tokens centred on the focus."""
        room = max(max_tokens - len(question) - 3, 8)
        offsets = encoding.offsets
        start = 0
        if len(offsets) > room:
            inside = [i for i, (s, e) in enumerate(offsets) if e > focus[0] and s < focus[1]] or [0]
            middle = (inside[0] + inside[-1]) // 2
            start = min(max(middle - room // 2, 0), len(offsets) - room)
        part = slice(start, start + room)
        return Window(index, [CLS, *question, SEP, *encoding.ids[part], SEP], len(question) + 2, list(offsets[part]))

    def read(self, question: str, passages: list[Passage], max_tokens: int = 160) -> list[Reading]:
        """One Reading per passage (in order); `question` as `reader_input.reader_question` makes it."""
        if not passages:
            return []
        q = question_ids(self.tokenizer, question)
        encodings = self.tokenizer.encode_batch([p.text for p in passages], add_special_tokens=False)
        windows = [self.window(q, enc, p.focus, max_tokens, i) for i, (p, enc) in enumerate(zip(passages, encodings))
                   if enc.ids]
        if not windows:
            return []
        with self._lock:
            starts, ends, answerable = self.session.run(OUTPUTS, batch(windows))
        return [Reading(w.passage, best_span(w, starts[k], ends[k]), float(answerable[k]), w.chars)
                for k, w in enumerate(windows)]


    def read_whole(self, question: str, text: str, max_tokens: int = 192) -> Reading | None:
        """The best span of a whole passage however long, read in overlapping windows (`reader_input.windows`,
        as in training): for benchmarks and checks that give the reader one paragraph, not for the answerer's
        time budget."""
        parts = windows(self.tokenizer, question, [text], max_len=max_tokens)
        if not parts:
            return None
        with self._lock:
            starts, ends, answerable = self.session.run(OUTPUTS, batch(parts))
        readings = [Reading(0, best_span(w, starts[k], ends[k]), float(answerable[k]), w.chars)
                    for k, w in enumerate(parts)]
        return max(readings, key=lambda r: r.margin)


@lru_cache(maxsize=1)
def shared_reader() -> Reader:
    """The process's reader, loaded on first use (about 0.3 s) and shared by every Assistant."""
    if not MODEL_FILE.is_file():
        raise RuntimeError(f"the reader model {MODEL_FILE} is missing: reinstall the package (it ships inside it)")
    return Reader()
