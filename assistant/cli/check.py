"""`assistant check [--repair | --rebuild]`: do the document list, Chroma's rows and its vector index agree?
`--repair` mends what can be mended in place; `--rebuild` indexes the documents again from their sources into a
fresh index that replaces a damaged one (assistant/ingest/recover.py).

Exit codes as the rest of the CLI: 0 when the index is healthy (or every problem was repaired), 1 when problems
remain (each named, with what to do), 2 for bad input.
"""

from __future__ import annotations

import sys

from assistant.text.wording import plural


def cmd_check(args) -> int:
    from assistant.index.embeddings import get_embedder
    from assistant.ingest.repair import check
    from assistant.config.settings import Settings
    from assistant.index.store import open_store

    settings = Settings.load()
    embedder = get_embedder(settings)
    if args.rebuild:
        return rebuild(settings, embedder)
    store = open_store(settings, embedder.name, repairing=True)
    result = check(store, embedder, settings, repair=args.repair)
    for problem in result.problems:
        print(f"problem: {problem}")
    for done in result.repaired:
        print(f"repaired: {done}")
    for left in result.unrepaired:
        print(f"cannot repair: {left}")
    if result.problems and not args.repair:
        print(f"{store.where}: {len(result.problems)} problem(s). Run `assistant check --repair` to repair them.")
        return 1
    if result.unrepaired:
        print(f"{store.where}: {len(result.unrepaired)} problem(s) could not be repaired (see above).",
              file=sys.stderr)
        return 1
    state = "repaired" if result.repaired else "healthy"
    print(f"{store.where} is {state}: {plural(result.documents, 'document')}, {plural(result.chunks, 'chunk')}.")
    return 0


def rebuild(settings, embedder) -> int:
    from assistant.ingest.recover import rebuild_from_sources

    result = rebuild_from_sources(settings, embedder)
    for lost in result.lost:
        print(f"cannot rebuild: {lost}")
    print(f"rebuilt {result.index} from the documents' sources: {plural(result.documents, 'document')}, "
          f"{plural(result.chunks, 'chunk')}; the damaged index is kept at {result.kept_aside} (delete it when you "
          "no longer need it).")
    return 1 if result.lost else 0


def add_parsers(sub) -> None:
    p = sub.add_parser("check", help="check that the index's documents, rows and vectors agree (--repair fixes them)")
    p.add_argument("--repair", action="store_true", help="repair what can be repaired and name what cannot")
    p.add_argument("--rebuild", action="store_true", help="index the documents again from their source files into "
                   "a fresh index that replaces this one (for damage beyond repair); the old folder is kept aside")
    p.set_defaults(func=cmd_check)
