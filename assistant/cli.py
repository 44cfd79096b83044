"""`assistant` command line: ingest, ask, docs, remove (and eval, from assistant.evaluation).

Exit codes: 0 ok, 1 an operational error (locked or damaged index, unreachable server), 2 bad input
(empty question, missing path, unknown document).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from pydantic import ValidationError

from assistant.errors import AssistantError, QuestionError, UnknownDocumentError

BAD_INPUT = 2


def _assistant(args):
    from assistant import Assistant

    overrides = {}
    if getattr(args, "mode", None):
        overrides["answer_mode"] = args.mode
    if getattr(args, "top_k", None):
        overrides["top_k"] = args.top_k
    return Assistant(**overrides)


def cmd_ingest(args) -> int:
    report = _assistant(args).ingest(args.paths, progress=not args.quiet)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
        return 0
    for item in report.skipped:
        print(f"skipped {item['path']}: {item['reason']}", file=sys.stderr)
    for item in report.duplicates:
        print(f"duplicate {item['path']}: same text as '{item['same_as']}', not indexed again", file=sys.stderr)
    print(report.summary())
    return 0


def print_answer(answer, text: bool = True) -> None:
    from assistant.answering.answerability import support_note

    if text:
        print(answer.text)
    if answer.support == "weak" or answer.confidence is not None:
        print(("⚠ " if answer.support == "weak" else "") + support_note(answer.support, answer.confidence,
                                                                        answer.uncovered))
    for note in answer.notes:
        print(f"note: {note}", file=sys.stderr)
    if answer.citations:
        print()
    for c in answer.citations:
        flag = "" if c.verified is not False else "  (not supported by this paragraph)"
        print(f"[{c.marker}] {c.title} ¶{c.paragraph} ({c.doc_id}){flag}\n    “{c.quote}”")
    if answer.unsupported and not answer.refused:
        print("warning: no citation in this answer is supported by the paragraph it cites", file=sys.stderr)


def read_history(path: Path) -> list[dict]:
    """The conversation kept in a --history file (a JSON list of {"role", "content"} messages); [] when new."""
    if not path.exists():
        return []
    try:
        messages = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise QuestionError(f"--history {path}: not a readable JSON conversation ({exc})") from None
    if not isinstance(messages, list) or not all(
            isinstance(m, dict) and m.get("role") in ("user", "assistant") and isinstance(m.get("content"), str)
            for m in messages):
        raise QuestionError(f"--history {path}: expected a JSON list of {{\"role\": \"user\"|\"assistant\", "
                            "\"content\": text}} messages")
    return messages


def write_history(path: Path, messages: list[dict], question: str, answer) -> None:
    """Append this turn and replace the file whole (a crash never leaves half a conversation)."""
    messages = [*messages, {"role": "user", "content": question}, {"role": "assistant", "content": answer.text}]
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".tmp")
    partial.write_text(json.dumps(messages, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    partial.replace(path)


def cmd_ask(args) -> int:
    """Print the answer as it arrives (LLM mode streams), then its confidence and checked citations; --json
    prints one object. With --history FILE the question continues the conversation kept in FILE, and the turn
    is added to it."""
    assistant = _assistant(args)
    history_file = Path(args.history).expanduser() if args.history else None
    history = read_history(history_file) if history_file else []
    if args.json:
        answer = assistant.ask(args.question, history=history)
        print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
        if history_file:
            write_history(history_file, history, args.question, answer)
        return 0
    shown = ""
    answer = None
    for item in assistant.stream(args.question, history=history):
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
    if history_file:
        write_history(history_file, history, args.question, answer)
    return 0


def cmd_docs(args) -> int:
    docs = _assistant(args).documents()
    if args.json:
        print(json.dumps([d.to_dict() for d in docs], indent=2))
    elif not docs:
        print("The index is empty: add documents with `assistant ingest PATH`.")
    else:
        width = max(len(d.doc_id) for d in docs)
        for d in docs:
            print(f"{d.doc_id:<{width}}  {d.paragraphs:>5} ¶  {d.title}")
    return 0


def cmd_remove(args) -> int:
    _assistant(args).remove(args.doc_id)
    print(f"removed {args.doc_id}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="assistant", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("ingest", help="index files and folders (.txt .md .html .pdf .docx .jsonl)")
    p.add_argument("paths", nargs="+")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("ask", help="ask a question about the indexed documents")
    p.add_argument("question")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--top-k", type=int, dest="top_k")
    p.add_argument("--mode", choices=["offline", "llm"], help="override ASSISTANT_ANSWER_MODE")
    p.add_argument("--history", metavar="FILE", help="continue the conversation kept in FILE (JSON messages; "
                                                     "created if missing) and add this turn to it")
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("docs", help="list indexed documents")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_docs)

    p = sub.add_parser("remove", help="remove a document from the index")
    p.add_argument("doc_id")
    p.set_defaults(func=cmd_remove)

    try:
        from assistant.evaluation.cli import add_eval_parser
    except ImportError:
        pass
    else:
        add_eval_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (QuestionError, UnknownDocumentError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return BAD_INPUT
    except AssistantError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        print(f"error: invalid setting ({problems})", file=sys.stderr)
        return BAD_INPUT
    except BrokenPipeError:  # `assistant ask --json ... | head`
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
