"""`Assistant`: the Python API every surface (CLI, web UI, evaluation) goes through."""

from __future__ import annotations

import copy
import time
from collections.abc import Iterator, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from assistant.answering.generative.budget import encoding_for, offline_usage
from assistant.answering.citations import CitationChecker, SentenceVectors, load_citation_weights
from assistant.answering.extractive.answerer import answer_offline, answer_pieces, rate
from assistant.answering.extractive.weights import AnswererWeights, load_weights
from assistant.answering.extractive.reader import shared_reader
from assistant.answering.generative.answerer import LLMError, Reply, Usage, build_messages, generate, is_refusal
from assistant.text.terms import Idf
from assistant.conversation import ChatSession, clean_condensed, condense_heuristic, format_history, normalize_history
from assistant.index.embeddings import embed_question, get_embedder
from assistant.errors import QuestionError, UnknownDocumentError
from assistant import ingest as ingestion
from assistant.index.paragraphs import ParagraphIndex
from assistant.index.store import open_store
from assistant.ingest.repair import heal
from assistant.answering.generative.llms import ChatModel, chat_model_for
from assistant.answering.generative.llms.base import Deadline
from assistant.types import Answer, Context, DocumentInfo, IngestReport, Paragraph, Question
from assistant.answering.generative.prompts import load_prompts, render
from assistant.retrieval.fusion import retrieve
from assistant.config.settings import Settings
from assistant.text.wording import shorten

ECHOED_QUESTION_CHARS = 200  # what a decline quotes of the question (all of it may be 2,000 characters)


class Assistant:
    """Ask questions about a collection of documents and get answers that cite their paragraphs.

    >>> a = Assistant()                       # settings from env / assistant.toml
    >>> a.ingest(["seeds/"]).summary()
    >>> a.ask("Where were the strikes?").text

    `llm=` takes any llama-index LLM (Anthropic, Gemini, Bedrock, native Ollama, OpenAILike...) as the answer
    model, with our prompts, token budget and citation check; it implies answer_mode='llm' unless the settings
    (or a question's `mode`) say otherwise. Without it, llm mode uses the built-in openai client.
    """

    def __init__(self, settings: Settings | None = None, llm: Any = None, **overrides: Any) -> None:
        if settings is None:
            settings = Settings.load(**overrides)
        elif overrides:
            settings = settings.model_copy(update=overrides)
        if llm is not None and "answer_mode" not in settings.model_fields_set and "answer_mode" not in overrides:
            settings = settings.model_copy(update={"answer_mode": "llm"})
        self.settings = settings
        self.llm = llm
        self.prompts = load_prompts(settings.prompts_dir)
        self.embedder = get_embedder(settings)
        store = open_store(settings, self.embedder.name)  # a damaged index says so here, with what to do
        self.index = ParagraphIndex(store, healed=heal(store, self.embedder))  # an interrupted write, repaired now
        self._chat_model: ChatModel | None = None
        self._citation_weights = load_citation_weights()
        self._sentence_vectors: SentenceVectors | None = None  # the citation check's vector cache, made when needed

    @cached_property
    def _weights(self) -> AnswererWeights:
        """The offline answerer's weights, read at the first question: an Assistant that only indexes never needs
        them, nor does training/tune_answerer.py, which builds its indexes through Assistants and writes these
        weights (a new required field could otherwise never be written)."""
        return load_weights()

    # --- the corpus ---------------------------------------------------------------------------------
    def ingest(self, paths: Sequence[str | Path], progress: bool = False,
               follow_symlinks: bool | None = None) -> IngestReport:
        """Index files and folders; unchanged documents cost nothing, changed ones are replaced, and documents whose
        files were deleted from an ingested folder are removed. `follow_symlinks` overrides the setting for links
        that lead outside a folder."""
        if isinstance(paths, (str, Path)):
            paths = [paths]
        return ingestion.ingest(self.index.store, self.embedder, self.settings, list(paths), progress,
                                follow_symlinks)

    def documents(self) -> list[DocumentInfo]:
        return self.index.documents()

    def remove(self, doc_id: str) -> None:
        ingestion.remove(self.index.store, self.embedder, self.settings, doc_id)

    def close(self) -> None:
        """Let go of the index's files, threads and connections (chromadb's System, the vectors copy) now rather
        than when the process ends: a notebook or a test that opens many Assistants would otherwise keep some
        16 file descriptors each. The Assistant (and those made by `using`) cannot be used after it."""
        self.index.close()

    def __enter__(self) -> "Assistant":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def paragraphs(self, doc_id: str, number: int, context: int = 1) -> list[Paragraph]:
        """Paragraph `number` of a document with up to `context` neighbours on each side, in reading order (what
        a reader checking a citation wants to see around it). Raises UnknownDocumentError when the document or
        the paragraph does not exist."""
        if self.index.paragraph(doc_id, number) is None:
            if not any(d.doc_id == doc_id for d in self.documents()):
                raise UnknownDocumentError(f"no indexed document has the id '{doc_id}' (see `assistant docs`)")
            raise UnknownDocumentError(f"the document '{doc_id}' has no paragraph {number}")
        context = max(context, 0)
        found = (self.index.paragraph(doc_id, n) for n in range(number - context, number + context + 1))
        return [p for p in found if p is not None]

    def using(self, llm: Any = None, **overrides: Any) -> "Assistant":
        """This assistant with some settings changed, e.g. another LLM server for one browser tab. It shares the
        index, the embedder and the weights (nothing is loaded again); its chat model is its own: `llm` (a
        llama-index LLM) or the openai client its settings describe. The overrides are validated like any
        setting."""
        other = copy.copy(self)
        other.settings = self.settings.model_copy()
        for name, value in overrides.items():
            setattr(other.settings, name, value)  # validate_assignment: a bad value raises ValidationError
        other.llm = llm
        other._chat_model = None
        return other

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
        try:
            question.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates: bytes that were not UTF-8 (a terminal, a file, argv)
            raise QuestionError("the question is not valid UTF-8 text: type it again, or fix the file's "
                                "encoding") from None
        question = " ".join(question.split())
        limit = self.settings.max_question_chars
        if len(question) > limit:
            notes.append(f"The question was {len(question):,} characters long; only its first {limit:,} were used.")
            question = question[:limit]
        return question

    def retrieve(self, question: str, top_k: int | None = None, **switches: bool) -> list[Context]:
        """The best paragraphs for a question (hybrid dense + BM25), best first."""
        return self._search(self._clean_question(question, []), top_k, **switches)[2]

    def _search(self, question: str, top_k: int | None, **switches: bool) -> tuple[np.ndarray, Any, list[Context]]:
        """The question's vector and its word pieces' vectors (both reused by the offline answerer; the second is
        None unless MiniLM embeds the index) and its retrieved paragraphs."""
        vector, tokens = embed_question(self.embedder, question)
        return vector, tokens, retrieve(self.index, question, vector, top_k or self.settings.top_k,
                                self.settings.candidates, self.settings.rrf_k, **switches)

    def ask(self, question: str, history: Sequence[Any] | None = None, top_k: int | None = None,
            mode: str | None = None) -> Answer:
        """Answer a question (a follow-up when `history` is given), citing the paragraphs it rests on.

        `mode` ('offline' or 'llm') overrides settings.answer_mode for this question only.

        `Answer.confidence` is the estimated probability that the documents answer the question, `support` its
        band ("confident", "weak", "declined") and `uncovered` the question's words the sources lack. In both
        modes they come from the same retrieval-based estimate (assistant/answering/extractive/answerability.py), which is
        cheap next to an LLM call, so they are always computed; in LLM mode they label the model's answer and the
        model's own refusal decides whether it declines."""
        for item in self._answer(question, history, top_k, streaming=False, mode=mode):
            if isinstance(item, Answer):
                return item
        raise RuntimeError("the answer pipeline ended without an answer")  # pragma: no cover

    def stream(self, question: str, history: Sequence[Any] | None = None, top_k: int | None = None,
               mode: str | None = None) -> Iterator[str | Answer]:
        """Yield pieces of the answer text as they are produced, then the final Answer (citations checked).

        The final Answer's text is authoritative: the check may remove markers that point nowhere, a refusal
        replaces the model's words with the decline text, and when an LLM stream fails partway (a stall, the
        deadline, a broken connection) no more pieces come: the final Answer is the offline answer, with a note
        saying what failed. Offline, the composed answer comes in pieces: the exact span, then each quoted sentence
        with its marker (`extractive.answer_pieces`).
        """
        yield from self._answer(question, history, top_k, streaming=True, mode=mode)

    def chat(self, top_k: int | None = None) -> ChatSession:
        """A conversation object: `chat.ask(...)` / `chat.stream(...)` keep the history for you."""
        return ChatSession(self, top_k=top_k)

    def as_retriever(self, top_k: int | None = None):
        """A llama-index BaseRetriever over this index (hybrid retrieval; nodes carry doc_id, title, paragraph,
        page): for llama-index query engines, node postprocessors, rerankers and agents."""
        from assistant.llamaindex import AssistantRetriever

        return AssistantRetriever(self, top_k)

    def as_query_engine(self, top_k: int | None = None, mode: str | None = None):
        """A llama-index query engine: the response text is our answer, its source_nodes our checked citations."""
        from assistant.llamaindex import AssistantQueryEngine

        return AssistantQueryEngine(assistant=self, top_k=top_k, mode=mode)

    # --- the pipeline -------------------------------------------------------------------------------
    def chat_model(self) -> ChatModel:
        """The model llm mode answers with: the `llm=` given, else the openai client the settings describe.
        Raises LLMError (with what to set) when neither is configured."""
        if self._chat_model is None:
            self._chat_model = chat_model_for(self.settings, self.llm)
        return self._chat_model

    def _checker(self, idf: Idf) -> CitationChecker:
        """This question's citation checker: its index's IDF table, the shared sentence-vector cache."""
        if self._sentence_vectors is None:
            self._sentence_vectors = SentenceVectors(self.embedder)
        return CitationChecker(self._sentence_vectors, idf, self._citation_weights, self.settings.citation_threshold)

    def _condense(self, question: str, turns: list, chat: ChatModel | None, usage: Usage | None, deadline: Deadline,
                  notes: list[str]) -> tuple[Question, bool]:
        """(standalone question, LLM still usable). LLM rewrite in llm mode, the heuristic otherwise."""
        fallback = condense_heuristic(question, turns)
        if chat is None or usage is None:
            return fallback, False
        messages = [{"role": "user", "content": render(
            self.prompts["condense"], question=question, history=format_history(turns, self.settings.chat_max_turns))}]
        try:
            reply = chat.complete(messages, 200, deadline.at())
        except LLMError as exc:
            notes.append(f"{exc} Answered offline instead.")
            return fallback, False
        usage.add(reply, messages, encoding_for(chat.name, self.settings.llm_tokenizer))
        return clean_condensed(reply.text, fallback), True

    def _answer(self, question: str, history: Sequence[Any] | None, top_k: int | None,
                streaming: bool, mode: str | None = None) -> Iterator[str | Answer]:
        started = time.perf_counter()
        notes: list[str] = []
        question = self._clean_question(question, notes)
        mode = mode or self.settings.answer_mode
        if mode not in ("offline", "llm"):
            raise QuestionError(f"unknown answer mode {mode!r}: use 'offline' or 'llm'")
        if self.ensure_indexed():
            notes.append(f"The index was empty: indexed {self.settings.corpus_dir} first.")
        chat: ChatModel | None = None
        if mode == "llm":
            try:
                chat = self.chat_model()
            except LLMError as exc:
                notes.append(f"{exc} Answered offline instead.")
        usage = Usage(chat.name) if chat else None
        deadline = Deadline(self.settings.llm_deadline_seconds)  # the rule: assistant/answering/generative/llms/base.py
        turns = normalize_history(history)
        standalone, llm_ok = Question(asked=question), chat is not None
        if turns:
            standalone, llm_ok = self._condense(question, turns, chat, usage, deadline, notes)
        vector, tokens, contexts = self._search(standalone.text, top_k)
        idf = self.index.derived("idf", lambda mirror: self.index.lexicon(mirror).idf())
        decline = render(self.prompts["decline"], question=shorten(standalone.text, ECHOED_QUESTION_CHARS))
        answer: Answer | None = None
        shown: list[str] = []  # LLM text already handed to the caller
        if llm_ok:
            try:
                answer = yield from self._answer_llm(chat, standalone.text, contexts, idf, decline, usage, streaming,
                                                     deadline, shown)
            except LLMError as exc:
                notes.append(f"{exc} Answered offline instead.")
            else:  # the offline estimate labels the LLM's answer (a few ms; the model's refusal stands)
                rate(answer, standalone, vector, contexts, idf, self.settings, self._weights, shared_reader(),
                     question_tokens=tokens)
        if answer is None:
            answer = answer_offline(standalone, vector, contexts, self.embedder, idf, self.settings, decline,
                                    self._weights, shared_reader(), question_tokens=tokens)
            if usage is not None and usage.calls:  # the LLM's own requests (a condensed follow-up) are what it cost
                answer.usage.update(usage.to_dict(self.settings))
            else:
                answer.usage = offline_usage(standalone.text, contexts, answer.text, self.settings.llm_tokenizer)
            if streaming and not shown:  # after part of an LLM stream, the final Answer replaces it (see stream())
                yield from answer_pieces(answer.text)
        answer.question, answer.standalone = standalone.text, standalone
        answer.notes[:0] = notes
        answer.seconds = time.perf_counter() - started
        yield answer

    def _answer_llm(self, chat: ChatModel, question: str, contexts: list[Context], idf: Idf, decline: str,
                    usage: Usage, streaming: bool, deadline: Deadline, shown: list[str]):
        """Generator: yields text pieces (also kept in `shown`), returns the checked Answer. Raises LLMError to
        fall back offline."""
        if not contexts:  # nothing to cite: no request, no cost
            if streaming:
                yield decline
            return Answer(text=decline, refused=True, contexts=contexts, usage=usage.to_dict(self.settings),
                          question=question, mode="llm")
        encoding = encoding_for(chat.name, self.settings.llm_tokenizer)
        messages, budget = build_messages(self.prompts, question, contexts, self.settings, encoding)
        usage.extra.update(sources_in_prompt=len(budget.sources), sources_dropped=budget.dropped,
                          tokenizer=encoding.name)
        reply = Reply()
        for piece in generate(chat, messages, self.settings.llm_max_answer_tokens, streaming, reply,
                              deadline.at()):
            shown.append(piece)
            yield piece
        usage.add(reply, messages, encoding)
        notes: list[str] = []
        if reply.finish_reason == "length":
            notes.append(f"The answer was cut at the {self.settings.llm_max_answer_tokens}-token limit "
                         "(llm_max_answer_tokens).")
        if is_refusal(reply.text):
            if streaming and not shown:
                yield decline
            return Answer(text=decline, refused=True, contexts=budget.sources, usage=usage.to_dict(self.settings),
                          question=question, mode="llm", notes=notes)
        if not reply.text.strip():
            raise LLMError(f"The LLM ({chat.where}) returned an empty answer.")
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
        return Answer(text=result.text, citations=result.citations, refused=False, contexts=budget.sources,
                      usage=usage.to_dict(self.settings), question=question, mode="llm", notes=notes,
                      unsupported=result.unsupported, unsupported_sentences=result.unsupported_sentences)
