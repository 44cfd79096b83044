"""Run `assistant ARGS` in this process with a store that SIGKILLs it right after its N-th written batch (chunk rows
added or deleted, document rows written or deleted), so that crash-safety tests stop a real `assistant ingest` or
`assistant remove` at an exact point of its writes instead of racing a timer:

    python tests/kill_after.py N ingest --quiet CORPUS

Test support only: the product has no such switch. It wraps the store that assistant.ingest's `ingest` and
`remove` write through; everything else runs as `python -m assistant.cli` would.
"""

from __future__ import annotations

import os
import signal
import sys

WRITES = ("add", "delete", "commit", "forget")


class KillAfter:
    """A store whose write methods count, and SIGKILL the process once `limit` writes are done."""

    def __init__(self, store, limit: int) -> None:
        self._store = store
        self._left = limit

    def __getattr__(self, name: str):
        attribute = getattr(self._store, name)
        if name not in WRITES:
            return attribute

        def counted(*args, **kwargs):
            result = attribute(*args, **kwargs)
            if args and not len(args[0]):  # nothing was written
                return result
            self._left -= 1
            if self._left <= 0:
                os.kill(os.getpid(), signal.SIGKILL)
            return result

        return counted


def main() -> int:
    limit, args = int(sys.argv[1]), sys.argv[2:]
    from assistant import ingest
    from assistant.cli import main as cli

    real_ingest, real_remove = ingest.ingest, ingest.remove
    ingest.ingest = lambda store, *a, **k: real_ingest(KillAfter(store, limit), *a, **k)
    ingest.remove = lambda store, *a, **k: real_remove(KillAfter(store, limit), *a, **k)
    return cli(args)


if __name__ == "__main__":
    sys.exit(main())
