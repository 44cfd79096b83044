"""The reader alone, given the gold paragraph: SQuAD 2.0 exact match and F1 (benchmarks/declines.py and
benchmarks/answerer.py both report it).

Each question is read against one paragraph, whole (overlapping windows, `Reader.read_whole`): an answerable
question against its gold paragraph, a squad2_dev unanswerable one against the paragraph SQuAD wrote it on
(`meta.adversarial_paragraph`). The reader answers when its best span's margin over "no answer" reaches the null
threshold fitted on held-out *train* articles (assistant/data/reader.json), and says "no answer" otherwise. SQuAD
2.0 scoring: an unanswerable question scores 1 when the reader says no answer, 0 otherwise; an answerable one its
best exact match / token F1 against the gold answers (0 when the reader says no answer). news_dev's unanswerable
questions have no paragraph and are left out.
"""

from __future__ import annotations

import statistics
import time


def paragraph_of(q: dict) -> str | None:
    if q["answerable"]:
        return q["evidence"][0]["quote"] if q["evidence"] else None
    return ((q.get("meta") or {}).get("adversarial_paragraph") or {}).get("quote")


def squad_scores(questions: list[dict]) -> dict:
    from assistant.answering.extractive.reader import card, shared_reader
    from assistant.answering.extractive.reader_input import reader_question
    from assistant.evaluation.metrics import best_f1, normalize_answer

    reader = shared_reader()
    threshold = card().null_threshold
    exact, f1, has, no, ms = [], [], [], [], []
    for q in questions:
        paragraph = paragraph_of(q)
        if paragraph is None:
            continue
        started = time.perf_counter()
        reading = reader.read_whole(reader_question(q["question"]), paragraph)
        ms.append((time.perf_counter() - started) * 1000)
        answered = reading is not None and reading.margin >= threshold
        prediction = paragraph[reading.span.start:reading.span.end] if answered else ""
        if q["answerable"]:
            e = float(answered and any(normalize_answer(prediction) == normalize_answer(a) for a in q["answers"]))
            f = best_f1(prediction, q["answers"]) if answered else 0.0
            has.append(f)
        else:
            e = f = float(not answered)
            no.append(e)
        exact.append(e)
        f1.append(f)
    mean = lambda xs: round(sum(xs) / len(xs), 4) if xs else None  # noqa: E731
    return {"questions": len(exact), "exact": mean(exact), "f1": mean(f1), "has_answer_f1": mean(has),
            "no_answer_accuracy": mean(no), "null_threshold": threshold,
            "ms_p50 (whole paragraph)": round(statistics.median(ms), 1) if ms else None}
