"""llama-index's file readers (llama-index-readers-file), imported the way this product needs them.

Why a wrapper: importing `llama_index.readers.file` imports every reader it has, and its slides module calls
`logging.basicConfig(level=INFO)` at import time. In our CLI, which configures no logging, that would switch on
INFO logs of every library (Chroma, httpx, ...) on stderr for the rest of the process. The import is done once,
late (only when a .pptx or .xlsx is read: it costs about 1.7 s, mostly llama_index.core), and the root logger is
put back as it was.
"""

from __future__ import annotations

import functools
import logging


@functools.cache
def file_readers():
    """The `llama_index.readers.file` module, imported with the root logger left untouched."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        import llama_index.readers.file as readers
    finally:
        for handler in root.handlers[:]:
            if handler not in handlers:
                root.removeHandler(handler)
        root.setLevel(level)
    return readers
