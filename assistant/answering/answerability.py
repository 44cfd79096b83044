"""Do the documents answer the question? A calibrated probability, the support band, and what is not covered.

Why this is its own step: the sentence ranker always finds a best sentence, even for a question the documents
cannot answer ("How many militants were killed?" against an article that gives no count). Quoting it with a
citation would look like evidence. So after ranking, a logistic model over question-level features estimates
P(the documents answer the question) and the answerer declines below a threshold.

Features (from the best sentence, its paragraph and the retrieved paragraphs; `FEATURES` lists them):
- the best sentence's ranking score, its margin over the next one, and its coverage features (how much of the
  question's IDF weight its sentence, window and paragraph hold); dense similarity of the best paragraph;
- the rarest question term missing from the paragraph / the window; how many rare terms the window lacks; the
  share of the question's IDF weight found anywhere in the retrieved paragraphs; a question's names
  (capitalised words) missing from the paragraph;
- answer type: the question asks for a kind of phrase (a number, money, a date, a name) the best sentence lacks,
  or a count whose number is not bound to the counted thing (`answer_types.bound_type`); a negation the text lacks;
- optionally the logit of a fine-tuned cross-encoder (`assistant/data/answerability.int8.onnx`, all-MiniLM-L6-v2
  fine-tuned to judge a question against the paragraph the answer would quote; ~15 ms a question).

The model and its calibration are fitted by benchmarks/tune_answerer.py on SQuAD 2.0 *train* questions and the
negatives generated from them (benchmarks/answerability_data.py: the gold paragraph hidden, another corpus, and
SQuAD's adversarial questions). `confidence` is calibrated (Platt scaling on cross-validated scores), with
answerable and unanswerable questions weighted equally: read it as the probability for a question that is a
priori as likely to be answerable as not. The thresholds between "declined", "weak" and "confident" are fitted
operating points stored with the weights; settings.decline_threshold / confident_threshold override them.
"""

from __future__ import annotations

import math
import re
import threading
from pathlib import Path

from assistant.answering.answer_types import bound_type, has_type, question_type
from assistant.answering.text import Idf, terms, words

DATA = Path(__file__).resolve().parents[1] / "data"
FEATURES = ["score", "margin", "dense_paragraph", "cover_sentence", "cover_window", "cover_paragraph", "bigram",
            "type_miss", "missing_max", "missing_max_window", "missing_rare_window", "cover_retrieved",
            "name_miss", "unbound", "negation_miss", "dense_top"]
RARE = 0.5  # a question term is rare when its IDF is at least this share of the largest IDF possible
_NEGATION = re.compile(r"\b(not|never|no|none|neither|nor|without|cannot|n't|didn't|doesn't|don't|isn't|wasn't|"
                       r"weren't|aren't|won't|couldn't|wouldn't|hasn't|haven't|hadn't|fail|failed|refused|unable)\b",
                       re.IGNORECASE)
_CAPITALISED = re.compile(r"\b[A-Z][\w'’\-]*")
# words that name the kind of answer asked for, not something the sources must mention
ANSWER_WORDS = set(terms("year years date day month time century decade name names number amount percent "
                         "percentage kind type sort"))


def _top_idf(idf: Idf) -> float:
    return math.log(1 + (idf.n + 1) / 0.5)


def _missing_max(q_unique: set[str], present: set[str], idf: Idf) -> float:
    """The IDF of the rarest question term absent from `present`, relative to the rarest possible term."""
    missing = [idf(t) for t in q_unique if t not in present]
    return max(missing) / _top_idf(idf) if missing else 0.0


def question_features(question: str, ranked: list, contexts: list, idf: Idf, q_weights: dict[str, float],
                      asked: str) -> dict[str, float]:
    """The model's inputs. `q_weights`: the question's stemmed terms with their weights (a follow-up's carried
    context counts less); `asked`: the words the user typed in this turn (a follow-up's own part)."""
    best = ranked[0]
    q_unique = set(q_weights)
    para_terms = set(terms(best.context.text))
    retrieved = set().union(*(set(terms(c.text)) for c in contexts)) if contexts else set()
    window_text = " ".join(best.context.text[c.start:c.end] for c in ranked if c.context is best.context
                           and abs(c.position - best.position) <= 1) or best.text
    total = sum(w * idf(t) for t, w in q_weights.items()) or 1.0
    names = set(terms(" ".join(m.group(0) for m in _CAPITALISED.finditer(asked) if m.start() > 0)))
    bound = bound_type(asked, best.text)
    kind = question_type(asked)
    return {
        **{f: best.features.get(f, 0.0) for f in ("dense_paragraph", "cover_sentence", "cover_window",
                                                   "cover_paragraph", "bigram")},
        "score": best.score,
        "margin": min(best.score - ranked[1].score, 5.0) if len(ranked) > 1 else 5.0,
        "type_miss": float(kind is not None and not has_type(window_text, kind, set(words(question)))),
        "missing_max": _missing_max(q_unique, para_terms, idf),
        "missing_max_window": _missing_max(q_unique, best.window_terms, idf),
        "missing_rare_window": min(sum(idf(t) / _top_idf(idf) >= RARE for t in q_unique
                                       if t not in best.window_terms), 4) / 4,
        "cover_retrieved": sum(w * idf(t) for t, w in q_weights.items() if t in retrieved) / total,
        "name_miss": len(names - para_terms) / len(names) if names else 0.0,
        "unbound": float(bound is False),
        "negation_miss": float(bool(_NEGATION.search(asked)) and not _NEGATION.search(window_text)),
        "dense_top": max((c.dense for c in contexts if c.dense is not None), default=0.0),
    }


def probability(features: dict[str, float], model: dict) -> float:
    """The calibrated P(the documents answer the question) from the fitted linear score."""
    z = model.get("bias", 0.0) + sum(w * features.get(f, 0.0) for f, w in model["weights"].items())
    scale, shift = model.get("calibration", (1.0, 0.0))
    z = scale * z + shift
    return 1.0 / (1.0 + math.exp(-max(min(z, 50.0), -50.0)))


def support(confidence: float | None, refused: bool, confident_threshold: float) -> str:
    """'declined', 'weak' (answered, but below the confident threshold) or 'confident'."""
    if refused:
        return "declined"
    if confidence is not None and confidence < confident_threshold:
        return "weak"
    return "confident"


def support_note(support_band: str, confidence: float | None, missing: list[str]) -> str:
    """The words a user sees beside an answer: how far the sources carry it, and what they do not cover."""
    share = f"confidence {confidence:.0%}" if confidence is not None else "confidence not estimated"
    named = ", ".join(f"“{m}”" for m in missing)
    if support_band == "weak":
        gap = (f"the cited passages do not mention {named}" if missing
               else "the cited passages may not answer every part of the question")
        return f"Weakly supported ({share}): {gap}."
    if support_band == "declined":
        return f"Not answered ({share})" + (f": the documents do not mention {named}." if missing else ".")
    return f"Supported by the cited passages ({share})."


def uncovered(asked: str, texts: list[str]) -> list[str]:
    """The content words of the question (as the user wrote them; adjacent ones joined into one phrase) that
    none of `texts` contains. What a "weakly supported" label names: "the sources do not mention: killed"."""
    present = set().union(*(set(terms(t)) for t in texts)) if texts else set()
    present |= ANSWER_WORDS  # "In which year ...": the answer (1987) stands for the word
    phrases: list[str] = []
    run: list[str] = []
    for token in re.findall(r"[A-Za-z0-9][A-Za-z0-9'’\-]*|[^\sA-Za-z0-9]", asked):
        term = terms(token)
        if term and term[0] not in present:
            run.append(token)
        elif run:  # a covered word, a stop word or punctuation ends the phrase
            phrases.append(" ".join(run))
            run = []
    if run:
        phrases.append(" ".join(run))
    return list(dict.fromkeys(phrases))


class CrossEncoder:
    """The shipped answerability cross-encoder on onnxruntime, with MiniLM's own tokenizer (pair encoding).

    Loaded on first use (one ~23 MB session shared by all threads); `available()` is False when the model file
    is not installed, and the answerer then uses the features-only model."""

    MAX_TOKENS = 256

    def __init__(self, path: Path) -> None:
        self.path = path
        self._session = None
        self._tokenizer = None
        self._lock = threading.Lock()

    def available(self) -> bool:
        return self.path.is_file()

    def _load(self) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        from assistant.embeddings import _tokenizer_path

        tokenizer = Tokenizer.from_file(str(_tokenizer_path()))
        tokenizer.no_padding()
        tokenizer.enable_truncation(self.MAX_TOKENS, strategy="only_second")
        options = ort.SessionOptions()
        options.intra_op_num_threads, options.inter_op_num_threads = 2, 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")  # see embeddings.py
        self._session = ort.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])
        self._tokenizer = tokenizer

    def logits(self, question: str, paragraphs: list[str]) -> list[float]:
        """The model's logit ("the paragraph answers the question") for each paragraph, in one batch."""
        import numpy as np

        with self._lock:
            if self._session is None:
                self._load()
            encodings = self._tokenizer.encode_batch([(question, p) for p in paragraphs])
        width = max(len(e.ids) for e in encodings)
        feed = {name: np.zeros((len(encodings), width), np.int64)
                for name in ("input_ids", "attention_mask", "token_type_ids")}
        for row, e in enumerate(encodings):
            n = len(e.ids)
            feed["input_ids"][row, :n], feed["token_type_ids"][row, :n] = e.ids, e.type_ids
            feed["attention_mask"][row, :n] = 1
        return [float(v) for v in self._session.run(None, feed)[0].ravel()]

    def logit(self, question: str, paragraph: str) -> float:
        return self.logits(question, [paragraph])[0]


_CROSS_ENCODERS: dict[Path, CrossEncoder] = {}
_CROSS_LOCK = threading.Lock()


def cross_encoder(file_name: str) -> CrossEncoder:
    """One shared CrossEncoder per model file in assistant/data/."""
    path = DATA / file_name
    with _CROSS_LOCK:
        return _CROSS_ENCODERS.setdefault(path, CrossEncoder(path))
