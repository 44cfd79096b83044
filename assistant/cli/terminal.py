"""What the command line prints is shown, never obeyed.

A document's text, title and id come from files anyone may have written. Printed raw, an escape sequence in them
is obeyed by the terminal: `ESC[2J` clears the screen, an OSC sequence retitles the window or plants an OSC-8
hyperlink whose text says one address and opens another. So every command's stdout and stderr go through
`EscapingStream`, which shows each control character as `\\xNN` (tab, newline and carriage return pass: the progress
bar needs the last). JSON output is unaffected: `json.dumps` already writes them as `\\u001b`.

The one styling we print ourselves, the answer span inside a quote, is written as the private-use characters
HIGHLIGHT_ON / HIGHLIGHT_OFF, which the stream turns into bold-underline on a terminal (unless NO_COLOR is set) and
into `**` elsewhere, after escaping.
"""

from __future__ import annotations

import os
import re
from typing import TextIO

HIGHLIGHT_ON, HIGHLIGHT_OFF = "\ue000", "\ue001"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def escape_controls(text: str) -> str:
    """`text` with every control character but tab, newline and carriage return shown as `\\xNN`."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group(0)):02x}", text)


class EscapingStream:
    """A text stream that escapes what is written to it (see the module docstring); everything else is the
    wrapped stream's."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        color = _isatty(stream) and not os.environ.get("NO_COLOR")
        self._on, self._off = ("\033[1;4m", "\033[0m") if color else ("**", "**")

    def write(self, text: str) -> int:
        shown = escape_controls(text).replace(HIGHLIGHT_ON, self._on).replace(HIGHLIGHT_OFF, self._off)
        self._stream.write(shown)
        return len(text)

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


def _isatty(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def install() -> None:
    """Wrap sys.stdout and sys.stderr (once)."""
    import sys

    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is not None and not isinstance(stream, EscapingStream):
            setattr(sys, name, EscapingStream(stream))
