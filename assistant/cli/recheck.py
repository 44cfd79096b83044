"""`assistant recheck FILE`: do the citations of answers saved earlier still hold in the index as it is now?

Answers go stale when documents change. FILE holds answers as `assistant ask --json` prints them (one after the
other, one per line or indented). For every cited quote it says whether it still stands in its paragraph:
- holds: the paragraph of that number still contains the quote word for word;
- moved: another paragraph of the same document does (its new number is given);
- changed: the document is indexed but no paragraph of it contains the quote any more;
- gone: no indexed document has that id.
Exit code 1 when any quote no longer holds, so a report's citations can be checked again in CI.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from assistant.cli.common import open_assistant
from assistant.errors import QuestionError

ELLIPSIS = " … "  # how a quote joins the separate stretches of a paragraph it quotes


def read_answers(path: Path) -> list[dict]:
    """The JSON objects in the file, one after the other (JSON Lines, or `ask --json` output appended)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise QuestionError(f"{path}: cannot be read ({exc})") from None
    decoder, answers, at = json.JSONDecoder(), [], 0
    while True:
        while at < len(text) and text[at].isspace():
            at += 1
        if at >= len(text):
            return answers
        try:
            value, at = decoder.raw_decode(text, at)
        except json.JSONDecodeError as exc:
            raise QuestionError(f"{path}: not answers saved with `assistant ask --json` ({exc})") from None
        if not isinstance(value, dict) or not isinstance(value.get("citations"), list):
            raise QuestionError(f"{path}: answer {len(answers) + 1} is not an answer saved with `assistant ask --json`")
        answers.append(value)


def contains(paragraph: str, quote: str) -> bool:
    squashed = " ".join(paragraph.split())
    return all(" ".join(part.split()) in squashed for part in quote.split(ELLIPSIS) if part.strip())


def status(index, documents: dict, citation: dict) -> tuple[str, str]:
    """(holds | moved | changed | gone, details)."""
    doc_id, number, quote = citation.get("doc_id"), int(citation.get("paragraph") or 0), citation.get("quote") or ""
    doc = documents.get(doc_id)
    if doc is None:
        return "gone", f"no indexed document is called '{doc_id}'"
    cited = index.paragraph(doc_id, number)
    if cited is not None and contains(cited.text, quote):
        return "holds", ""
    for other in range(1, doc.paragraphs + 1):
        if other != number and (p := index.paragraph(doc_id, other)) is not None and contains(p.text, quote):
            return "moved", f"now in ¶{other}"
    return "changed", f"no paragraph of '{doc_id}' says it any more"


def cmd_recheck(args) -> int:
    answers = read_answers(Path(args.file).expanduser())
    assistant = open_assistant(args)
    documents = {d.doc_id: d for d in assistant.documents()}
    counts: dict[str, int] = {}
    for number, answer in enumerate(answers, start=1):
        question = " ".join((answer.get("question") or "").split())[:80]
        for citation in answer["citations"]:
            state, detail = status(assistant.index, documents, citation)
            counts[state] = counts.get(state, 0) + 1
            where = f"{citation.get('doc_id')} ¶{citation.get('paragraph')}"
            print(f"answer {number} [{citation.get('marker')}] {where}: {state}" + (f" ({detail})" if detail else "")
                  + (f"  — {question}" if question and state != "holds" else ""))
    total = sum(counts.values())
    stale = total - counts.get("holds", 0)
    summary = ", ".join(f"{n} {state}" for state, n in sorted(counts.items())) or "no citations"
    print(f"{len(answers)} answer(s), {total} citation(s): {summary}.", file=sys.stderr if stale else sys.stdout)
    return 1 if stale else 0


def add_parsers(sub) -> None:
    p = sub.add_parser("recheck", help="say whether the citations of answers saved with `ask --json` still hold")
    p.add_argument("file", help="answers saved with `assistant ask --json` (one after the other)")
    p.set_defaults(func=cmd_recheck)
