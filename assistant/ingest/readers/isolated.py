"""Read a file in a child process whose memory and time are capped, so a parser we cannot bound from outside
never takes the ingest (or the server) down with it.

Why a process: pdfminer decodes every stream filter whole and reads the cross-reference table whole. pdf.py
counts what Flate streams inflate to before laying a page out, but a run-length stream expands 64 to 1, an LZW
stream over 1,000 to 1, and Flate can hide behind another filter; a 200 MB PDF could ask for many GB. Counting
each filter ourselves would mean writing a second PDF decoder. Instead the reader runs in `python -m
assistant.ingest.readers.reader_child`, which caps its own address space (RLIMIT_AS) at what it uses after its imports
plus `max_reader_mb`: past it Python raises MemoryError there, never here. A file that takes longer than
`max_read_seconds` has its reader killed. Either way the file becomes a Skipped with a reason, and the next file
goes on.

One child serves a whole ingest (starting one costs about a second of imports; `collect` stops it at the end, so
it never idles in a server between uploads, holding what its last PDF made it allocate): the parent sends it
(suffix, path, doc_id, limits) and gets back the Document, or the ReaderError's text. Messages are pickles
behind an 8-byte length, over the child's stdin and stdout. The child exits when its stdin closes, and a read of
its own ends by SIGALRM a few seconds past `max_read_seconds`, so it never outlives the process that started it by
longer than that. On Windows (no poll() on pipes, no RLIMIT_AS) PDFs are read in the process
itself, bounded only by pdf.py's own checks.
"""

from __future__ import annotations

import atexit
import os
import pickle
import select
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

from assistant.ingest.readers.base import ReaderError
from assistant.ingest.readers.limits import MB, Limits

ISOLATED_SUFFIXES = {".pdf"} if os.name == "posix" else set()  # poll() on pipes, RLIMIT_AS: POSIX only
_HEADER = struct.Struct("<Q")
STARTUP_SECONDS = 120  # imports take a second or two; much more on a machine swapping hard
_lock = threading.Lock()  # one file at a time through the one child
_child: subprocess.Popen | None = None


def read_isolated(suffix: str, path: Path, doc_id: str, limits: Limits):
    """The Document the reader for `suffix` makes of `path`, read in the capped child. Raises ReaderError with
    the reason when the file is refused, too big for the memory cap, too slow, or kills its reader."""
    with _lock:
        child = _running_child(limits)
        try:
            send(child.stdin, (suffix, str(path), doc_id, limits))
            status, value = _receive(child, deadline=time.monotonic() + limits.max_read_seconds)
        except TimeoutError:
            _stop_child()
            raise ReaderError(f"refused: reading it took longer than {limits.max_read_seconds:,g} s (setting "
                              "max_read_seconds)") from None
        except (EOFError, OSError):
            try:
                code = child.wait(timeout=5)
            except subprocess.TimeoutExpired:
                code = None
            _stop_child()
            how = f"signal {-code}" if code is not None and code < 0 else f"exit code {code}"
            raise ReaderError(f"refused: its reader process died ({how}), a sign of a hostile or damaged file") \
                from None
    if status == "ok":
        return value
    if status == "memory":
        with _lock:
            _stop_child()  # a fresh child for the next file, not one that ran out of memory halfway
        raise ReaderError(f"refused: reading it needed more than {limits.max_reader_bytes / MB:,.0f} MB of memory "
                          "(setting max_reader_mb)")
    raise ReaderError(value)


def _running_child(limits: Limits) -> subprocess.Popen:
    """The child for these limits' memory cap, started if there is none (or it died, or the cap changed)."""
    global _child
    if _child is not None and (_child.poll() is not None or _child.args[-1] != str(limits.max_reader_bytes)):
        _stop_child()
    if _child is None:
        _child = subprocess.Popen([sys.executable, "-m", "assistant.ingest.readers.reader_child", str(limits.max_reader_bytes)],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        try:  # its imports are not the file's time
            _receive(_child, deadline=time.monotonic() + STARTUP_SECONDS)
        except (TimeoutError, EOFError, OSError):
            _stop_child()
            raise ReaderError(f"the reader process did not start (python -m assistant.ingest.readers.reader_child, "
                              f"within {STARTUP_SECONDS} s)") from None
    return _child


def _stop_child() -> None:
    global _child
    if _child is None:
        return
    child, _child = _child, None
    child.kill()
    child.wait()
    for pipe in (child.stdin, child.stdout):
        try:
            pipe.close()
        except OSError:
            pass


def stop_reader() -> None:
    """Stop the reader's child process, if one runs (the next PDF starts another)."""
    with _lock:
        _stop_child()


atexit.register(_stop_child)


def send(pipe, message) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    pipe.write(_HEADER.pack(len(data)) + data)
    pipe.flush()


def _receive(child: subprocess.Popen, deadline: float):
    """One message from the child, waiting no later than `deadline` (raises TimeoutError), EOFError if it died."""
    fd = child.stdout.fileno()
    waiting = select.poll()  # not select(): a server may hold more than 1,024 descriptors
    waiting.register(fd, select.POLLIN)
    buffer = bytearray()
    needed = _HEADER.size
    header_read = False
    while len(buffer) < needed:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not waiting.poll(remaining * 1000):
            raise TimeoutError
        piece = os.read(fd, min(needed - len(buffer), 1 << 20))
        if not piece:
            raise EOFError
        buffer += piece
        if not header_read and len(buffer) == _HEADER.size:
            needed = _HEADER.size + _HEADER.unpack(buffer)[0]
            header_read = True
    return pickle.loads(bytes(buffer[_HEADER.size:]))


def read_message(pipe):
    header = pipe.read(_HEADER.size)
    if len(header) < _HEADER.size:
        return None
    return pickle.loads(pipe.read(_HEADER.unpack(header)[0]))
