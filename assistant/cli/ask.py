"""`assistant ask QUESTION`: one question, the answer streamed as it arrives, then its checked citations."""

from __future__ import annotations

import json
import sys

from assistant.cli.common import open_assistant


def print_answer(answer, text: bool = True) -> None:
    if text:
        print(answer.text)
    for note in answer.notes:
        print(f"note: {note}", file=sys.stderr)
    if answer.citations:
        print()
    for c in answer.citations:
        flag = "" if c.verified is not False else "  (not supported by this paragraph)"
        page = f", p. {c.page}" if c.page is not None else ""
        print(f"[{c.marker}] {c.title} ¶{c.paragraph}{page} ({c.doc_id}){flag}\n    “{c.quote}”")
    if answer.unsupported and not answer.refused:
        print("warning: no citation in this answer is supported by the paragraph it cites", file=sys.stderr)


def cmd_ask(args) -> int:
    """Print the answer as it arrives (LLM mode streams), then its checked citations; --json prints one object."""
    assistant = open_assistant(args)
    if args.json:
        print(json.dumps(assistant.ask(args.question).to_dict(), ensure_ascii=False, indent=2))
        return 0
    shown = ""
    answer = None
    for item in assistant.stream(args.question):
        if isinstance(item, str):
            sys.stdout.write(item)
            sys.stdout.flush()
            shown += item
        else:
            answer = item
    if shown:
        print()
    if answer.text.strip() != shown.strip():  # the check changed the text (markers removed, refusal, fallback)
        print(("\n" if shown else "") + answer.text)
    print_answer(answer, text=False)
    return 0


def add_parsers(sub) -> None:
    p = sub.add_parser("ask", help="ask a question about the indexed documents")
    p.add_argument("question")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--top-k", type=int, dest="top_k")
    p.add_argument("--mode", choices=["offline", "llm"], help="override ASSISTANT_ANSWER_MODE")
    p.set_defaults(func=cmd_ask)
