"""Fit the offline answerer on SQuAD 2.0 train questions and write assistant/data/answerer.json.

    python training/tune_answerer.py [--target-declined 0.03] [--passages 4] [--max-tokens 160] [--dry-run]

Data: ../shared/datasets/squad2_train.qa.jsonl and what training/answerability_data.py generates from it
(answerable questions; the same with the gold paragraph hidden; asked against other corpora; SQuAD's adversarial
ones). The dev sets (squad2_dev, news_dev) are never read here: benchmarks/declines.py reports on them. The reader
(assistant/data/reader.onnx) was trained on other SQuAD train articles (training/, assistant/data/reader.md).
Everything goes through the answerer's own code (`assistant.answering.extractive.answerer`, `.answerability`, `.spans`).
Here: the ranking, span and composition fits and the run; the follow-up conversations and their weight in
`follow_ups.py`; the decline model, its necessary checks and its
reports in `decline_model.py`; the numpy models in `fitting.py`; the disk caches of the slow passes in
`model_caches.py`.

1. ranking: listwise softmax over the quotable sentences of the 5 retrieved paragraphs, lexical features only
   (no sentence is embedded: earlier runs embedding the best 3-8 sentences moved the composed answers by nothing
   measurable and cost 30-110 ms a question). A positive is a sentence of a gold paragraph holding a gold answer.
   follow-ups: how much a follow-up's carried terms count (`context_weight`), on conversations made from pairs of
   train questions about one paragraph (`follow_ups`): the weight that best puts the second question's answer
   in the first quoted sentence, from its gold paragraph.
2. reading: the reader reads the top `--passages` paragraphs (windows of `--max-tokens`, centred on each one's
   best sentence); the sentence holding its best span is quoted first (`extractive.read_and_rank`). Spans of
   different passages compete on their margin plus `sentence_weight` times their sentence's lexical score
   (`spans.best`): the weight in `SENTENCE_WEIGHTS` with the best span F1 plus span-in-gold-paragraph rate on
   train answerable questions (not for follow-ups: `choose_sentence_weight` says why). The decline model reads the
   margin of the span the answer gives.
   `--compare-rules` reports the answers with the span chosen by margin, by margin plus answerable logit, and
   without the reader.
3. compose: which further sentences an answer quotes (`extractive.choose`). A grid over the score margins and
   the new question coverage another paragraph's sentence must bring; the choice maximises citation precision
   plus gold-paragraph citation rate among the settings within one point of the best answer-present rate
   (train answerable questions).
4. answerability (`answerability.FEATURES` + `extractive.READING_FEATURES`: the reader's margins and answerable
   logits, whether its sentence is the lexical ranker's best and how far below that it scores):
   L2-regularised logistic regression, stacked over the lexical features and the reader's. Answerable questions
   weigh as much as the unanswerable ones, shared among the groups of negatives (near-topic, adversarial,
   off-corpus on Wikipedia, off-corpus on news at three times the others: `GROUP_WEIGHT`). Cross-validated by article (8 folds); Platt scaling on the cross-validated scores makes the output a
   calibrated probability (`confidence`). The decline threshold is the confidence below which
   `--target-declined` of the answerable train questions fall (cross-validated). The confident threshold is 0.5
   or the decline threshold if higher: below it, more likely than not, the documents do not answer.
5. necessary checks (`question_types.failed_checks`: a count, an amount of money, a date asked for and none given):
   each set of them, and a reader margin above which they give up their veto (when the reader's span holds what
   the check looks for: a number for a count), is tried; a check keeps its power to decline only when, at the
   same share of answerable questions declined, it declines more negatives than fewer checks do (mean over the
   kinds, cross-validated; ties go to fewer checks) (`choose_checks`). When one fails the confidence is capped at
   the share of such examples that are answerable (`check_confidence`).
6. `reader_no_answer`: the reader margin under which 3 % of answerable questions' gold paragraphs fall; LLM mode
   labels an answer weakly supported when the reader finds less than that in every paragraph it cites.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

if __package__ in (None, ""):  # `python training/tune_answerer.py` from anywhere: the checkout's root first
    import sys

    sys.path[:0] = [str(Path(__file__).resolve().parents[1])]
from benchmarks import _common as c  # noqa: E402  (datasets, cached indexes, tables: shared with benchmarks/)
from training import answerability_data as data  # noqa: E402
from training.decline_model import (  # noqa: E402
    check_candidates,
    check_confidence,
    choose_checks,
    fit_answerability,
    kind_mask,
    reader_no_answer,
    still_failed,
    weight_groups,
)
from training.fitting import listwise_model  # noqa: E402
from training.follow_ups import choose_context_weight, follow_ups  # noqa: E402
from training.model_caches import CachedCoverage, CachedReader  # noqa: E402

WEIGHTS_OUT = c.ROOT / "assistant" / "data" / "answerer.json"
COMPOSE_GRID = {"keep_within": [0.0, 0.5, 1.0, 2.0, 3.0], "other_paragraph_within": [0.0, 0.5, 1.0, 2.0, 3.0],
                "min_new_coverage": [0.0, 0.1, 0.2, 0.3], "span_other_paragraphs": [1, 0]}


# --- the answerer's own code on every example -------------------------------------------------------------
def positives(example, cands) -> np.ndarray:
    from assistant.evaluation.metrics import answer_match

    return np.array([(cd.context.doc_id, cd.context.paragraph) in example.gold and answer_match(cd.text, example.answers)
                     for cd in cands], dtype=bool)


def fit_ranking(examples) -> dict[str, float]:
    from assistant.answering.extractive.ranking import (
        LEXICAL,
        QuestionTerms,
        lexical_candidates,
    )
    from assistant.types import Question

    groups = []
    for e in examples:
        if e.kind != "answerable":
            continue
        question = QuestionTerms.of(Question(asked=e.question), context_weight=0.5)  # carries nothing: no effect
        cands = lexical_candidates(question, e.contexts, data.idf_for(e.corpus))
        pos = positives(e, cands)
        if pos.any():
            groups.append((np.array([[cd.features[n] for n in LEXICAL] for cd in cands]), pos))
    return listwise_model(groups, LEXICAL)


def ranking_weights(weights: dict, **changes):
    """The part of the weights being fitted that ranking and reading use, typed as the answerer takes it."""
    from assistant.answering.extractive.weights import RankingWeights

    fields = {k: weights[k] for k in RankingWeights.model_fields if k in weights}
    return RankingWeights.model_validate({**fields, **changes})


def simulate(examples, weights, reader=None, soft=True) -> list[dict]:
    """Per example, as the answerer has them: the parsed question, the sentences in the order an answer quotes
    them (`ranked`: the reader's sentence first) and by lexical score (`lexical`), the readings, the winning span
    and the decline model's features."""
    from assistant.answering.extractive.answerer import read_and_rank, reading_features
    from assistant.answering.extractive.ranking import QuestionTerms
    from assistant.types import Question

    coverage = CachedCoverage() if soft else None
    typed = ranking_weights(weights)
    rows = []
    for e in examples:
        idf = data.idf_for(e.corpus)
        q = QuestionTerms.of(Question(asked=e.question), typed.context_weight)
        read = read_and_rank(q, e.vector, e.contexts, None, idf, typed, reader)
        features = reading_features(q, read.quoted, e.contexts, idf, read, coverage) if read.ranked else None
        rows.append({"q": q, "ranked": read.quoted, "lexical": read.ranked, "features": features, "idf": idf,
                     "readings": read.readings, "found": read.found, "spanned": read.carrier is not None})
    if soft:
        coverage.save()
    if reader is not None:
        reader.save()
    return rows


def answer_quality(examples, rows, compose: dict, max_sentences: int, declined=None) -> dict[str, float]:
    """On answerable examples (a declined one counts as neither cited nor present): gold paragraph cited, gold
    answer present, citation precision over the answered ones, sentences per answer."""
    from assistant.answering.extractive.answerer import choose
    from assistant.answering.extractive.weights import ComposeOptions
    from assistant.evaluation.metrics import answer_match

    compose = ComposeOptions.model_validate({"span_other_paragraphs": 1.0, **compose})
    cited, present, precision, sentences, n = [], [], [], [], 0
    for i, (e, row) in enumerate(zip(examples, rows)):
        if e.kind != "answerable":
            continue
        n += 1
        if (declined is not None and declined[i]) or not row["ranked"]:
            cited.append(False)
            present.append(False)
            continue
        chosen = choose(row["ranked"], row["q"], row["idf"], max_sentences, compose, spanned=row["spanned"])
        keys = {(cd.context.doc_id, cd.context.paragraph) for cd in chosen}
        cited.append(bool(keys & e.gold))
        present.append(answer_match(" ".join(cd.text for cd in chosen), e.answers))
        precision.append(len(keys & e.gold) / len(keys))
        sentences.append(len(chosen))
    return {"gold_cited": round(float(np.mean(cited)), 4), "answer_present": round(float(np.mean(present)), 4),
            "citation_precision": round(float(np.mean(precision)), 4),
            "sentences": round(float(np.mean(sentences)), 3)}


def choose_compose(examples, rows, max_sentences: int) -> tuple[dict, dict]:
    grid = [dict(zip(COMPOSE_GRID, values)) for values in np.array(np.meshgrid(*COMPOSE_GRID.values()))
            .T.reshape(-1, len(COMPOSE_GRID)).tolist()]
    scored = [(g, answer_quality(examples, rows, g, max_sentences)) for g in grid]
    best_present = max(q["answer_present"] for _, q in scored)
    eligible = [(g, q) for g, q in scored if q["answer_present"] >= best_present - 0.01]
    chosen, quality = max(eligible, key=lambda item: (item[1]["citation_precision"] + item[1]["gold_cited"],
                                                      item[1]["answer_present"]))
    alone = max(((g, q) for g, q in scored if g["span_other_paragraphs"] == 0),
                key=lambda item: (item[1]["citation_precision"] + item[1]["gold_cited"], item[1]["answer_present"]))
    return chosen, {"chosen": quality, "best_answer_present_in_grid": best_present,
                    "best citing the span's paragraph alone": {**alone[0], **alone[1]},
                    "most_sentences (3, 3, 0)": answer_quality(examples, rows, {"keep_within": 100.0,
                                                               "other_paragraph_within": 100.0,
                                                               "min_new_coverage": -1.0}, max_sentences)}


# --- the reader's span ------------------------------------------------------------------------------------
def span_rules(examples, rows, weights, reader) -> dict:
    """Answer quality on train answerable questions with the span chosen by each rule, and with no reader."""
    out = {}
    for rule in ("margin", "margin+answerable"):
        trial = dict(weights, reader={**weights["reader"], "rule": rule})
        out[rule] = answer_quality(examples, simulate_answerable(examples, trial, reader), weights["compose"], 3)
    out["no reader"] = answer_quality(examples, simulate_answerable(examples, weights, None), weights["compose"], 3)
    return out


SENTENCE_WEIGHTS = [0.0, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0]


def span_quality(examples, rows) -> dict[str, float]:
    """On answerable examples: the winning span's best token F1 against the gold answers, and how often it lies in
    a gold paragraph (the paragraph the answer then cites first)."""
    from assistant.evaluation.metrics import token_f1

    f1, gold = [], []
    for e, row in zip(examples, rows):
        if e.kind != "answerable":
            continue
        found = row.get("found")
        f1.append(max((token_f1(found.text, a) for a in e.answers), default=0.0) if found else 0.0)
        gold.append(bool(found) and (found.context.doc_id, found.context.paragraph) in e.gold)
    return {"span_f1": round(float(np.mean(f1)), 4), "span_in_gold_paragraph": round(float(np.mean(gold)), 4)}


def choose_sentence_weight(examples, weights, reader) -> tuple[float, dict]:
    """How much the carrying sentence's lexical score adds to a span's margin when spans of different passages
    compete (`spans.best`): the weight with the best span F1 plus gold-paragraph rate on the train answerable
    questions (ties go to the smaller weight). Not fitted on the follow-up conversations, and not used for
    follow-ups (`answerer.read_and_rank`): a follow-up's carried terms lift the sentence that answered the earlier
    question, and these conversations cannot show that harm, since both of their questions share a gold paragraph
    by construction (the weight looked like a gain there, span in the gold paragraph 0.80 -> 0.93, while a
    follow-up of the seed suite went wrong)."""
    report, best = {}, (-1.0, 0.0)
    for weight in SENTENCE_WEIGHTS:
        trial = dict(weights, reader={**weights["reader"], "sentence_weight": weight})
        report[str(weight)] = span_quality(examples, simulate_answerable(examples, trial, reader))
        value = sum(report[str(weight)].values())
        if value > best[0] + 1e-9:
            best = (value, weight)
    return best[1], report


def simulate_answerable(examples, weights, reader) -> list[dict]:
    """`simulate` on the answerable examples only (others get an empty row): answer quality reads only those."""
    answerable = [e for e in examples if e.kind == "answerable"]
    rows = iter(simulate(answerable, weights, reader, soft=False))
    return [next(rows) if e.kind == "answerable" else {"ranked": []} for e in examples]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target-declined", type=float, default=0.03,
                        help="share of answerable train questions declined at the decline threshold")
    parser.add_argument("--l2", type=float, default=1.0, help="L2 strength of the answerability model")
    parser.add_argument("--no-reader", action="store_true", help="fit without the reader (as before issue 19)")
    parser.add_argument("--no-soft-coverage", action="store_true", help="leave out the soft-coverage feature")
    parser.add_argument("--passages", type=int, default=4, help="paragraphs the reader reads")
    parser.add_argument("--max-tokens", type=int, default=160, help="tokens in one reader window")
    parser.add_argument("--rule", default="margin", choices=["margin", "margin+answerable"])
    parser.add_argument("--compare-rules", action="store_true", help="report answer quality per span rule")
    parser.add_argument("--keep-checks", nargs="*", default=["count"],
                        help="necessary checks kept even where train data call them a tie (default: count; see "
                             "assistant/data/answerability.md)")
    parser.add_argument("--heldout-articles", action="store_true",
                        help="add the questions of the reader's 12 held-out articles (2,259 more; not shipped: see "
                             "assistant/data/answerability.md)")
    parser.add_argument("--dry-run", action="store_true", help="write nothing")
    args = parser.parse_args()
    folder = c.require("squad2_dev.corpus.jsonl", "squad2_train.qa.jsonl", "news_dev.corpus.jsonl")
    from assistant.answering.extractive.answerability import FEATURES, checks_failed
    from assistant.answering.extractive.answerer import READING_FEATURES
    from assistant.config.settings import Settings

    started = time.perf_counter()
    examples = data.load(folder, heldout=args.heldout_articles)
    max_sentences = Settings.model_fields["max_answer_sentences"].default
    print(f"{len(examples)} examples in {time.perf_counter() - started:.0f} s")
    reader = None if args.no_reader else CachedReader()

    prefilter = fit_ranking(examples)
    weights = {"prefilter": {"weights": prefilter}, "prefilter_keep": 0,
               "reader": {"passages": args.passages, "max_tokens": args.max_tokens, "rule": args.rule,
                          "sentence_weight": 0.0}}
    weights["context_weight"], follow_report = choose_context_weight(
        follow_ups(examples), lambda weight: ranking_weights(weights, context_weight=weight))
    print("follow-ups", json.dumps(follow_report))
    span_report = {}
    if reader is not None:
        weights["reader"]["sentence_weight"], span_report = choose_sentence_weight(examples, weights, reader)
        print("sentence weight", weights["reader"]["sentence_weight"], json.dumps(span_report))
    rows = simulate(examples, weights, reader, soft=not args.no_soft_coverage)
    compose, compose_report = choose_compose(examples, rows, max_sentences)
    weights["compose"] = compose
    print("compose", compose, compose_report["chosen"])
    if args.compare_rules and reader is not None:
        print("span rules", json.dumps(span_rules(examples, rows, weights, reader)))

    names = [f for f in FEATURES if not (args.no_soft_coverage and f == "soft_coverage")]
    names += [] if reader is None else READING_FEATURES
    kinds = np.array([e.kind for e in examples])
    groups = weight_groups(examples)
    y = np.array([e.label for e in examples], dtype=float)
    articles = np.array([e.article for e in examples])
    x = np.array([[r["features"][n] for n in names] if r["features"] else [0.0] * len(names) for r in rows])
    failed_lists = [checks_failed(r["q"].asked, r["lexical"]) for r in rows]
    margins = (x[:, names.index("reader_margin")] if reader is not None else np.full(len(rows), -np.inf))
    span_texts = [r["found"].text if r["found"] is not None else None for r in rows]
    check_table = check_candidates(x, y, groups, articles, names, args.l2, args.target_declined, failed_lists,
                                   margins, span_texts)
    checks, free = choose_checks(check_table, tuple(args.keep_checks)), choose_checks(check_table)
    print("checks", json.dumps(checks), "free choice", json.dumps(free))
    failed = np.array([still_failed(fl, checks["checks"], m, checks["override"], span)
                       for fl, m, span in zip(failed_lists, margins, span_texts)])
    cap = check_confidence(failed, y, groups)
    features_model, cv_conf, cv_report = fit_answerability(x, y, groups, articles, names, args.l2,
                                                           args.target_declined, failed, cap)
    answerability = {"check_confidence": round(cap, 4), "checks": checks["checks"],
                     "check_override": checks["override"] if np.isfinite(checks["override"]) else 1e9,
                     "features": features_model}
    if reader is not None:
        answerability["reader_no_answer"] = reader_no_answer(rows, examples)
    declined = (cv_conf < features_model["decline_threshold"]) | failed
    corpora = np.array([e.corpus for e in examples])
    cv_report["declined by kind and corpus (cross-validated)"] = {
        f"{kind} on {corpus}": round(float(declined[kind_mask(kinds, kind) & (corpora == corpus)].mean()), 4)
        for kind in data.KINDS for corpus in sorted(set(corpora[kind_mask(kinds, kind)]))}
    train = {"examples": {kind: int(kind_mask(kinds, kind).sum()) for kind in data.KINDS}, "follow_ups": follow_report,
             "span by sentence weight (answerable)": span_report,
             "necessary checks failed (share per kind, before the reader override)": {
                 kind: round(float(np.mean([bool(fl) for fl, k in zip(failed_lists, kinds) if k == kind])), 4)
                 for kind in data.KINDS},
             "necessary checks: candidates (cross-validated, at the target share of answerable declined)":
                 check_table,
             "necessary checks: kept by --keep-checks / the free choice": {"kept": args.keep_checks,
                                                                           "chosen": checks, "free choice": free},
             "compose": compose_report, "features_model (cross-validated by article)": cv_report,
             "answers at the features model's threshold (cross-validated)": answer_quality(
                 examples, rows, compose, max_sentences, declined)}
    if reader is not None and reader.ms:
        train["reader_ms_per_question (uncached runs)"] = {"p50": round(float(np.median(reader.ms)), 1),
                                                           "p95": round(float(np.quantile(reader.ms, 0.95)), 1)}
    out = {
        "about": "Offline answerer weights; fitted by training/tune_answerer.py (features in "
                 "assistant/answering/extractive/answerability.py, spans.py and answerer.py; the file's shape in "
                 "weights.py).",
        "fitted_on": "SQuAD 2.0 train questions (squad2_train.qa.jsonl) and the negatives "
                     "training/answerability_data.py generates from them; the reader (assistant/data/reader.onnx) "
                     "was trained on other SQuAD train articles (assistant/data/reader.md)",
        **weights, "answerability": answerability, "train": train,
    }
    print(json.dumps({k: v for k, v in train.items() if "candidates" not in k}, indent=1))
    if not args.dry_run:
        WEIGHTS_OUT.write_text(json.dumps(out, indent=1) + "\n")
        print(f"wrote {WEIGHTS_OUT.relative_to(c.ROOT)} in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
