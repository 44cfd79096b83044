"""Sentence splitting with offsets and content-term extraction, shared by the answerer and the citation check."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache

_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’\-]*")
_END = re.compile(r"""[.!?…]+["'”’)\]]*\s+(?=["'“‘(\[]?[A-Z0-9])""")
_ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "mt", "col", "gen", "lt", "sgt", "capt", "cmdr", "adm",
    "gov", "sen", "rep", "rev", "hon", "pres", "vs", "etc", "inc", "ltd", "co", "corp", "no", "fig", "jan",
    "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "u.s", "u.k", "e.g", "i.e",
    "approx", "dept", "est", "al", "ft", "vol", "ch", "pp", "mph",
}
STOPWORDS = set("""
a about above after again against all am an and any are aren't as at be because been before being below between
both but by can cannot could did do does doing down during each few for from further had has have having he her
here hers herself him himself his how i if in into is it its itself let me more most my myself no nor not of off
on once only or other ought our ours ourselves out over own same she should so some such than that the their
theirs them themselves then there these they this those through to too under until up very was we were what when
where which while who whom why with would you your yours yourself yourselves will also s t did many much one
according said says say tell told whose within among upon via per yet
""".split())


def split_sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence of `text`, whitespace trimmed. Common abbreviations do not end one."""
    spans, start = [], 0
    for match in _END.finditer(text):
        word = re.search(r"([A-Za-z.]+)[.!?…]*[\"'”’)\]]*\s*$", text[start:match.end()])
        if word and word.group(1).rstrip(".").lower() in _ABBREVIATIONS:
            continue
        if word and re.fullmatch(r"[A-Z]", word.group(1).rstrip(".")):  # an initial: "John F. Kennedy"
            continue
        end = match.start() + len(match.group(0).rstrip())
        if text[start:end].strip():
            spans.append(_trim(text, start, end))
        start = match.end()
    if text[start:].strip():
        spans.append(_trim(text, start, len(text)))
    return spans


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


@lru_cache(maxsize=1)
def stemmer():
    """The one English Snowball stemmer (ours and BM25's tokens are stemmed alike)."""
    import Stemmer

    return Stemmer.Stemmer("english")


def words(text: str) -> list[str]:
    return [_normal(w) for w in _WORD.findall(text)]


def word_positions(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, str]]:
    """(offset, word) of each word in text[start:end], the words normalised as `words` gives them."""
    return [(m.start(), _normal(m.group(0))) for m in _WORD.finditer(text, start, len(text) if end is None else end)]


def _normal(word: str) -> str:
    return word.lower().replace("’", "'")


def terms(text: str) -> list[str]:
    """Stemmed content words (stop words removed): what lexical overlap is measured on."""
    kept = [w for w in words(text) if w not in STOPWORDS]
    return stemmer().stemWords(kept)


class Idf:
    """Inverse document frequencies over the indexed chunks; unseen terms count as rare."""

    def __init__(self, texts: Iterable[str]) -> None:
        df: Counter[str] = Counter()
        n = 0
        for text in texts:
            n += 1
            df.update(set(terms(text)))
        self.n = max(n, 1)
        self.df = df

    @classmethod
    def from_counts(cls, df: Counter[str], n: int) -> Idf:
        """From document frequencies counted elsewhere (assistant/index/mirror.py keeps them per document)."""
        idf = cls(())
        idf.n, idf.df = max(n, 1), df
        return idf

    def __call__(self, term: str) -> float:
        return math.log(1 + (self.n + 1) / (self.df.get(term, 0) + 0.5))


def coverage(question_terms: list[str], text_terms: set[str], idf: Idf) -> float:
    """IDF-weighted share of the question's content terms found in a text (0..1)."""
    unique = set(question_terms)
    total = sum(idf(t) for t in unique)
    return sum(idf(t) for t in unique if t in text_terms) / total if total else 0.0
