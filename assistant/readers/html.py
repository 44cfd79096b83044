"""HTML: a paragraph is a block element (p, h1-h6, li, blockquote, pre, td, ...) holding text directly."""

from __future__ import annotations

from pathlib import Path

from bs4 import BeautifulSoup, NavigableString, Tag

from assistant.models import Document
from assistant.readers.base import ReaderError, build_document, join_blocks, normalise_space, read_utf8

BLOCKS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre", "td", "th", "dd", "dt",
          "figcaption", "caption", "div", "section", "article", "main", "header", "footer", "aside",
          "address", "summary", "body"}
SKIP = {"script", "style", "noscript", "template", "head", "nav", "svg", "form", "button"}


def _blocks(node: Tag, out: list[str]) -> None:
    """Collect text runs, starting a new paragraph at every block element boundary."""
    current: list[str] = []

    def flush() -> None:
        text = normalise_space(" ".join(current))
        if text:
            out.append(text)
        current.clear()

    for child in node.children:
        if isinstance(child, NavigableString):
            if type(child) is NavigableString:  # not a Comment / CData / Doctype
                current.append(str(child))
        elif isinstance(child, Tag):
            if child.name in SKIP:
                continue
            if child.name in BLOCKS or child.name in {"ul", "ol", "table", "tr", "tbody", "thead", "dl"}:
                flush()
                _blocks(child, out)
            elif child.name == "br":
                current.append(" ")
            else:
                current.append(child.get_text(" "))
    flush()


def read_html(path: Path, doc_id: str) -> Document:
    soup = BeautifulSoup(read_utf8(path), "html.parser")
    if soup.title and soup.title.string and soup.title.string.strip():
        title = normalise_space(soup.title.string)
    elif soup.find("h1"):
        title = normalise_space(soup.find("h1").get_text(" "))
    else:
        title = path.stem
    blocks: list[str] = []
    _blocks(soup.body or soup, blocks)
    if not blocks:
        raise ReaderError("no text found in the HTML")
    text, spans = join_blocks(blocks)
    return build_document(doc_id, title, text, spans, str(path.resolve()))
