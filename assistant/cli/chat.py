"""`assistant chat`: a conversation in the terminal, with streamed answers and checked citations.

Follow-ups are understood: the conversation goes to `Assistant.stream` as history, so "and who ordered them?"
is rewritten into a standalone question before retrieval (by the LLM in llm mode, by the documented heuristic
offline). Commands:

    /sources             the last answer's cited paragraphs: title, ¶, page and the supporting quote
    /mode [offline|llm]  show or switch the answer mode
    /reset               forget the conversation
    /help                this list
    /quit                leave (Ctrl-D too)

Ctrl-C stops the answer being written, not the session. The lines you type are kept with readline in
`chat_history_file` (default: chat_history in the user's data folder, e.g. ~/.local/share/assistant/), private
to the user (mode 0600) and never in the working directory.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.cli.ask import format_citation, print_stream, support_line
from assistant.cli.common import open_assistant
from assistant.errors import AssistantError
from assistant.text.wording import plural

PROMPT = "> "
HELP = """Ask a question about the documents; follow-up questions are understood.
  /sources             the last answer's cited paragraphs (title, ¶, page, quote)
  /mode [offline|llm]  show or switch the answer mode
  /reset               forget the conversation
  /help                this list
  /quit                leave (Ctrl-D too); Ctrl-C stops an answer being written"""


@dataclass
class Session:
    """What the chat remembers between lines: the conversation, the last answer, the answer mode."""

    assistant: Any
    mode: str
    history: list[dict[str, str]] = field(default_factory=list)
    last: Any = None  # the last Answer


def history_file(settings) -> Path:
    if settings.chat_history_file:
        return Path(settings.chat_history_file).expanduser()
    import platformdirs

    return platformdirs.user_data_path("assistant") / "chat_history"


def start_readline(path: Path):
    """Line editing and the history of earlier sessions, when readline exists (not on Windows): the module, or None."""
    try:
        import readline
    except ImportError:
        return None
    readline.set_history_length(1000)
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not path.exists():
            path.touch(mode=0o600)
        readline.read_history_file(str(path))
    except OSError as exc:
        print(f"note: the chat history cannot be read ({path}: {exc.strerror}); it will not be kept.")
        return None
    return readline


def save_history(readline, path: Path) -> None:
    if readline is None:
        return
    try:
        readline.write_history_file(str(path))
    except OSError:  # a full or read-only disk must not end the session
        pass


def show_sources(session: Session) -> None:
    answer = session.last
    if answer is None:
        print("No answer yet: ask a question first.")
        return
    if not answer.citations:
        print("The last answer cites no paragraph." + (" Closest paragraphs searched: " + "; ".join(
            f"{c.title} ¶{c.paragraph}" for c in answer.contexts[:3]) if answer.contexts else ""))
        return
    for citation in answer.citations:
        print(format_citation(citation, answer.span))


def switch_mode(session: Session, argument: str) -> None:
    if not argument:
        print(f"Answer mode: {session.mode}. Switch with /mode offline or /mode llm.")
        return
    if argument not in ("offline", "llm"):
        print(f"Unknown mode {argument!r}: use /mode offline or /mode llm.")
        return
    if argument == "llm":
        try:
            model = session.assistant.chat_model()
        except AssistantError as exc:
            print(f"LLM mode is not available: {exc}")
            return
        print(f"Answer mode: llm ({model.name} at {model.where}).")
    else:
        print("Answer mode: offline (extractive answers quoted from the documents).")
    session.mode = argument


def run_command(session: Session, line: str) -> bool:
    """Carry out a /command; False when the session should end."""
    name, _, argument = line.partition(" ")
    name, argument = name.lower(), argument.strip().lower()
    if name in ("/quit", "/exit", "/q"):
        return False
    if name == "/help":
        print(HELP)
    elif name == "/sources":
        show_sources(session)
    elif name == "/reset":
        session.history.clear()
        session.last = None
        print("Conversation cleared: the next question starts afresh.")
    elif name == "/mode":
        switch_mode(session, argument)
    else:
        print(f"Unknown command {name}: /help lists the commands.")
    return True


def answer(session: Session, question: str) -> None:
    """Stream one answer; Ctrl-C stops it (and it is not added to the conversation)."""
    stream = session.assistant.stream(question, history=session.history, mode=session.mode)
    try:
        result = print_stream(stream)
    except KeyboardInterrupt:
        stream.close()  # ends the LLM request too (llms/base.py: pull_within)
        print("\n[Stopped. Ask again, or ask something else.]")
        return
    except AssistantError as exc:
        print(f"error: {exc}")
        return
    finally:
        sys.stdout.flush()
    for note in result.notes:
        print(f"note: {note}")
    if line := support_line(result):
        print(line)
    if result.citations:
        cited = " · ".join(f"[{c.marker}] {c.title} ¶{c.paragraph}" + (f", p. {c.page}" if c.page else "")
                           + ("" if c.verified is not False else " (not supported)") for c in result.citations)
        print(f"sources: {cited}   (/sources for the quotes)")
    session.history += [{"role": "user", "content": question}, {"role": "assistant", "content": result.text}]
    session.last = result


def read_line() -> str | None:
    """The next line typed, "" for one to skip, None at the end of input (Ctrl-D)."""
    try:
        line = input(PROMPT)
    except EOFError:
        print()
        return None
    except KeyboardInterrupt:  # at the prompt: a fresh line, as in a shell
        print()
        return ""
    except UnicodeDecodeError:
        print("That line is not valid UTF-8 text: type it again.")
        return ""
    try:
        line.encode("utf-8")
    except UnicodeEncodeError:  # undecodable bytes kept as surrogates (a non-UTF-8 locale)
        print("That line is not valid UTF-8 text: type it again.")
        return ""
    if not line.strip():
        print("Type a question about the documents, or /help for the commands.")
        return ""
    return line.strip()


def cmd_chat(args) -> int:
    assistant = open_assistant(args)
    session = Session(assistant, assistant.settings.answer_mode)
    path = history_file(assistant.settings)
    readline = start_readline(path)
    documents = len(assistant.documents())
    print(f"Chat about the {plural(documents, 'document')} in {assistant.settings.index_dir} "
          f"({session.mode} answers). /help for commands, Ctrl-D to leave.")
    while True:
        line = read_line()
        if line is None:
            break
        if not line:
            continue
        save_history(readline, path)
        if line.startswith("/"):
            if not run_command(session, line):
                break
            continue
        answer(session, line)
    return 0


def add_parsers(sub) -> None:
    p = sub.add_parser("chat", help="an interactive conversation: streamed, cited answers; follow-ups understood")
    p.add_argument("--top-k", type=int, dest="top_k")
    p.add_argument("--mode", choices=["offline", "llm"], help="the answer mode to start with")
    p.set_defaults(func=cmd_chat)

