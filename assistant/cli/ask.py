"""`assistant ask QUESTION`: one question, the answer streamed as it arrives, then its checked citations."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable

from assistant.cli.common import open_assistant

REPLACED = "[The LLM's answer stopped there; the offline answer below replaces it.]"
CORRECTED = "[After the citation check:]"


def format_citation(c) -> str:
    """`[1] Title ¶2, p. 3 (doc_id)` and the supporting quote on the next line."""
    flag = "" if c.verified is not False else "  (not supported by this paragraph)"
    page = f", p. {c.page}" if c.page is not None else ""
    return f"[{c.marker}] {c.title} ¶{c.paragraph}{page} ({c.doc_id}){flag}\n    “{c.quote}”"


def print_answer(answer, text: bool = True) -> None:
    if text:
        print(answer.text)
    for note in answer.notes:
        print(f"note: {note}", file=sys.stderr)
    if answer.citations:
        print()
    for c in answer.citations:
        print(format_citation(c))
    if answer.unsupported and not answer.refused:
        print("warning: no citation in this answer is supported by the paragraph it cites", file=sys.stderr)


def print_stream(items: Iterable, out=None):
    """Print the pieces of `Assistant.stream` as they arrive and return the final Answer. When the final text
    differs from what was shown, print it once more, saying why: an LLM stream that failed partway was replaced
    by the offline answer, or the citation check changed the text (a marker pointing nowhere removed)."""
    out = out or sys.stdout
    shown = ""
    answer = None
    for item in items:
        if isinstance(item, str):
            out.write(item)
            out.flush()
            shown += item
        else:
            answer = item
    if shown:
        out.write("\n")
    if answer is not None and answer.text.strip() != shown.strip():
        if shown:
            out.write(f"\n{REPLACED if answer.mode != 'llm' else CORRECTED}\n\n")
        out.write(answer.text + "\n")
    out.flush()
    return answer


def cmd_ask(args) -> int:
    """Print the answer as it arrives (LLM mode streams), then its checked citations; --json prints one object."""
    assistant = open_assistant(args)
    if args.json:
        print(json.dumps(assistant.ask(args.question).to_dict(), ensure_ascii=False, indent=2))
        return 0
    print_answer(print_stream(assistant.stream(args.question)), text=False)
    return 0


def add_parsers(sub) -> None:
    p = sub.add_parser("ask", help="ask a question about the indexed documents")
    p.add_argument("question")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--top-k", type=int, dest="top_k")
    p.add_argument("--mode", choices=["offline", "llm"], help="override ASSISTANT_ANSWER_MODE")
    p.set_defaults(func=cmd_ask)
