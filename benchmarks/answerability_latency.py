"""What reading and the answerability check add to a question.

    python benchmarks/answerability_latency.py

For the 200 squad2_dev questions (and news_dev's 200): retrieval and sentence ranking run once, untimed (the
answerer needs them whatever it decides); then, timed apart: the reader over the top passages
(`extractive.read_and_rank` less the ranking: one batched onnxruntime run), the check as `answer_offline` runs it
(`extractive.estimate`: the question-level features, the calibrated probability, the necessary answer-type
checks), and the words the sources do not cover (`answerability.uncovered`, for the "weakly supported" label).
Each question's parts run 5 times; their medians count. Writes benchmarks/results/answerability_latency.json.
"""

from __future__ import annotations

import statistics
import time

import _common as c

REPEATS = 5


def timed(fn) -> float:
    runs = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - started) * 1000)
    return statistics.median(runs)


def measure(assistant, questions: list[dict]) -> dict:
    from assistant.answering.extractive import answerability, spans
    from assistant.answering.extractive.answerer import estimate, read_and_rank
    from assistant.answering.extractive.ranking import QuestionTerms, score_sentences
    from assistant.answering.extractive.weights import load_weights
    from assistant.answering.extractive.reader import shared_reader
    from assistant.text.terms import Idf
    from assistant.types import Question

    weights = load_weights()
    options = weights.reader
    reader = shared_reader()
    idf = assistant.index.derived("idf", lambda mirror: Idf(mirror.texts))
    read_ms, check_ms, label_ms = [], [], []
    for qa in questions:
        q = QuestionTerms.of(Question(asked=qa["question"]), weights.context_weight)
        vector = assistant.embedder.embed([q.text])[0]
        contexts = assistant.retrieve(q.text)
        ranked = score_sentences(q, vector, contexts, None, idf, weights)

        def read():
            return spans.read(reader, q.asked, q.carried, ranked, contexts, options.passages, options.max_tokens)

        read_ms.append(timed(read))
        result = read_and_rank(q, vector, contexts, None, idf, weights, reader)
        check_ms.append(timed(lambda: estimate(q, result.ranked, contexts, idf, weights.answerability, result)))
        label_ms.append(timed(lambda: answerability.uncovered(q.asked, [ctx.text for ctx in contexts])))
    total = [a + b + r for a, b, r in zip(check_ms, label_ms, read_ms)]
    return {"questions": len(questions),
            **{f"{name}_ms_{p}": round(statistics.quantiles(values, n=100)[p - 1], 2)
               for name, values in (("read", read_ms), ("check", check_ms), ("uncovered", label_ms),
                                    ("total", total))
               for p in (50, 95)}}


def main() -> None:
    folder = c.require("squad2_dev.corpus.jsonl", "squad2_dev.qa.jsonl", "news_dev.corpus.jsonl", "news_dev.qa.jsonl")
    results = {}
    for name in ("squad2_dev", "news_dev"):
        assistant = c.assistant_for(folder / f"{name}.corpus.jsonl")
        questions = c.read_jsonl(folder / f"{name}.qa.jsonl")
        assistant.ask(questions[0]["question"])  # builds BM25 and the IDF table once: not a question's cost
        results[name] = measure(assistant, questions)
    print(c.table(["set", "questions", "read p50 / p95 ms", "check p50 / p95 ms", "uncovered p50 / p95 ms",
                   "total p50 / p95 ms"],
                  [[n, r["questions"], f"{r['read_ms_50']} / {r['read_ms_95']}", f"{r['check_ms_50']} / {r['check_ms_95']}",
                    f"{r['uncovered_ms_50']} / {r['uncovered_ms_95']}", f"{r['total_ms_50']} / {r['total_ms_95']}"]
                   for n, r in results.items()]))
    print(f"wrote {c.write_result('answerability_latency', results)}")


if __name__ == "__main__":
    main()
