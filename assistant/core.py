"""`Assistant`: the Python API every surface (CLI, web UI, evaluation) goes through."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from assistant.answering.budget import encoding_for
from assistant.answering.citations import THRESHOLD as CITATION_THRESHOLD
from assistant.answering.citations import CitationChecker
from assistant.answering.extractive import answer_offline, load_weights
from assistant.answering.llm import LLMClient, LLMError, Reply, Usage, build_messages, generate, is_refusal
from assistant.answering.text import Idf
from assistant.chat import ChatSession, clean_condensed, condense_heuristic, format_history, normalize_history
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
        self._llm: LLMClient | None = None
        self._citation_checker: CitationChecker | None = None

    # --- the corpus ---------------------------------------------------------------------------------
    def ingest(self, paths: Sequence[str | Path], progress: bool = False,
               follow_symlinks: bool | None = None) -> IngestReport:
        """Index files and folders; unchanged documents cost nothing, changed ones are replaced, and documents whose
        files were deleted from an ingested folder are removed. `follow_symlinks` overrides the setting for links
        that lead outside a folder."""
        if isinstance(paths, (str, Path)):
            paths = [paths]
        return self.index.ingest(list(paths), progress=progress, follow_symlinks=follow_symlinks)

    def documents(self) -> list[DocumentInfo]:
        return self.index.documents()

    def remove(self, doc_id: str) -> None:
        self.index.remove(doc_id)

    def ensure_indexed(self, progress: bool = False) -> IngestReport | None:
        """Index the configured corpus folder on a fresh checkout: an index never written to.

        An index the user emptied on purpose (every document removed) stays empty."""
        if self.index.revision() == 0 and self.index.count() == 0 and Path(self.settings.corpus_dir).exists():
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
        return self._search(self._clean_question(question, []), top_k, **switches)[1]

    def _search(self, question: str, top_k: int | None, **switches: bool) -> tuple[np.ndarray, list[Context]]:
        """The question's vector (the offline answerer reuses it) and its retrieved paragraphs."""
        vector = self.embedder.embed([question])[0]
        return vector, retrieve(self.index, question, vector, top_k or self.settings.top_k,
                                self.settings.candidates, self.settings.rrf_k, **switches)

    def ask(self, question: str, history: Sequence[Any] | None = None, top_k: int | None = None,
            mode: str | None = None) -> Answer:
        """Answer a question (a follow-up when `history` is given), citing the paragraphs it rests on.

        `mode` ('offline' or 'llm') overrides settings.answer_mode for this question only."""
        for item in self._answer(question, history, top_k, streaming=False, mode=mode):
            if isinstance(item, Answer):
                return item
        raise RuntimeError("the answer pipeline ended without an answer")  # pragma: no cover

    def stream(self, question: str, history: Sequence[Any] | None = None, top_k: int | None = None,
               mode: str | None = None) -> Iterator[str | Answer]:
        """Yield pieces of the answer text as they are produced, then the final Answer (citations checked).

        The final Answer's text is authoritative: the check may remove markers that point nowhere, and a
        refusal replaces the model's words with the decline text. Offline, the whole text comes as one piece.
        """
        yield from self._answer(question, history, top_k, streaming=True, mode=mode)

    def chat(self, top_k: int | None = None) -> ChatSession:
        """A conversation object: `chat.ask(...)` / `chat.stream(...)` keep the history for you."""
        return ChatSession(self, top_k=top_k)

    # --- the pipeline -------------------------------------------------------------------------------
    def _llm_client(self) -> LLMClient:
        if self._llm is None:
            self._llm = LLMClient(self.settings)  # raises LLMError without a key or base URL
        return self._llm

    def _checker(self, idf: Idf) -> CitationChecker:
        if self._citation_checker is None:
            threshold = self.settings.citation_threshold
            self._citation_checker = CitationChecker(self.embedder, idf,
                                                     CITATION_THRESHOLD if threshold is None else threshold)
        self._citation_checker.idf = idf
        return self._citation_checker

    def _condense(self, question: str, turns: list, usage: Usage | None, notes: list[str]) -> tuple[str, bool]:
        """(standalone question, LLM still usable). LLM rewrite in llm mode, the heuristic otherwise."""
        fallback = condense_heuristic(question, turns)
        if usage is None:
            return fallback, False
        try:
            client = self._llm_client()
            messages = [{"role": "user", "content": render(
                self.prompts["condense"], question=question,
                history=format_history(turns, self.settings.chat_max_turns))}]
            reply = client.complete(messages, max_tokens=200)
        except LLMError as exc:
            notes.append(f"{exc} Answered offline instead.")
            return fallback, False
        usage.add(reply, messages, encoding_for(self.settings.llm_model, self.settings.llm_tokenizer))
        return clean_condensed(reply.text, fallback), True

    def _answer(self, question: str, history: Sequence[Any] | None, top_k: int | None,
                streaming: bool, mode: str | None = None) -> Iterator[str | Answer]:
        started = time.perf_counter()
        notes: list[str] = []
        question = self._clean_question(question, notes)
        mode = mode or self.settings.answer_mode
        if mode not in ("offline", "llm"):
            raise QuestionError(f"unknown answer mode {mode!r}: use 'offline' or 'llm'")
        llm_mode = mode == "llm"
        usage = Usage(self.settings.llm_model) if llm_mode else None
        turns = normalize_history(history)
        standalone, llm_ok = question, llm_mode
        if turns:
            standalone, llm_ok = self._condense(question, turns, usage, notes)
        if self.ensure_indexed():
            notes.append(f"The index was empty: indexed {self.settings.corpus_dir} first.")
        vector, contexts = self._search(standalone, top_k)
        idf = self.index.derived("idf", lambda mirror: Idf(mirror.texts))
        decline = render(self.prompts["decline"], question=standalone)
        answer: Answer | None = None
        if llm_ok:
            try:
                answer = yield from self._answer_llm(standalone, contexts, idf, decline, usage, streaming)
            except LLMError as exc:
                notes.append(f"{exc} Answered offline instead.")
        if answer is None:
            answer = answer_offline(standalone, vector, contexts, self.embedder, idf, self.settings, decline,
                                    self._weights)
            if usage is not None and usage.calls:
                answer.usage.update(usage.to_dict(self.settings))
            if streaming:
                yield answer.text
        answer.question = standalone
        answer.notes[:0] = notes
        answer.seconds = time.perf_counter() - started
        yield answer

    def _answer_llm(self, question: str, contexts: list[Context], idf: Idf, decline: str, usage: Usage,
                    streaming: bool):
        """Generator: yields text pieces, returns the checked Answer. Raises LLMError to fall back offline."""
        client = self._llm_client()
        if not contexts:  # nothing to cite: no request, no cost
            if streaming:
                yield decline
            return Answer(decline, [], True, contexts, usage.to_dict(self.settings), question, "llm")
        encoding = encoding_for(self.settings.llm_model, self.settings.llm_tokenizer)
        messages, budget = build_messages(self.prompts, question, contexts, self.settings, encoding)
        usage.extra.update(sources_in_prompt=len(budget.sources), sources_dropped=budget.dropped,
                          tokenizer=encoding.name)
        reply = Reply()
        shown = False
        for piece in generate(client, messages, self.settings.llm_max_answer_tokens, streaming, reply):
            shown = True
            yield piece
        usage.add(reply, messages, encoding)
        notes: list[str] = []
        if reply.finish_reason == "length":
            notes.append(f"The answer was cut at the {self.settings.llm_max_answer_tokens}-token limit "
                         "(llm_max_answer_tokens).")
        if is_refusal(reply.text):
            if streaming and not shown:
                yield decline
            return Answer(decline, [], True, budget.sources, usage.to_dict(self.settings), question, "llm", notes)
        if not reply.text.strip():
            raise LLMError(f"The LLM server at {client.where} returned an empty answer.")
        result = self._checker(idf).check(reply.text, budget.sources, question, self.settings.citation_policy)
        notes.extend(result.notes)
        if result.unsupported:
            if result.citations:
                why = "No citation in this answer is supported by the paragraph it cites"
            elif result.out_of_range:
                why = "None of the answer's markers points to a source"
            else:
                why = "The answer cites no source"
            notes.append(f"{why}: treat it as unsupported.")
        usage.extra.update(citations_checked=result.checked, citations_unsupported=result.failed)
        return Answer(result.text, result.citations, False, budget.sources, usage.to_dict(self.settings), question,
                      "llm", notes, unsupported=result.unsupported)
