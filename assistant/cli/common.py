"""What every command shares: building the Assistant from the command's options, exit codes."""

from __future__ import annotations

import sys

OK = 0
OPERATIONAL = 1  # locked or damaged index, unreachable server
BAD_INPUT = 2  # empty question, missing path, unknown document, invalid setting


def open_assistant(args, **extra):
    """The Assistant for a command, with its --mode / --top-k options applied over the configured settings."""
    from assistant import Assistant

    overrides = dict(extra)
    if getattr(args, "mode", None):
        overrides["answer_mode"] = args.mode
    if getattr(args, "top_k", None):
        overrides["top_k"] = args.top_k
    assistant = Assistant(**overrides)
    for note in assistant.index.notes():
        print(f"note: {note}", file=sys.stderr)
    return assistant
