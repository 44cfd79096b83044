"""`Assistant`: the Python API every surface (CLI, web UI, evaluation) goes through."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from assistant.answering.extractive import answer_offline, load_weights
from assistant.answering.text import Idf
from assistant.embeddings import get_embedder
from assistant.errors import QuestionError
from assistant.index import ParagraphIndex
from assistant.models import Answer, Context, DocumentInfo, IngestReport
from assistant.prompts import load_prompts, render
from assistant.retrieval import retrieve
from assistant.settings import Settings


class Assistant:
    """Ask questions about a collection of documents and get answers that cite their paragraphs.

    >>> a = Assistant()                       # settings from env / assistant.toml
    >>> a.ingest(["seeds/"]).summary()
    >>> a.ask("Where were the strikes?").text
    """

    def __init__(self, settings: Settings | None = None, **overrides: Any) -> None:
        if settings is None:
            settings = Settings.load(**overrides)
        elif overrides:
            settings = settings.model_copy(update=overrides)
        self.settings = settings
        self.prompts = load_prompts(settings.prompts_dir)
        self.embedder = get_embedder(settings)
        self.index = ParagraphIndex(settings, self.embedder)
        self._weights = load_weights()

    # --- the corpus ---------------------------------------------------------------------------------
    def ingest(self, paths: Sequence[str | Path], progress: bool = False) -> IngestReport:
        """Index files and folders; unchanged documents cost nothing, changed ones are replaced."""
        if isinstance(paths, (str, Path)):
            paths = [paths]
        return self.index.ingest(list(paths), progress=progress)

    def documents(self) -> list[DocumentInfo]:
        return self.index.documents()

    def remove(self, doc_id: str) -> None:
        self.index.remove(doc_id)

    def ensure_indexed(self, progress: bool = False) -> IngestReport | None:
        """Index the configured corpus folder when the index is empty (a fresh checkout)."""
        if self.index.count() == 0 and Path(self.settings.corpus_dir).exists():
            return self.ingest([self.settings.corpus_dir], progress=progress)
        return None

    # --- questions ----------------------------------------------------------------------------------
    def _clean_question(self, question: str, notes: list[str]) -> str:
        if not isinstance(question, str) or not question.strip():
            raise QuestionError("the question is empty: type a question about the documents")
        question = " ".join(question.split())
        limit = self.settings.max_question_chars
        if len(question) > limit:
            notes.append(f"The question was {len(question):,} characters long; only its first {limit:,} were used.")
            question = question[:limit]
        return question

    def retrieve(self, question: str, top_k: int | None = None, **switches: bool) -> list[Context]:
        """The best paragraphs for a question (hybrid dense + BM25), best first."""
        question = self._clean_question(question, [])
        vector = self.embedder.embed([question])[0]
        return retrieve(self.index, question, vector, top_k or self.settings.top_k, self.settings.candidates,
                        self.settings.rrf_k, **switches)

    def ask(self, question: str, history: Sequence[Any] | None = None, top_k: int | None = None) -> Answer:
        started = time.perf_counter()
        notes: list[str] = []
        question = self._clean_question(question, notes)
        if self.ensure_indexed():
            notes.append(f"The index was empty: indexed {self.settings.corpus_dir} first.")
        vector = self.embedder.embed([question])[0]
        contexts = retrieve(self.index, question, vector, top_k or self.settings.top_k, self.settings.candidates,
                            self.settings.rrf_k)
        idf = self.index.derived("idf", lambda mirror: Idf(mirror.texts))
        decline = render(self.prompts["decline"], question=question)
        answer = answer_offline(question, vector, contexts, self.embedder, idf, self.settings, decline,
                                self._weights)
        answer.notes[:0] = notes
        answer.seconds = time.perf_counter() - started
        return answer

    def stream(self, question: str, history: Sequence[Any] | None = None,
               top_k: int | None = None) -> Iterator[str | Answer]:
        """Yield pieces of the answer text as they are produced, then the final Answer (citations checked)."""
        answer = self.ask(question, history=history, top_k=top_k)
        yield answer.text
        yield answer
