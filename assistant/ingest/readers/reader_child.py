"""The reader's child process (`python -m assistant.ingest.readers.reader_child MAX_BYTES`): reads files for the
parent with its own memory capped. Why and how: isolated.py."""

from __future__ import annotations

import sys
from pathlib import Path

from assistant.ingest.readers.base import ReaderError, failure_reason
from assistant.ingest.readers.isolated import read_message, send


def _cap_memory(extra_bytes: int) -> None:
    """Cap this process's address space at what it maps now plus `extra_bytes` (no-op where unsupported)."""
    try:
        import resource

        with open("/proc/self/status", encoding="ascii") as status:
            mapped = next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmSize:"))
        resource.setrlimit(resource.RLIMIT_AS, (mapped + extra_bytes, mapped + extra_bytes))
    except (ImportError, OSError, ValueError, StopIteration):
        pass


def main(max_reader_bytes: int) -> None:
    """The child: read requests from stdin until it closes, answer each on stdout."""
    import logging
    import signal

    from assistant.ingest.readers import READERS

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle; it closes our stdin

    logging.disable(logging.WARNING)  # pdfminer warns per odd object; the parent reports what matters
    for module in ("pdfminer.pdfpage", "pdfminer.converter", "pdfminer.layout", "pdfminer.pdfinterp"):
        __import__(module)  # before the cap, so that the cap is on reading, not on importing
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # a stray print from a library must not corrupt the messages
    _cap_memory(max_reader_bytes)
    send(stdout, ("ready", ""))
    while (request := read_message(stdin)) is not None:
        suffix, path, doc_id, limits = request
        signal.alarm(int(limits.max_read_seconds) + 5)  # the parent stops us first; this is for a parent gone
        try:
            reply = ("ok", READERS[suffix](Path(path), doc_id, limits))
        except MemoryError:
            reply = ("memory", "")
        except ReaderError as exc:
            reply = ("refused", str(exc))
        except Exception as exc:  # a parser's own error on a malformed file
            reply = ("refused", failure_reason(exc, suffix))
        signal.alarm(0)
        try:
            send(stdout, reply)
        except MemoryError:  # the Document itself too big to send under the cap
            send(stdout, ("memory", ""))


if __name__ == "__main__":
    main(int(sys.argv[1]))
