"""How well does the citation check catch citations to the wrong paragraph? And what does the prompt cost?

    python benchmarks/citation_check.py            # measure on squad2_dev -> benchmarks/results/citation_check.json
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

The checker's weights are fitted on squad2_train by training/tune_citation_check.py.
Exits 0 with a message when the datasets are missing.
"""

from __future__ import annotations

import argparse
import json
import os
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
    parser.add_argument("--limit", type=int, help="only the first N questions")
    parser.add_argument("--index", type=Path, help="index folder to (re)use (default: a temporary one)")
    args = parser.parse_args()
    needed = ["squad2_dev.corpus.jsonl", "squad2_dev.qa.jsonl"]
    missing = [n for n in needed if not (datasets_dir() / n).is_file()]
    if missing:
        print(f"Datasets not found ({', '.join(missing)} in {datasets_dir()}); set ASSISTANT_DATASETS. Skipping.")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        index_dir = args.index or Path(tmp) / "index"
        result = measure(index_dir, args.limit)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    if not args.limit:
        RESULTS.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    summary = {k: v for k, v in result.items() if k not in ("misjudged_examples",)}
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
