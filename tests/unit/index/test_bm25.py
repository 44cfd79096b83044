"""Our BM25 (assistant/index/bm25.py) gives bm25s's scores to the bit, so retrieval did not change when it replaced
bm25s's index: the same chunks, ranked the same, for every question."""

from __future__ import annotations

from pathlib import Path

import bm25s
import numpy as np

from assistant.index.bm25 import Bm25
from assistant.index.mirror import Lexicon, _bm25_tokens
from assistant.ingest.readers import Skipped, collect

SEEDS = Path(__file__).resolve().parents[3] / "seeds"
QUESTIONS = ["Where were the airstrikes carried out?", "Who ordered the strikes on the militia?",
             "strikes strikes Syria", "How many militants were killed?", "zebra xylophone"]


def test_scores_equal_bm25s_for_every_chunk_and_question():
    texts = [p.text for d in collect([SEEDS]) if not isinstance(d, Skipped) for p in d.paragraphs]
    texts += ["", "Syria Syria Syria.", "A short one."]  # an empty chunk, a repeated word, a short chunk
    tokens = _bm25_tokens(texts)
    reference = bm25s.BM25()
    reference.index(tokens, show_progress=False)
    lexicon = Lexicon()
    ours = Bm25(lexicon.vocabulary, *lexicon._ids(tokens))  # the ids update() keeps for a document
    assert len(texts) > 20
    for question in QUESTIONS:
        query = _bm25_tokens([question])[0]
        expected = reference.get_scores(query) if any(t in reference.vocab_dict for t in query) \
            else np.zeros(len(texts), np.float32)
        got = ours.scores(query)
        assert got.dtype == np.float32 and np.array_equal(got, expected), question
    assert ours.scores(_bm25_tokens(["Syria"])[0]).argmax() == len(texts) - 2

