"""Citation markers: the one definition of what `[1]` looks like in an answer.

The checker (answering/citations.py), the follow-up condenser (conversation.py), the refusal detector (answering/generative/answerer.py)
and the page renderer (ui/render.py) all find markers with this module, so a marker the checker accepts is also
one the page links and the condenser strips. Accepted forms: `[1]`, `[1, 2]`, `[1][2]`, `[1-3]`, `[^1]`,
`[source 1]`, `【1】`; `[-1]` and `[0]` are markers too, pointing to no source (the checker removes them). A range expands to at most 21 numbers (a typo such as `[1-900]` is taken as its bounds).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MARKER = re.compile(
    r"[\[【]\s*(?:\^|sources?\s*|src\s*|s(?=\d))?(-?\d{1,3}(?:\s*(?:,|;|-|–|and)\s*(?:\^|sources?\s*)?\d{1,3})*)\s*[\]】]",
    re.IGNORECASE,
)
MAX_RANGE = 20


@dataclass
class Marker:
    start: int
    end: int
    numbers: list[int]


def marker_numbers(body: str) -> list[int]:
    """The source numbers listed inside one marker's brackets ("1, 3-5" -> [1, 3, 4, 5]), each once. A leading
    minus ("[-1]", which models write) gives a negative number: a marker that points to no source."""
    if body.lstrip().startswith("-"):
        return [-int(n) for n in re.findall(r"\d+", body)[:1]]
    numbers: list[int] = []
    for part in re.split(r"\s*(?:,|;|and)\s*", body):
        bounds = [int(n) for n in re.findall(r"\d+", part)]
        if len(bounds) == 2 and 0 <= bounds[1] - bounds[0] <= MAX_RANGE:
            numbers.extend(range(bounds[0], bounds[1] + 1))
        else:
            numbers.extend(bounds)
    return list(dict.fromkeys(numbers))


def find_markers(text: str) -> list[Marker]:
    """Every citation marker in `text`, in order, with the source numbers it lists."""
    return [Marker(m.start(), m.end(), marker_numbers(m.group(1))) for m in MARKER.finditer(text)]


def has_marker(text: str) -> bool:
    return MARKER.search(text) is not None


def strip_markers(text: str) -> str:
    """The text with every marker removed (spacing left as it was; callers normalise it)."""
    return MARKER.sub("", text)
