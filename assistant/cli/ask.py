"""`assistant ask QUESTION`: one question, the answer streamed as it arrives, then its confidence and checked
citations. `--history FILE` continues a conversation kept in FILE (JSON messages), so a follow-up ("And who
ordered them?") is understood as `assistant chat` understands it: both pass the conversation to the Assistant."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from pathlib import Path

from assistant.answering.markdown import answer_markdown
from assistant.answering.extractive.answerability import support_note
from assistant.cli.common import open_assistant
from assistant.cli.terminal import HIGHLIGHT_OFF, HIGHLIGHT_ON
from assistant.errors import QuestionError

REPLACED = "[The LLM's answer stopped there; the offline answer below replaces it.]"
CORRECTED = "[After the citation check:]"


def marked_quote(c, span=None) -> str:
    """The citation's quote with the answer span (`Answer.span`, when it lies in this quote) marked: bold and
    underlined on a colour terminal, between ** elsewhere (`terminal.EscapingStream` renders the marks)."""
    quote = c.quote
    if span is None or (span.doc_id, span.paragraph) != (c.doc_id, c.paragraph):
        return quote
    offset = c.text.find(quote)
    if offset < 0 or not offset <= span.start < span.end <= offset + len(quote):
        return quote
    a, b = span.start - offset, span.end - offset
    return f"{quote[:a]}{HIGHLIGHT_ON}{quote[a:b]}{HIGHLIGHT_OFF}{quote[b:]}"


def format_citation(c, span=None) -> str:
    """`[1] Title ¶2, p. 3 (doc_id)` and the supporting quote on the next line, the answer span marked in it."""
    flag = "" if c.verified is not False else "  (not supported by this paragraph)"
    page = f", p. {c.page}" if c.page is not None else ""
    return f"[{c.marker}] {c.title} ¶{c.paragraph}{page} ({c.doc_id}){flag}\n    “{marked_quote(c, span)}”"


def support_line(answer) -> str:
    """How far the sources carry the answer: "Weakly supported (confidence 41%): the cited passages do not
    mention “killed”." ("" when the confidence was not estimated)."""
    if answer.confidence is None and answer.support != "weak":
        return ""
    return ("⚠ " if answer.support == "weak" else "") + support_note(answer.support, answer.confidence,
                                                                    answer.uncovered)


def print_answer(answer, text: bool = True) -> None:
    if text:
        print(answer.text)
    if line := support_line(answer):
        print(line)
    for note in answer.notes:
        print(f"note: {note}", file=sys.stderr)
    if answer.citations:
        print()
    for c in answer.citations:
        print(format_citation(c, answer.span))
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
                            "\"content\": text} messages")
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
    history_file = Path(args.history).expanduser() if args.history else None
    history = read_history(history_file) if history_file else []
    assistant = open_assistant(args)
    if args.json or args.format == "json":
        answer = assistant.ask(args.question, history=history)
        print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
    elif args.format == "markdown":
        answer = assistant.ask(args.question, history=history)
        print(answer_markdown(answer.to_dict()), end="")
    else:
        answer = print_stream(assistant.stream(args.question, history=history))
        print_answer(answer, text=False)
    if history_file:
        write_history(history_file, history, args.question, answer)
    return 0


def add_parsers(sub) -> None:
    p = sub.add_parser("ask", help="ask a question about the indexed documents")
    p.add_argument("question")
    p.add_argument("--json", action="store_true", help="print one JSON object (the same as --format json)")
    p.add_argument("--format", choices=["text", "json", "markdown"], default="text",
                   help="markdown: the answer with its citations as footnotes ([^1]: title, ¶n, “quote”), to paste "
                        "into a report")
    p.add_argument("--top-k", type=int, dest="top_k")
    p.add_argument("--mode", choices=["offline", "llm"], help="override ASSISTANT_ANSWER_MODE")
    p.add_argument("--history", metavar="FILE", help="continue the conversation kept in FILE (JSON messages; "
                                                     "created if missing) and add this turn to it")
    p.set_defaults(func=cmd_ask)
