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
  (capitalised words) and numbers ("in 1897", "the 3rd") missing from the paragraph: a paragraph that says it of
  another person or another year is not about what was asked (SQuAD's adversarial questions swap exactly these);
- soft coverage: the question's word pieces matched to the best sentence's in MiniLM's contextual vectors
  (`soft_coverage.py`), which sees paraphrase where the stems above see only identical words;
- answer type: the question asks for a kind of phrase (a number, money, a date, a name) the window lacks; a count
  or a role whose number or name is not bound to the asked thing; a date or an amount of money asked for and
  none given (`question_types.py`); a negation the text lacks;

The model and its calibration are fitted by training/tune_answerer.py on SQuAD 2.0 *train* questions and the
negatives generated from them (training/answerability_data.py: the gold paragraph hidden, another corpus, and
SQuAD's adversarial questions). `confidence` is calibrated (Platt scaling on cross-validated scores), with
answerable and unanswerable questions weighted equally: read it as the probability for a question that is a
priori as likely to be answerable as not. The thresholds between "declined", "weak" and "confident" are fitted
operating points stored with the weights; settings.decline_threshold / confident_threshold override them.

Some checks are necessary rather than merely telling (`question_types.failed_checks`): no text answers "how many
militants were killed?" without a number that counts militants, nor a question about a cost without an amount of
money, nor "when?" without a date. When one fails the answerer declines, and the confidence shown is at most
`check_confidence`: the share of train questions failing a check that the documents did answer (answerable and
unanswerable weighted equally; a check's regular expressions miss some ways of writing a number or a date).
"""

from __future__ import annotations

import math
import re

from assistant.answering.extractive.question_types import (count_bound, failed_checks, has_type, lacks_date, lacks_money,
                                              question_type, role_bound)
from assistant.answering.extractive.soft_coverage import soft_coverage
from assistant.text.terms import Idf, terms, words
from assistant.text.wording import shorten

FEATURES = ["score", "margin", "dense_paragraph", "cover_sentence", "cover_window", "cover_paragraph", "bigram",
            "type_miss", "missing_max", "missing_max_window", "missing_rare_window", "cover_retrieved",
            "name_miss", "number_miss", "count_unbound", "role_unbound", "date_miss", "money_miss", "negation_miss",
            "dense_top", "soft_coverage"]
NAMED_MAX, NAMED_CHARS = 6, 60  # what a support note names of the uncovered words: it stays one line
RARE = 0.5  # a question term is rare when its IDF is at least this share of the largest IDF possible
_NEGATION = re.compile(r"\b(not|never|no|none|neither|nor|without|cannot|n't|didn't|doesn't|don't|isn't|wasn't|"
                       r"weren't|aren't|won't|couldn't|wouldn't|hasn't|haven't|hadn't|fail|failed|refused|unable)\b",
                       re.IGNORECASE)
_CAPITALISED = re.compile(r"\b[A-Z][\w'’\-]*")
_NUMBER = re.compile(r"\b\d[\d,.]*\b")
# words that name the kind of answer asked for, not something the sources must mention
ANSWER_WORDS = set(terms("year years date day month time century decade name names number amount percent "
                         "percentage kind type sort"))


def _top_idf(idf: Idf) -> float:
    return math.log(1 + (idf.n + 1) / 0.5)


def _missing_max(q_unique: set[str], present: set[str], idf: Idf) -> float:
    """The IDF of the rarest question term absent from `present`, relative to the rarest possible term."""
    missing = [idf(t) for t in q_unique if t not in present]
    return max(missing) / _top_idf(idf) if missing else 0.0


def window_text(ranked: list) -> str:
    """The best sentence with its neighbours in its paragraph (what an answer's context is)."""
    best = ranked[0]
    return " ".join(best.context.text[c.start:c.end] for c in ranked if c.context is best.context
                    and abs(c.position - best.position) <= 1) or best.text


def checks_failed(asked: str, ranked: list, kept: list[str] | None = None) -> list[str]:
    """The necessary answer-type checks (`question_types.failed_checks`) the quoted sentence and its window fail,
    of those `kept` (all when None)."""
    failed = failed_checks(asked, ranked[0].text, window_text(ranked)) if ranked else []
    return failed if kept is None else [f for f in failed if f in kept]


def question_features(question: str, ranked: list, contexts: list, idf: Idf, q_weights: dict[str, float],
                      asked: str, coverage=soft_coverage) -> dict[str, float]:
    """The model's inputs. `q_weights`: the question's stemmed terms with their weights (a follow-up's carried
    context counts less); `asked`: the words the user typed in this turn (a follow-up's own part); `coverage`:
    (question, sentence) -> soft coverage (benchmarks pass a cached one); None skips its MiniLM pass (a model
    fitted without it)."""
    best = ranked[0]
    q_unique = set(q_weights)
    para_terms = set(terms(best.context.text))
    retrieved = set().union(*(set(terms(c.text)) for c in contexts)) if contexts else set()
    window = window_text(ranked)
    total = sum(w * idf(t) for t, w in q_weights.items()) or 1.0
    names = set(terms(" ".join(m.group(0) for m in _CAPITALISED.finditer(asked) if m.start() > 0)))
    numbers = {m.group(0).rstrip(".,") for m in _NUMBER.finditer(asked)}
    kind = question_type(asked)
    return {
        **{f: best.features.get(f, 0.0) for f in ("dense_paragraph", "cover_sentence", "cover_window",
                                                   "cover_paragraph", "bigram")},
        "score": best.score,
        "margin": min(best.score - ranked[1].score, 5.0) if len(ranked) > 1 else 5.0,
        "type_miss": float(kind is not None and not has_type(window, kind, set(words(question)))),
        "missing_max": _missing_max(q_unique, para_terms, idf),
        "missing_max_window": _missing_max(q_unique, best.window_terms, idf),
        "missing_rare_window": min(sum(idf(t) / _top_idf(idf) >= RARE for t in q_unique
                                       if t not in best.window_terms), 4) / 4,
        "cover_retrieved": sum(w * idf(t) for t, w in q_weights.items() if t in retrieved) / total,
        "name_miss": len(names - para_terms) / len(names) if names else 0.0,
        "number_miss": (sum(n not in best.context.text for n in numbers) / len(numbers)) if numbers else 0.0,
        "count_unbound": float(count_bound(asked, best.text) is False),
        "role_unbound": float(role_bound(asked, best.text) is False),
        "date_miss": float(lacks_date(asked, window)),
        "money_miss": float(lacks_money(asked, window)),
        "negation_miss": float(bool(_NEGATION.search(asked)) and not _NEGATION.search(window)),
        "dense_top": max((c.dense for c in contexts if c.dense is not None), default=0.0),
        "soft_coverage": coverage(question, best.text) if coverage is not None else 0.0,
    }


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
    named = ", ".join(f"“{shorten(m, NAMED_CHARS)}”" for m in missing[:NAMED_MAX])
    named += ", …" if len(missing) > NAMED_MAX else ""
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
