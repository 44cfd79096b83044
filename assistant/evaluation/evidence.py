"""Gold evidence -> (doc_id, paragraph) keys of the corpus, as the readers split it into paragraphs.

Why match by text: a suite written against a corpus names its evidence by copying the paragraph (the datasets'
format) or by number (hand-written suites). Text survives re-numbering (a paragraph inserted above); matching is
exact first, then whitespace-normalised, then by containment, so a copied sentence or a quote spanning two
paragraphs still resolves. Evidence that matches nothing is an error, not a silent zero.
"""

from __future__ import annotations

import difflib
from pathlib import Path

from assistant.evaluation.suites import Key, Suite, SuiteError
from assistant.types import Document


def _squash(text: str) -> str:
    return " ".join(text.split())


def map_evidence(suite: Suite, documents: list[Document], corpus: Path | str = "the corpus") -> dict[str, list[Key]]:
    """Each question's gold evidence as (doc_id, paragraph) keys of the corpus as the readers split it.

    A quote matches the paragraph with exactly that text; failing that, the same text with whitespace normalised;
    failing that, the paragraphs that contain it (a sentence) or that it contains (a quote spanning paragraphs).
    Evidence that matches nothing is an error, not a silent zero: the suite and the corpus disagree.
    """
    by_doc = {d.doc_id: d for d in documents}
    problems: list[tuple[str, int | None, str, str]] = []
    where = str(suite.path)
    keys: dict[str, list[Key]] = {}
    for case in suite.cases:
        found: list[Key] = []
        for i, ev in enumerate(case.evidence):
            doc = by_doc.get(ev.doc_id)
            if doc is None:
                close = difflib.get_close_matches(ev.doc_id, list(by_doc), n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                problems.append((where, case.line, f"evidence[{i}].doc_id",
                                 f"'{ev.doc_id}' is not a document of {corpus}{hint}"))
                continue
            if ev.paragraph is not None:
                if ev.paragraph > len(doc.paragraphs):
                    problems.append((where, case.line, f"evidence[{i}].paragraph", f"{ev.paragraph} is past the end "
                                     f"of '{ev.doc_id}' ({len(doc.paragraphs)} paragraphs)"))
                    continue
                matched = [ev.paragraph]
            else:
                matched = match_quote(ev.quote or "", doc)
                if not matched:
                    problems.append((where, case.line, f"evidence[{i}].quote",
                                     f"no paragraph of '{ev.doc_id}' has or contains this text: "
                                     f"\"{_squash(ev.quote or '')[:80]}\""))
                    continue
            found += [(ev.doc_id, n) for n in matched]
        keys[case.id] = list(dict.fromkeys(found))
    if problems:
        raise SuiteError(problems)
    return keys


def match_quote(quote: str, doc: Document) -> list[int]:
    """Paragraph numbers of `doc` that the quote names (see map_evidence)."""
    exact = [p.number for p in doc.paragraphs if p.text == quote]
    if exact:
        return exact[:1]
    squashed = _squash(quote)
    if not squashed:
        return []
    texts = [(p.number, _squash(p.text)) for p in doc.paragraphs]
    same = [n for n, t in texts if t == squashed]
    if same:
        return same[:1]
    inside = [n for n, t in texts if squashed in t]
    if inside:
        return inside
    return [n for n, t in texts if len(t) > 20 and t in squashed]
