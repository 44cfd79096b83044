"""What every command shares: building the Assistant from the command's options, exit codes."""

from __future__ import annotations

import sys

OK = 0
OPERATIONAL = 1  # locked or damaged index, unreachable server
BAD_INPUT = 2  # empty question, missing path, unknown document, invalid setting


def index_in_use(flag: str | None = None) -> tuple[str, str]:
    """(the index folder commands use now, why that one): `--index` (`flag`), the setting, or the one found
    (settings.find_index)."""
    import os

    from assistant.config.settings import Settings, config_file, find_index

    settings = Settings.load()
    if settings.uses_chroma_server:
        return (f"{settings.chroma_host}:{settings.chroma_port} (collection '{settings.collection}')",
                "ASSISTANT_CHROMA_HOST")
    if flag:
        return str(settings.index_dir), "--index"
    if os.environ.get("ASSISTANT_INDEX_DIR"):
        return str(settings.index_dir), "ASSISTANT_INDEX_DIR"
    if "index_dir" in settings.model_fields_set:
        return str(settings.index_dir), str(config_file())
    found, why = find_index()
    return str(found), why


def index_line(flag: str | None = None) -> str:
    where, why = index_in_use(flag)
    return f"index: {where} ({why})"


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
