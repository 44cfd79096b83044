"""The citation check: every marker in a generated answer is tied to a paragraph and tested against it.

Why: a model's `[2]` is only a claim that source 2 says what the sentence says. llama-index's
CitationQueryEngine numbers sources and trusts the model; here every marker is parsed, mapped to the paragraph
that was shown to the model under that number, and the sentence it ends is scored against that paragraph.

How a citation is scored (`CitationChecker.support`), for the claim (the sentence, or the part of it before a
mid-sentence marker) and the cited paragraph:
- `lex`: IDF-weighted share of the claim's content terms (stemmed, stop words out) found in the paragraph;
- `dense`: best cosine similarity between the claim and one sentence of the paragraph (MiniLM);
- `lex_margin`, `dense_margin`: how the cited paragraph compares with the best *other* source in the prompt.
  A model that cites [3] for a fact that only [1] contains is the common failure; the margin catches it even
  when both paragraphs are about the same subject;
- `missing`: the rarest claim term the paragraph lacks (names, numbers, dates), relative to the claim's rarest.
A logistic model over these (scorer.LinearScorer) gives a support probability; below `threshold` the citation is
unsupported. The weights and threshold (assistant/data/citation_check.json) were fitted on SQuAD 2.0 *train*
questions (training/tune_citation_check.py) and are measured on the dev questions; see
benchmarks/results/citation_check.json.

A sentence that cites several sources ("X and Y [1][2]") may be supported only jointly: each citation then
passes if the cited paragraphs together support the sentence and this paragraph contributes a fair share of
its terms. Very short claims ("Normandy [1].") are scored together with the question they answer.
A marker that points to no source is removed from the text and reported; it never raises.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np

from pydantic import BaseModel, ConfigDict

from assistant.answering.scorer import LinearScorer, load_weights_file
from assistant.config.settings import PACKAGE_DATA
from assistant.text.terms import Idf, coverage, split_sentences, terms
from assistant.text.markers import Marker, find_markers
from assistant.types import Citation, Context

WEIGHTS_FILE = PACKAGE_DATA / "citation_check.json"
SHORT_CLAIM_TERMS = 4  # claims with fewer content terms are scored together with the question
SEGMENT_MIN_TERMS = 2  # a part of a sentence cut at a mid-sentence marker needs this many terms to stand alone
JOINT_SHARE = 0.15  # in a jointly supported sentence, the least share of its term weight a source must cover
UNSUPPORTED_TAG = "[unsupported]"  # follows, in the answer's text, each sentence no verified citation supports
STATEMENT_TERMS = 2  # a sentence with fewer content terms ("In short:", "Yes.") states nothing to check


@dataclass
class Claim:
    """A stretch of the answer and the sources its marker(s) cite."""

    text: str  # markers removed
    numbers: list[int]
    markers: list[Marker]
    sentence: int = 0  # which sentence of the answer it belongs to (`Sentence`)


@dataclass
class Sentence:
    """One sentence of an answer: where it ends (after its own markers), its text without markers."""

    end: int
    text: str


@dataclass
class CheckResult:
    text: str  # the answer text, with markers that point nowhere (or, under policy 'drop', unsupported) removed
    citations: list[Citation] = field(default_factory=list)
    unsupported: bool = False  # no citation is supported
    notes: list[str] = field(default_factory=list)
    checked: int = 0  # marker occurrences scored
    failed: int = 0  # of those, unsupported
    out_of_range: list[int] = field(default_factory=list)
    unsupported_sentences: list[str] = field(default_factory=list)  # marked UNSUPPORTED_TAG in `text`


def _blank(text: str, markers: list[Marker]) -> str:
    chars = list(text)
    for m in markers:
        chars[m.start:m.end] = " " * (m.end - m.start)
    return "".join(chars)


def _tidy(text: str) -> str:
    text = re.sub(r"[ \t]+", " ", text)
    text = re.sub(r" +([.,;:!?)])", r"\1", text)
    return text.strip()


def split_claims(text: str) -> tuple[list[Claim], int]:
    """The cited claims of an answer, and how many sentences cite nothing."""
    claims, sentences = claims_and_sentences(text)
    return claims, len(sentences) - len({c.sentence for c in claims})


def claims_and_sentences(text: str) -> tuple[list[Claim], list[Sentence]]:
    """The cited claims of an answer, and every sentence of it (each claim names its sentence).

    Sentences are found with markers blanked out (so "fact.[1] Next" and "fact [1]. Next" split alike); a
    marker after a sentence's end belongs to that sentence. Inside a sentence, adjacent markers form one group;
    a sentence with several groups is cut after each group ("A [1], and B [2].") when the part is long enough
    to be a claim of its own, else the whole sentence is the claim.
    """
    markers = find_markers(text)
    blank = _blank(text, markers)
    sentences: list[tuple[int, int]] = []
    for line in re.finditer(r"[^\n]+", blank):
        sentences.extend((line.start() + s, line.start() + e) for s, e in split_sentences(line.group(0)))
    sentences = [(s, e) for s, e in sentences if re.search(r"\w", blank[s:e])]
    owner: dict[int, list[Marker]] = {}
    for m in markers:
        index = 0
        for i, (s, _e) in enumerate(sentences):
            if s <= m.start:
                index = i
        owner.setdefault(index, []).append(m)
    claims: list[Claim] = []
    records: list[Sentence] = []
    for i, (s, e) in enumerate(sentences):
        own = owner.get(i, [])
        records.append(Sentence(max(e, own[-1].end) if own else e, _tidy(blank[s:max(e, own[-1].end)] if own
                                                                          else blank[s:e])))
        if not own:
            continue
        groups: list[list[Marker]] = []
        for m in own:
            if groups and not re.search(r"\w", blank[groups[-1][-1].end:m.start]):
                groups[-1].append(m)
            else:
                groups.append([m])
        whole = _tidy(blank[s:max(e, own[-1].end)])
        cursor = s
        for g, group in enumerate(groups):
            part = _tidy(blank[cursor:group[0].start])
            if g == len(groups) - 1:
                part = _tidy(blank[cursor:max(e, group[-1].end)])
            if len(groups) == 1 or len(terms(part)) < SEGMENT_MIN_TERMS:
                part = whole
            numbers = list(dict.fromkeys(n for m in group for n in m.numbers))
            claims.append(Claim(part, numbers, group, i))
            cursor = group[-1].end
    return claims, records


class CitationWeights(BaseModel):
    """assistant/data/citation_check.json."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    about: str
    fitted_on: str
    scorer: LinearScorer
    threshold: float  # a citation whose support probability is below this is unsupported


def load_citation_weights(path=WEIGHTS_FILE) -> CitationWeights:
    return load_weights_file(path, CitationWeights)


class SentenceVectors:
    """MiniLM vectors of claims and paragraph sentences, cached by text across answers (thread-safe: the web UI may
    check two answers at once). One per Assistant; each question's CitationChecker reads through it."""

    def __init__(self, embedder, cache_size: int = 20000) -> None:
        self.embedder = embedder
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def __call__(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 1), dtype=np.float32)
        with self._lock:
            missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        fresh = dict(zip(missing, self.embedder.embed(missing))) if missing else {}
        with self._lock:
            self._cache.update(fresh)
            rows = [self._cache[t] for t in texts]
            for t in texts:
                self._cache.move_to_end(t)
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return np.stack(rows)


class CitationChecker:
    """Scores claims against paragraphs, for one question: `idf` is that question's index's IDF table. Cheap to
    make: the vectors it needs come through `vectors`, which outlives it."""

    def __init__(self, vectors: SentenceVectors, idf: Idf, weights: CitationWeights | None = None,
                 threshold: float | None = None) -> None:
        self.vectors = vectors
        self.idf = idf
        self.weights = weights or load_citation_weights()
        self.threshold = self.weights.threshold if threshold is None else threshold

    def _sentences(self, paragraph: str) -> list[tuple[int, int]]:
        return split_sentences(paragraph) or [(0, len(paragraph))]

    # --- features -----------------------------------------------------------------------------------
    def claim_text(self, claim: str, question: str = "") -> str:
        if question and len(set(terms(claim))) < SHORT_CLAIM_TERMS:
            return f"{question} {claim}"
        return claim

    def features(self, claim: str, paragraphs: list[str], question: str = "") -> list[dict[str, float]]:
        """Feature dicts for the claim against each paragraph (margins are against the other paragraphs)."""
        text = self.claim_text(claim, question)
        c_terms = list(dict.fromkeys(terms(text)))
        weights = {t: self.idf(t) for t in c_terms}
        rarest = max(weights.values(), default=1.0)
        spans = [self._sentences(p) for p in paragraphs]
        sentence_texts = [p[s:e] for p, sp in zip(paragraphs, spans) for s, e in sp]
        vectors = self.vectors([text] + sentence_texts)
        sims = vectors[1:] @ vectors[0] if sentence_texts else np.zeros(0)
        rows: list[dict[str, float]] = []
        offset = 0
        for paragraph, sp in zip(paragraphs, spans):
            p_terms = set(terms(paragraph))
            missing = [weights[t] for t in c_terms if t not in p_terms]
            rows.append({
                "lex": coverage(c_terms, p_terms, self.idf),
                "dense": float(sims[offset:offset + len(sp)].max()) if sp else 0.0,
                "missing": (max(missing) / rarest) if missing else 0.0,
            })
            offset += len(sp)
        for i, row in enumerate(rows):
            others = [r for j, r in enumerate(rows) if j != i]
            row["lex_margin"] = row["lex"] - max((r["lex"] for r in others), default=row["lex"])
            row["dense_margin"] = row["dense"] - max((r["dense"] for r in others), default=row["dense"])
            row["lex_margin"] = min(row["lex_margin"], 0.0) if others else 0.0
            row["dense_margin"] = min(row["dense_margin"], 0.0) if others else 0.0
        return rows

    def probability(self, features: dict[str, float]) -> float:
        return self.weights.scorer.probability(features)

    def quote_span(self, claim: str, paragraph: str) -> tuple[int, int]:
        """The sentence (or two adjacent sentences) of `paragraph` that best supports `claim`."""
        spans = self._sentences(paragraph)
        if len(spans) == 1:
            return spans[0]
        c_terms = terms(claim)
        vectors = self.vectors([claim] + [paragraph[s:e] for s, e in spans])
        sims = vectors[1:] @ vectors[0]
        scores = [0.5 * float(sim) + 0.5 * coverage(c_terms, set(terms(paragraph[s:e])), self.idf)
                  for sim, (s, e) in zip(sims, spans)]
        best = int(np.argmax(scores))
        start, end = spans[best]
        have = coverage(c_terms, set(terms(paragraph[start:end])), self.idf)
        for neighbour in (best - 1, best + 1):
            if 0 <= neighbour < len(spans):
                s, e = min(start, spans[neighbour][0]), max(end, spans[neighbour][1])
                if coverage(c_terms, set(terms(paragraph[s:e])), self.idf) >= have + 0.2:
                    return s, e
        return start, end

    # --- the check ----------------------------------------------------------------------------------
    def check(self, text: str, sources: list[Context], question: str = "", policy: str = "flag") -> CheckResult:
        """Parse, map and score every marker of `text` against `sources` ([i] is sources[i-1])."""
        claims, sentences = claims_and_sentences(text)
        result = CheckResult(text)
        verified_sentences: set[int] = set()
        paragraphs = [c.text for c in sources]
        remove: list[Marker] = []
        # number -> list of (probability, claim text, verified)
        uses: dict[int, list[tuple[float, str, bool]]] = {}
        bad_occurrences: set[tuple[int, int]] = set()  # (id(marker), number) judged unsupported
        for claim in claims:
            valid = [n for n in claim.numbers if 1 <= n <= len(sources)]
            for n in claim.numbers:
                if n not in valid and n not in result.out_of_range:
                    result.out_of_range.append(n)
            if not valid:
                remove.extend(claim.markers)
                continue
            rows = self.features(claim.text, paragraphs, question) if paragraphs else []
            probs = {n: self.probability(rows[n - 1]) for n in valid}
            joint_ok = set()
            if len(valid) > 1:
                joint_ok = self._joint(claim.text, [paragraphs[n - 1] for n in valid], valid, paragraphs, question)
            for n in valid:
                ok = probs[n] >= self.threshold or n in joint_ok
                uses.setdefault(n, []).append((probs[n], claim.text, ok))
                result.checked += 1
                if ok:
                    verified_sentences.add(claim.sentence)
                if not ok:
                    result.failed += 1
                    for m in claim.markers:
                        if n in m.numbers:
                            bad_occurrences.add((id(m), n))
        if result.out_of_range:
            listed = ", ".join(f"[{n}]" for n in sorted(result.out_of_range))
            one = len(result.out_of_range) == 1
            result.notes.append(f"The model cited {listed}, which {'points' if one else 'point'} to no source in "
                                f"the prompt; {'that marker was' if one else 'those markers were'} removed.")
        # Rewrite the markers: drop numbers that point nowhere (and, under 'drop', unsupported ones).
        edits: list[tuple[int, int, str]] = []
        for claim in claims:
            for m in claim.markers:
                keep = [n for n in m.numbers if 1 <= n <= len(sources)
                        and not (policy == "drop" and (id(m), n) in bad_occurrences)]
                if keep != m.numbers:
                    edits.append((m.start, m.end, "".join(f"[{n}]" for n in keep)))
        for i, sentence in enumerate(sentences):  # a statement no source verifies is marked where it stands
            if i not in verified_sentences and len(terms(sentence.text)) >= STATEMENT_TERMS:
                edits.append((sentence.end, sentence.end, f" {UNSUPPORTED_TAG}"))
                result.unsupported_sentences.append(sentence.text)
        if result.unsupported_sentences:
            n = len(result.unsupported_sentences)
            result.notes.append(f"{n} sentence{'s' if n > 1 else ''} of the answer {'have' if n > 1 else 'has'} no "
                                f"citation that its paragraph supports: marked {UNSUPPORTED_TAG}.")
        new_text = text
        for start, end, replacement in sorted(edits, key=lambda edit: (edit[0], edit[1]), reverse=True):
            new_text = new_text[:start] + replacement + new_text[end:]
        result.text = _tidy_lines(new_text) if edits else text
        dropped = 0
        for n, occurrences in uses.items():
            verified = all(ok for _p, _c, ok in occurrences)
            if policy == "drop" and not any(ok for _p, _c, ok in occurrences):
                dropped += 1
                continue
            kept = [o for o in occurrences if o[2]] if policy == "drop" else occurrences
            source = sources[n - 1]
            result.citations.append(Citation(
                marker=n, doc_id=source.doc_id, title=source.title, paragraph=source.paragraph, text=source.text,
                quote=self._quote(source.text, [c for _p, c, _ok in (kept or occurrences)]),
                score=min(p for p, _c, _ok in occurrences), verified=verified if policy == "flag" else True,
                page=source.page,
            ))
        result.citations.sort(key=lambda c: c.marker)
        if dropped:
            result.notes.append(f"{dropped} citation(s) were removed: the cited paragraph does not support "
                                "the sentence.")
        elif result.failed and policy == "flag":
            result.notes.append(f"{result.failed} of {result.checked} citation(s) are not supported by the "
                                "paragraph they cite (flagged).")
        result.unsupported = not any(c.verified for c in result.citations)
        return result

    def _joint(self, claim: str, cited: list[str], numbers: list[int], paragraphs: list[str],
               question: str) -> set[int]:
        """Citations of a multi-cited claim that pass because the cited paragraphs support it together."""
        together = "\n".join(cited)
        others = [p for i, p in enumerate(paragraphs, start=1) if i not in numbers]
        rows = self.features(claim, [together] + others, question)
        if self.probability(rows[0]) < self.threshold:
            return set()
        c_terms = set(terms(self.claim_text(claim, question)))
        total = sum(self.idf(t) for t in c_terms) or 1.0
        passed = set()
        for n, paragraph in zip(numbers, cited):
            share = sum(self.idf(t) for t in c_terms & set(terms(paragraph))) / total
            if share >= JOINT_SHARE:
                passed.add(n)
        return passed

    def _quote(self, paragraph: str, claims: list[str]) -> str:
        spans = sorted({self.quote_span(c, paragraph) for c in dict.fromkeys(claims)})
        merged: list[list[int]] = []
        for s, e in spans:
            if merged and s <= merged[-1][1] + 1:
                merged[-1][1] = max(merged[-1][1], e)
            else:
                merged.append([s, e])
        return " … ".join(paragraph[s:e] for s, e in merged)


def _tidy_lines(text: str) -> str:
    return "\n".join(_tidy(line) if line.strip() else "" for line in text.split("\n")).strip()
