"""Quick check of the seed suite (benchmarks/suites/seed_article.qa.jsonl over seeds/): every answerable question
must cite its gold paragraph (meta.paragraphs) with a verbatim quote holding a gold answer, every unanswerable
one must be declined.

    python benchmarks/seed_suite.py        # exit status 1 when any question fails
"""

from __future__ import annotations

import sys

import _common as c

SUITE = c.ROOT / "benchmarks" / "suites" / "seed_article.qa.jsonl"
SEEDS = c.ROOT / "seeds"


def main() -> int:
    assistant = c.assistant_for(SEEDS, name="seeds")
    failures = []
    for qa in c.read_jsonl(SUITE):
        answer = assistant.ask(qa["question"], history=qa.get("history"))
        if qa["answerable"]:
            gold = {(ev["doc_id"], n) for ev in qa["evidence"] for n in qa["meta"]["paragraphs"]}
            cited = {(cit.doc_id, cit.paragraph) for cit in answer.citations}
            gold_quotes = " ".join(cit.quote for cit in answer.citations
                                   if (cit.doc_id, cit.paragraph) in gold).lower()
            ok = (not answer.refused and bool(gold & cited)
                  and all(cit.quote and cit.quote in cit.text for cit in answer.citations)
                  and any(a.lower() in gold_quotes for a in qa["answers"]))
        else:
            ok = answer.refused
        p = answer.confidence
        if not ok:
            failures.append(qa["id"])
        print(f"{'ok  ' if ok else 'FAIL'} {qa['id']} p={p} {'declined' if answer.refused else answer.text[:90]!r}")
    total = len(c.read_jsonl(SUITE))
    print(f"\n{total - len(failures)}/{total} passed" + (f"; failed: {', '.join(failures)}" if failures else ""))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
