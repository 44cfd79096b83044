"""Giving freed heap back to the operating system.

glibc keeps freed memory in its heap for reuse, so a process that built and dropped large things (a chromadb System
replaced after another process wrote, the token ids and vectors of an embedded ingest window) keeps the peak as its
resident size. `malloc_trim(0)` returns it; elsewhere (musl, macOS, Windows) this does nothing. Measured: 1,000
reconnects of a reader grew it from 123 to 358 MB without this, and it stayed near 210 MB with it; an ingest of a
50 MB text file gave back 47 MB at 35 % when trimmed once by hand.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools


@functools.cache
def _malloc_trim():
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None
    return getattr(libc, "malloc_trim", None)


def give_back() -> None:
    """Return the heap's free pages to the system (a few milliseconds)."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
