"""Disk caches of the slow model passes the answerer's fitting repeats (training/tune_answerer.py): soft coverage
(MiniLM token vectors) and the reader's readings."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks import _common as c


class PairCache:
    """A slow model's value per (question, text), kept in a JSON file between runs: a feature experiment should take
    seconds, not the minutes of a model pass over thousands of pairs. `values` runs `compute` only on the texts not
    cached yet, in one batch."""

    def __init__(self, file: Path) -> None:
        self.file = file
        self.cache = json.loads(file.read_text()) if file.is_file() else {}

    def values(self, question: str, texts: list[str], compute: Callable[[list[str]], list[float]]) -> list[float]:
        keys = [f"{question}\n{t}" for t in texts]
        todo = [(k, t) for k, t in zip(keys, texts) if k not in self.cache]
        if todo:
            self.cache.update(zip([k for k, _ in todo], compute([t for _, t in todo])))
        return [self.cache[k] for k in keys]

    def save(self) -> None:
        self.file.parent.mkdir(parents=True, exist_ok=True)
        self.file.write_text(json.dumps(self.cache))


class CachedCoverage(PairCache):
    """`soft_coverage.soft_coverage` behind a PairCache (the MiniLM pass over 6,000 question/sentence pairs takes
    minutes)."""

    def __init__(self) -> None:
        super().__init__(c.CACHE / "answerability" / "soft_coverage.json")

    def __call__(self, question: str, text: str) -> float:
        from assistant.answering.extractive.soft_coverage import soft_coverage

        return self.values(question, [text], lambda texts: [soft_coverage(question, t) for t in texts])[0]


class CachedReader:
    """The shipped reader (`assistant.answering.extractive.reader`) behind a disk cache of its readings, keyed by
    the model file's hash: refitting the decline model should not read 6,000 questions again."""

    def __init__(self) -> None:
        import hashlib
        import pickle

        from assistant.answering.extractive.reader import MODEL_FILE, shared_reader

        self.reader = shared_reader()
        model = hashlib.sha256(MODEL_FILE.read_bytes()).hexdigest()[:12]
        self.file = c.CACHE / "answerability" / f"reader-{model}.pkl"
        try:
            self.cache = pickle.loads(self.file.read_bytes()) if self.file.is_file() else {}
        except (ImportError, AttributeError, EOFError, pickle.UnpicklingError) as exc:  # written by older code
            print(f"reading again: {self.file} cannot be used ({type(exc).__name__}: {exc})")
            self.cache = {}
        self.ms: list[float] = []

    def read(self, question: str, passages: list, max_tokens: int = 160) -> list:
        key = (question, max_tokens, tuple((p.text, p.focus) for p in passages))
        if key not in self.cache:
            started = time.perf_counter()
            self.cache[key] = self.reader.read(question, passages, max_tokens)
            self.ms.append((time.perf_counter() - started) * 1000)
        return self.cache[key]

    def save(self) -> None:
        import pickle

        self.file.parent.mkdir(parents=True, exist_ok=True)
        self.file.write_bytes(pickle.dumps(self.cache))

