"""Soft coverage: how much of the question the best sentence says, judged in MiniLM's contextual token vectors.

Why: the lexical coverage features count a question word as covered only when its stem appears ("returned" covers
"return", "came back" does not), and they weigh every word alike whatever its context. A question the documents
answer is usually a paraphrase of the sentence that answers it; a near-topic one (the article is indexed, the
fact is not) shares its topic words with the sentence but not the rest. Here every word piece of the question is
matched to its most similar word piece of the sentence (cosine of MiniLM's last hidden states, each in its own
context) and the matches are averaged over the question's content pieces (stop words and punctuation left out).

Measured on the answerability training data (training/tune_answerer.py, SQuAD 2.0 train questions,
cross-validated by article), as one more feature of the decline model: AUC answerable vs near-topic 0.850 ->
0.861; at 3 % of answerable questions declined, near-topic declined 28.5 % -> 32.1 %, off-corpus 79.8 % -> 84.5 %.
The same match over the answer window (the sentence and its neighbours) did a little better (0.867; 32.9 % /
86.1 %; on the dev sets near-topic 37.5 % instead of 32.5 %) but reads 2.4 times as many tokens: 26 ms against
15 ms p50 a squad2 question on this machine, where the issue allows a check 20 ms.
Other signals tried on the same data and not kept, none adding more than 0.001 AUC or 1 point of near-topic declines
on top of the window's: sentence- and window-level MiniLM cosine, the minimum match over the question's pieces, the
same match weighted by each word's IDF, over the whole paragraph, or counting the rare question words matched
below 0.5; gradient-boosted trees over all the features (no gain over the linear model).

Cost: one MiniLM pass over the sentence (the question's word pieces come from its retrieval pass when MiniLM
embeds the index: the caller hands them over as `question_tokens`): 15 ms p50 on a squad2 question here.
"""

from __future__ import annotations

import numpy as np

from assistant.text.terms import terms

QuestionTokens = tuple[np.ndarray, list[str]]  # unit vectors of a text's word pieces, and the pieces


def _content(pieces: list[str]) -> list[int]:
    """Positions of the pieces that carry content: a word's continuation ("##ing") or a non-stop-word."""
    return [i for i, piece in enumerate(pieces) if piece.startswith("##") or terms(piece)]


def soft_coverage(question: str, window: str, model=None, question_tokens: QuestionTokens | None = None) -> float:
    """Mean over the question's content word pieces of their best cosine with a word piece of `window` (0..1;
    the answerer passes its best sentence).
    `model`: anything with MiniLM's `token_vectors`; by default the process's shared MiniLM. `question_tokens`:
    the question's own, when the caller has them already (the answerer: from retrieval's pass)."""
    if not question.strip() or not window.strip():
        return 0.0
    if model is None:
        from assistant.index.embeddings import minilm

        model = minilm()
    if question_tokens is None:
        (q_vectors, q_pieces), (w_vectors, _) = model.token_vectors([question, window])
    else:
        (q_vectors, q_pieces), ((w_vectors, _),) = question_tokens, model.token_vectors([window])
    if not len(q_vectors) or not len(w_vectors):
        return 0.0
    keep = _content(q_pieces) or list(range(len(q_pieces)))
    return float((q_vectors[keep] @ w_vectors.T).max(axis=1).mean())
