"""`assistant` command line. Each command group lives in its own module with an `add_parsers(subparsers)`
function; COMMANDS lists them in the order `assistant --help` shows them.

Exit codes: 0 ok, 1 an operational error (locked or damaged index, unreachable server), 2 bad input
(empty question, missing path, unknown document, invalid setting); `eval` adds 3 for an unmet threshold.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from pathlib import Path

from pydantic import ValidationError

from assistant.cli import terminal
from assistant.cli.common import BAD_INPUT, OPERATIONAL, index_line
from assistant.errors import AssistantError, QuestionError, UnknownDocumentError

INDEX_COMMANDS = {"ingest", "docs", "remove", "ask", "recheck", "chat", "check", "serve"}  # those that open the index
COMMANDS = ["assistant.cli.corpus", "assistant.cli.check", "assistant.cli.ask", "assistant.cli.recheck",
            "assistant.cli.chat", "assistant.evaluation.cli", "assistant.cli.serve"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="assistant", description="Answers from your documents, every claim "
                                                                   "cited to its paragraph.")
    parser.add_argument("--index", metavar="PATH", help="the index folder to use (default: ASSISTANT_INDEX_DIR, else "
                        "index/ here or the nearest above, else the one in your data folder)")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMANDS:
        importlib.import_module(name).add_parsers(sub)
    for command in sub.choices.values():  # `assistant ask Q --index PATH` works as well as `assistant --index PATH ask Q`
        command.add_argument("--index", metavar="PATH", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    return parser


def main(argv: list[str] | None = None) -> int:
    terminal.install()  # text from documents is shown, never obeyed (escape sequences)
    args = build_parser().parse_args(argv)
    if getattr(args, "index", None):  # for every part of the command, the settings included
        os.environ["ASSISTANT_INDEX_DIR"] = str(Path(args.index).expanduser().resolve())
    try:
        if args.command in INDEX_COMMANDS and sys.stderr.isatty():
            print(index_line(getattr(args, "index", None)), file=sys.stderr)  # on a terminal, say which documents are being used
        return args.func(args)
    except (QuestionError, UnknownDocumentError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return BAD_INPUT
    except AssistantError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return OPERATIONAL
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
