"""Fault injection, for tests only: `fault_kill_after_batches = N` (ASSISTANT_FAULT_KILL_AFTER_BATCHES) makes the
process kill itself with SIGKILL right after its N-th written batch (chunk rows added or deleted, document rows
written or deleted), so that crash-safety tests can stop a real `assistant ingest` or `assistant remove` at an exact
point of its writes instead of racing a timer."""

from __future__ import annotations

import os
import signal

from assistant.config.settings import Settings

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


def with_faults(store, settings: Settings):
    return KillAfter(store, settings.fault_kill_after_batches) if settings.fault_kill_after_batches else store
