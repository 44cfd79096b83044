"""`assistant ingest | docs | remove`: what is in the index."""

from __future__ import annotations

import json
import sys

from assistant.cli.common import index_line, open_assistant
from assistant.ingest.readers import SUPPORTED


def cmd_ingest(args) -> int:
    report = open_assistant(args).ingest(args.paths, progress=not args.quiet,
                                         follow_symlinks=args.follow_symlinks or None)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
        return 0
    for item in report.repaired:
        print(f"repaired: {item}", file=sys.stderr)
    for item in report.renamed:
        print(f"renamed {item['path']}: its name is taken by {item['taken_by'] or 'another document'}; "
              f"indexed as '{item['doc_id']}'", file=sys.stderr)
    for item in report.skipped:
        print(f"skipped {item['path']}: {item['reason']}", file=sys.stderr)
    for item in report.duplicates:
        print(f"duplicate {item['path']}: same text as '{item['same_as']}', not indexed again", file=sys.stderr)
    for item in report.warnings:
        print(f"warning: {item}", file=sys.stderr)
    print(report.summary())
    return 0


def cmd_docs(args) -> int:
    docs = open_assistant(args).documents()
    if args.json:
        print(json.dumps([d.to_dict() for d in docs], indent=2))
        return 0
    if not sys.stderr.isatty():  # on a terminal the first line said it already
        print(index_line(getattr(args, "index", None)))
    if not docs:
        print("The index is empty: add documents with `assistant ingest PATH`.")
    else:
        width = max(len(d.doc_id) for d in docs)
        for d in docs:
            print(f"{d.doc_id:<{width}}  {d.paragraphs:>5} ¶  {d.title}")
    return 0


def cmd_remove(args) -> int:
    open_assistant(args).remove(args.doc_id)
    print(f"removed {args.doc_id}")
    return 0


def add_parsers(sub) -> None:
    formats = " ".join(SUPPORTED)
    p = sub.add_parser("ingest", help=f"index files and folders ({formats})",
                       description=f"Index files and folders. Formats: {formats}. A file that cannot be read is "
                       "reported and skipped; the rest is indexed.")
    p.add_argument("paths", nargs="+")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--follow-symlinks", action="store_true", dest="follow_symlinks",
                   help="also read symbolic links that lead outside the folder (ASSISTANT_FOLLOW_SYMLINKS)")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("docs", help="list indexed documents")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_docs)

    p = sub.add_parser("remove", help="remove a document from the index")
    p.add_argument("doc_id")
    p.set_defaults(func=cmd_remove)
