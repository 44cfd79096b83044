"""Which sentences may be quoted as an answer: not the furniture of a document.

A reader checks an answer by its quote. Headings, Markdown `#` lines, table and figure captions, navigation
menus, footers and copyright lines are true text of the document, but they state nothing: a heading that repeats
the question's words ("Iran takes root in eastern Syria") looks like an answer to a word-overlap ranker and
proves nothing. So they may help retrieval find a paragraph, and are never quoted.
"""

from __future__ import annotations

import re

from assistant.text.terms import words
from assistant.text.furniture import COPYRIGHT

HEADING_WORDS = 12  # a paragraph this short with no sentence end reads as a title, a menu item or a caption
_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*\s*$")
_MARKDOWN_HEADING = re.compile(r"^\s*#{1,6}\s")
_CAPTION = re.compile(r"^\s*(?:(?:table|figure|fig\.?|chart|exhibit|graph|plate)\s+(?:\d+|[ivxlc]+)(?:\.\d+)?\s*[.:–—-]"
                      r"|(?:source|photo|image|credit|caption)s?\s*:)", re.IGNORECASE)
_NAVIGATION = re.compile(r"\b(?:skip to (?:main )?content|back to top|sign (?:in|up)|log ?in|subscribe|newsletter|"
                         r"privacy policy|terms of (?:use|service)|cookie (?:policy|settings)|contact us|about us|"
                         r"follow us|share (?:this|on)|read more|click here|all rights reserved|site ?map)\b",
                         re.IGNORECASE)
_SEPARATORS = re.compile(r"\s[|•·›»]\s")
_FIELD = re.compile(r"^[^:|]{1,40}:\s*\S")  # "Keeper: Hanna Voss", one cell of a table row the readers wrote


def is_table_row(sentence: str) -> bool:
    """A spreadsheet or table row as the readers write it ("Lighthouse: Kelvara Point | Keeper: Hanna Voss"):
    separated like a menu, but every cell is a labelled value, so it states facts."""
    cells = _SEPARATORS.split(sentence.strip())
    return len(cells) > 1 and all(_FIELD.match(cell) for cell in cells)


def is_heading(text: str) -> bool:
    """A title line: a Markdown `#` line, or a short text (at most 12 words) with no sentence-ending punctuation."""
    stripped = text.strip()
    if _MARKDOWN_HEADING.match(stripped):
        return True
    return len(words(stripped)) <= HEADING_WORDS and not _SENTENCE_END.search(stripped)


def is_furniture(sentence: str) -> bool:
    """A caption, a copyright line or a navigation/footer line (a menu, 'Privacy Policy | Terms of Use')."""
    if _CAPTION.match(sentence) or COPYRIGHT.search(sentence):
        return True
    menu = len(_SEPARATORS.findall(sentence)) >= 2 and not is_table_row(sentence)
    return len(_NAVIGATION.findall(sentence)) >= 2 or menu or bool(_NAVIGATION.match(sentence.strip()))


def quotable(sentence: str, paragraph: str) -> bool:
    """May `sentence`, a sentence of `paragraph`, be quoted as (part of) an answer?"""
    return not (is_heading(paragraph) or _MARKDOWN_HEADING.match(sentence) or is_furniture(sentence))
