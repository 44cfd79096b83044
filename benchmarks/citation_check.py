"""How well does the citation check catch citations to the wrong paragraph? And what does the prompt cost?

    python benchmarks/citation_check.py            # measure on squad2_dev -> benchmarks/results/citation_check.json
    python benchmarks/citation_check.py --tune     # fit the checker's weights on squad2_train (writes them)
    python benchmarks/citation_check.py --limit 40 # a quick run

Set-up (measure): the squad2_dev corpus is indexed in a temporary folder; the assistant runs in llm mode against
the scripted OpenAI-compatible server (tests/openai_server.py, a separate process on 127.0.0.1). For every
answerable question whose gold paragraph is retrieved, the server replays an answer written from the gold
paragraph twice: once citing the gold paragraph (correct) and once citing the best-ranked *other* retrieved
paragraph (wrong: the model confusing two sources on the same subject, the hard case). Three answer styles:
  sentence  the gold sentence that holds the answer, verbatim
  window    the answer with a few words either side, as a model that compresses would write
  qa        the question's words followed by the answer ("When was Scotland invaded by William: 1072.")
Unanswerable questions get a scripted refusal. Measured: the share of wrong citations flagged (target >= 95 %),
the share of correct ones flagged (target <= 5 %), and the prompt-building time per question beyond retrieval
(target <= 20 ms): `build_messages`, i.e. numbering, token counting and fitting the sources, timed alone.

--tune computes the checker's features for squad2_train questions (same articles, other questions), with every
retrieved non-gold paragraph as a negative, fits a logistic model with numpy and picks the threshold where the
two error rates are balanced, and writes them to assistant/data/citation_check.json (`--dry-run`: print only).
Exits 0 with a message when the datasets are missing.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
RESULTS = ROOT / "benchmarks" / "results" / "citation_check.json"

from _common import clean_env, datasets_dir, gold_keys, read_jsonl  # noqa: E402  (benchmarks/ is on sys.path when run as a script)
STYLES = ("sentence", "window", "qa")
TARGET_CATCH, TARGET_FALSE_FLAG, TARGET_MS = 0.95, 0.05, 20.0


def answer_sentence(paragraph: str, answers: list[str]) -> tuple[str, str] | None:
    """(the gold paragraph's sentence holding an answer, that answer)."""
    from assistant.text.terms import split_sentences

    for answer in answers:
        for s, e in split_sentences(paragraph):
            if answer and answer in paragraph[s:e]:
                return paragraph[s:e], answer
    return None


def claim(style: str, question: str, sentence: str, answer: str) -> str:
    if style == "sentence":
        return sentence.rstrip()
    if style == "window":
        before, _, after = sentence.partition(answer)
        left = before.split()[-6:]
        right = after.split()[:6]
        text = " ".join(left + [answer] + right).strip(" ,;:")
        return text[0].upper() + text[1:] if text else answer
    return f"{question.rstrip(' ?')}: {answer}."


def cited(text: str, marker: str) -> str:
    text = text.rstrip()
    if text and text[-1] in ".!?":
        return f"{text[:-1]} {marker}{text[-1]}"
    return f"{text} {marker}."


def build_assistant(index_dir: Path, **overrides):
    from assistant import Assistant

    clean_env()
    corpus = datasets_dir() / "squad2_dev.corpus.jsonl"
    assistant = Assistant(index_dir=index_dir, corpus_dir=index_dir / "none", **overrides)
    if assistant.index.count() == 0:
        assistant.ingest([corpus])
    return assistant


# --- tuning ---------------------------------------------------------------------------------------------
def tune(index_dir: Path, limit: int | None, dry_run: bool = False) -> None:
    import numpy as np

    from assistant.answering.citations import WEIGHTS_FILE, CitationChecker, CitationWeights, SentenceVectors
    from assistant.text.terms import Idf

    assistant = build_assistant(index_dir)
    idf = assistant.index.derived("idf", lambda mirror: Idf(mirror.texts))
    checker = CitationChecker(SentenceVectors(assistant.embedder), idf)
    questions = [q for q in read_jsonl(datasets_dir() / "squad2_train.qa.jsonl") if q["answerable"]]
    random.Random(7).shuffle(questions)
    questions = questions[:limit] if limit else questions
    names = ["lex", "dense", "missing", "lex_margin", "dense_margin"]  # the order CitationChecker.features has
    X, y, styles = [], [], []
    started = time.perf_counter()
    for i, q in enumerate(questions):
        key = next(iter(gold_keys(assistant, q)), None)  # one evidence paragraph per SQuAD question
        if key is None:
            continue
        contexts = assistant.retrieve(q["question"])
        keys = [(c.doc_id, c.paragraph) for c in contexts]
        if key not in keys:
            continue
        found = answer_sentence(contexts[keys.index(key)].text, q["answers"])
        if not found:
            continue
        for style in STYLES:
            text = claim(style, q["question"], *found)
            rows = checker.features(text, [c.text for c in contexts], q["question"])
            for k, row in zip(keys, rows):
                X.append([row[n] for n in names])
                y.append(1.0 if k == key else 0.0)
                styles.append(style)
        if (i + 1) % 200 == 0:
            print(f"  {i + 1}/{len(questions)} questions, {time.perf_counter() - started:.0f} s", file=sys.stderr)
    X, y = np.array(X), np.array(y)
    w = np.zeros(X.shape[1])
    b = 0.0
    pos_weight = (1 - y).sum() / max(y.sum(), 1)  # balance the classes
    sample_w = np.where(y == 1, pos_weight, 1.0)
    for _ in range(6000):
        p = 1 / (1 + np.exp(-(X @ w + b)))
        g = (p - y) * sample_w
        w -= 0.5 * (X.T @ g / len(y) + 1e-3 * w)
        b -= 0.5 * g.mean()
    p = 1 / (1 + np.exp(-(X @ w + b)))
    best = min(np.linspace(0.05, 0.95, 181),
               key=lambda t: max(((p < t) & (y == 1)).sum() / (y == 1).sum(),
                                 ((p >= t) & (y == 0)).sum() / (y == 0).sum()))
    false_flag = float(((p < best) & (y == 1)).sum() / (y == 1).sum())
    caught = float(((p < best) & (y == 0)).sum() / (y == 0).sum())
    fitted = CitationWeights(
        about="The citation check's scorer (assistant/answering/citations.py): a logistic model over lex, dense, "
              "missing, lex_margin and dense_margin, and the support threshold; fitted by "
              "benchmarks/citation_check.py --tune.",
        fitted_on=f"SQuAD 2.0 train questions: {len(y):,} claim/paragraph pairs from {len(questions):,} questions; "
                  f"there it catches {caught:.1%} of wrong citations and flags {false_flag:.1%} of correct ones "
                  "(measured on dev: benchmarks/results/citation_check.json)",
        scorer={"bias": round(float(b), 3), "weights": {n: round(float(v), 3) for n, v in zip(names, w)}},
        threshold=round(float(best), 3))
    print(f"pairs: {len(y)} ({int(y.sum())} correct); train: catches {caught:.3f} of wrong, flags {false_flag:.3f} "
          f"of correct at threshold {best:.3f}")
    text = json.dumps(fitted.model_dump(), indent=1) + "\n"
    if dry_run:
        print(text)
    else:
        WEIGHTS_FILE.write_text(text, encoding="utf-8")
        print(f"wrote {WEIGHTS_FILE}")


# --- measuring ------------------------------------------------------------------------------------------
def measure(index_dir: Path, limit: int | None) -> dict:
    from assistant.answering.generative.budget import encoding_for
    from assistant.answering.generative.answerer import build_messages
    from openai_server import ScriptedServer

    server = ScriptedServer()
    try:
        assistant = build_assistant(index_dir, answer_mode="llm", openai_base_url=server.base_url,
                                    openai_api_key="sk-benchmark", llm_timeout=30, llm_retries=0)
        questions = read_jsonl(datasets_dir() / "squad2_dev.qa.jsonl")
        if limit:
            questions = questions[:limit]
        encoding = encoding_for(assistant.settings.llm_model)
        counts = {s: {"correct": 0, "correct_flagged": 0, "wrong": 0, "wrong_caught": 0} for s in STYLES}
        skipped = {"gold_not_retrieved": 0, "answer_not_in_gold": 0, "gold_not_found": 0}
        refusals = {"asked": 0, "refused": 0}
        build_ms: list[float] = []
        retrieve_ms: list[float] = []
        ask_ms: list[float] = []
        prompt_tokens: list[int] = []
        examples: list[dict] = []
        for q in questions:
            t0 = time.perf_counter()
            contexts = assistant.retrieve(q["question"])
            retrieve_ms.append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            messages, budget = build_messages(assistant.prompts, q["question"], contexts, assistant.settings,
                                              encoding)
            build_ms.append((time.perf_counter() - t0) * 1000)
            prompt_tokens.append(budget.prompt_tokens)
            if not q["answerable"]:
                server.script({"content": "NOT_IN_SOURCES"})
                refusals["asked"] += 1
                refusals["refused"] += assistant.ask(q["question"]).refused
                continue
            key = next(iter(gold_keys(assistant, q)), None)  # one evidence paragraph per SQuAD question
            keys = [(c.doc_id, c.paragraph) for c in budget.sources]
            if key is None:
                skipped["gold_not_found"] += 1
                continue
            if key not in keys:
                skipped["gold_not_retrieved"] += 1
                continue
            found = answer_sentence(budget.sources[keys.index(key)].text, q["answers"])
            if not found:
                skipped["answer_not_in_gold"] += 1
                continue
            wrong = next(c for c in budget.sources if (c.doc_id, c.paragraph) != key)
            gold = budget.sources[keys.index(key)]
            for style in STYLES:
                text = claim(style, q["question"], *found)
                for label, target in (("correct", gold), ("wrong", wrong)):
                    server.script({"content": cited(text, "{{cite:%s|%d}}" % (target.title, target.paragraph))})
                    t0 = time.perf_counter()
                    answer = assistant.ask(q["question"])
                    ask_ms.append((time.perf_counter() - t0) * 1000)
                    flagged = not answer.citations or answer.citations[0].verified is False
                    counts[style][label] += 1
                    counts[style][f"{label}_{'flagged' if label == 'correct' else 'caught'}"] += flagged
                    if (label == "correct") == flagged and len(examples) < 12:
                        examples.append({"style": style, "label": label, "claim": text, "question": q["question"],
                                         "cited": target.text[:300],
                                         "score": answer.citations[0].score if answer.citations else None})
    finally:
        server.close()
    total = {k: sum(c[k] for c in counts.values()) for k in counts["sentence"]}
    caught = total["wrong_caught"] / max(total["wrong"], 1)
    false_flag = total["correct_flagged"] / max(total["correct"], 1)
    flagged = total["wrong_caught"] + total["correct_flagged"]
    result = {
        "dataset": "squad2_dev",
        "questions": len(questions),
        "citations_scored": total["correct"] + total["wrong"],
        "wrong_citations_caught (recall)": round(caught, 4),
        "precision_of_flags": round(total["wrong_caught"] / flagged, 4) if flagged else None,
        "correct_citations_flagged": round(false_flag, 4),
        "targets": {"catch_at_least": TARGET_CATCH, "false_flag_at_most": TARGET_FALSE_FLAG,
                    "prompt_build_ms_at_most": TARGET_MS},
        "meets_targets": caught >= TARGET_CATCH and false_flag <= TARGET_FALSE_FLAG,
        "by_style": {s: {**c, "caught": round(c["wrong_caught"] / max(c["wrong"], 1), 4),
                         "false_flag": round(c["correct_flagged"] / max(c["correct"], 1), 4)}
                     for s, c in counts.items()},
        "skipped_questions": skipped,
        "refusals": refusals,
        "prompt_build_ms": {"mean": round(statistics.mean(build_ms), 3),
                            "p95": round(sorted(build_ms)[int(0.95 * (len(build_ms) - 1))], 3),
                            "max": round(max(build_ms), 3)},
        "retrieval_ms_mean": round(statistics.mean(retrieve_ms), 2),
        "ask_ms_mean (retrieval + HTTP + citation check)": round(statistics.mean(ask_ms), 2) if ask_ms else None,
        "prompt_tokens_mean": round(statistics.mean(prompt_tokens), 1),
        "model_for_counting": assistant.settings.llm_model,
        "top_k": assistant.settings.top_k,
        "machine": f"{os.cpu_count()} cores",
        "misjudged_examples": examples,
    }
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tune", action="store_true", help="fit the checker on squad2_train instead")
    parser.add_argument("--limit", type=int, help="only the first N questions")
    parser.add_argument("--index", type=Path, help="index folder to (re)use (default: a temporary one)")
    parser.add_argument("--dry-run", action="store_true", help="--tune: print the fitted weights, write nothing")
    args = parser.parse_args()
    needed = ["squad2_dev.corpus.jsonl", "squad2_train.qa.jsonl" if args.tune else "squad2_dev.qa.jsonl"]
    missing = [n for n in needed if not (datasets_dir() / n).is_file()]
    if missing:
        print(f"Datasets not found ({', '.join(missing)} in {datasets_dir()}); set ASSISTANT_DATASETS. Skipping.")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        index_dir = args.index or Path(tmp) / "index"
        if args.tune:
            tune(index_dir, args.limit, args.dry_run)
            return 0
        result = measure(index_dir, args.limit)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    if not args.limit:
        RESULTS.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    summary = {k: v for k, v in result.items() if k not in ("misjudged_examples",)}
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
