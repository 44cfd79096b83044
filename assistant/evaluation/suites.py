"""Suite files: questions with gold answers and gold evidence, loaded and checked before anything runs.

Three formats, one meaning:
- JSON Lines (`*.jsonl`, the format of ../shared/datasets/*.qa.jsonl): one object per line with `id`, `question`,
  `answers` [...], `evidence` [{"doc_id", "quote"} or {"doc_id", "paragraph"}], `answerable`, `meta`, and
  optionally `history`: the conversation before the question, as the earlier user questions (strings) or as
  messages ({"role": "user"|"assistant", "content"}); the question is then asked as a follow-up.
- CSV, for spreadsheets: columns `id, question, answers, answerable, doc_id, paragraph, quote, history`; several
  answers, paragraph numbers or earlier questions are separated by `|`.
- YAML, for hand-written suites: a list of questions, or a mapping with `questions:` plus suite fields
  (`name`, `corpus`, `licence`, `attribution`, `description`).

Suite-level fields may also sit in a sidecar `<stem>.suite.json` next to the file (so a JSON Lines suite stays
one question per line with no header). The corpus a suite names is resolved relative to the suite file, then its
parent folders, then the working directory, so `"corpus": "seeds/"` works from anywhere in a checkout.

Every problem is reported as `file:line: field: what is wrong`, all of them at once, because a suite is usually
fixed in one sitting and a one-error-per-run loop wastes it.
"""

from __future__ import annotations

import csv
import difflib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

Key = tuple[str, int]
FIELDS = ("id", "question", "answers", "evidence", "answerable", "meta", "history")
CSV_COLUMNS = ("id", "question", "answers", "answerable", "doc_id", "paragraph", "quote", "history")
SUITE_FIELDS = ("name", "corpus", "licence", "license", "attribution", "source", "description", "questions")
SUFFIXES = (".qa.jsonl", ".jsonl", ".csv", ".yaml", ".yml")
MAX_LISTED = 50  # problems listed in one error message


class SuiteError(ValueError):
    """A suite that cannot be run as written; `problems` holds every (file, line, field, message)."""

    def __init__(self, problems: list[tuple[str, int | None, str, str]]) -> None:
        self.problems = problems
        lines = [f"{f}:{line}: {fld}: {msg}" if line else f"{f}: {fld}: {msg}" for f, line, fld, msg in problems]
        if len(lines) > MAX_LISTED:
            lines = lines[:MAX_LISTED] + [f"... and {len(lines) - MAX_LISTED} more problem(s)"]
        super().__init__("\n".join(lines))


@dataclass(frozen=True)
class Evidence:
    """A gold paragraph, named by a copy of its text (`quote`) or by its 1-based number in the document."""

    doc_id: str
    quote: str | None = None
    paragraph: int | None = None


@dataclass
class Case:
    id: str
    question: str
    answers: list[str]
    evidence: list[Evidence]
    answerable: bool
    meta: dict[str, Any]
    line: int
    history: list[dict[str, str]] = field(default_factory=list)  # earlier turns as messages, oldest first


@dataclass
class Suite:
    path: Path
    name: str
    cases: list[Case]
    corpus: str | None = None  # as the suite names it (unresolved)
    info: dict[str, Any] = field(default_factory=dict)  # licence, attribution, description, source

    @property
    def answerable(self) -> int:
        return sum(c.answerable for c in self.cases)

    def corpus_path(self, override: str | Path | None = None) -> Path:
        """The corpus to index: `override` (--corpus) if given, else the one the suite names."""
        if override is not None:
            path = Path(override).expanduser()
            if not path.exists():
                raise FileNotFoundError(f"corpus not found: {override}")
            return path.resolve()
        if not self.corpus:
            raise SuiteError([(str(self.path), None, "corpus",
                               "the suite names no corpus: pass --corpus PATH (or add \"corpus\" to the suite)")])
        named = Path(self.corpus).expanduser()
        if named.is_absolute():
            candidates = [named]
        else:
            folder = self.path.resolve().parent
            candidates = [folder / named, *(parent / named for parent in folder.parents), Path.cwd() / named]
        for candidate in candidates:
            if candidate.exists():
                return candidate.resolve()
        raise FileNotFoundError(f"corpus '{self.corpus}' named by {self.path} not found next to the suite, "
                                "in its parent folders or in the working directory: pass --corpus PATH")


# --- loading ------------------------------------------------------------------------------------------------
def stem_of(path: Path) -> str:
    name = path.name
    for suffix in SUFFIXES:
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return path.stem


def load_suite(path: str | Path) -> Suite:
    """Read and check a suite file; raises SuiteError naming every bad row, FileNotFoundError if missing."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"suite file not found: {path}")
    where = str(path)
    suffix = path.suffix.lower()
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SuiteError([(where, None, "file", f"not UTF-8 text (invalid byte at position {exc.start})")]) from None
    problems: list[tuple[str, int | None, str, str]] = []
    header: dict[str, Any] = {}
    if suffix == ".jsonl":
        records = _jsonl_records(text, where, problems)
    elif suffix == ".csv":
        records = _csv_records(text, where, problems)
    elif suffix in (".yaml", ".yml"):
        records, header = _yaml_records(text, where, problems)
    else:
        raise SuiteError([(where, None, "file", f"unknown suite format '{suffix}' (use .jsonl, .csv or .yaml)")])
    sidecar = path.with_name(stem_of(path) + ".suite.json")
    if sidecar.is_file():
        try:
            extra = json.loads(sidecar.read_text(encoding="utf-8"))
            if not isinstance(extra, dict):
                raise ValueError("expected a JSON object")
        except ValueError as exc:
            problems.append((str(sidecar), None, "file", f"invalid suite sidecar ({exc})"))
        else:
            header = {**extra, **header}
    cases = [case for line, record in records if (case := _case(record, where, line, problems)) is not None]
    if not records and not problems:
        problems.append((where, None, "file", "the suite has no questions"))
    _check_unique_ids(cases, where, problems)
    corpus = header.get("corpus") or _row_corpus(cases, where, problems)
    if problems:
        raise SuiteError(problems)
    info = {k: header[k] for k in ("licence", "license", "attribution", "source", "description") if k in header}
    if "license" in info:
        info.setdefault("licence", info.pop("license"))
    return Suite(path, str(header.get("name") or stem_of(path)), cases, corpus, info)


def _jsonl_records(text: str, where: str, problems: list) -> list[tuple[int, Any]]:
    records = []
    for line_no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append((line_no, json.loads(line)))
        except json.JSONDecodeError as exc:
            problems.append((where, line_no, "json", f"invalid JSON ({exc.msg} at column {exc.colno})"))
    return records


def _csv_records(text: str, where: str, problems: list) -> list[tuple[int, Any]]:
    reader = csv.DictReader(text.splitlines(keepends=True))
    columns = [c.strip() for c in (reader.fieldnames or [])]
    unknown = [c for c in columns if c not in CSV_COLUMNS]
    for column in unknown:
        problems.append((where, 1, column, f"unknown column{_hint(column, CSV_COLUMNS)} "
                                           f"(columns: {', '.join(CSV_COLUMNS)})"))
    if "question" not in columns:
        problems.append((where, 1, "question", "the header has no 'question' column"))
    if unknown or "question" not in columns:
        return []
    records = []
    for row in reader:
        line_no = reader.line_num
        row = {(k or "").strip(): (v or "").strip() for k, v in row.items() if k is not None}
        if not any(row.values()):
            continue
        record: dict[str, Any] = {"question": row.get("question", "")}
        if row.get("id"):
            record["id"] = row["id"]
        record["answers"] = _split(row.get("answers", ""))
        if row.get("answerable"):
            record["answerable"] = _csv_bool(row["answerable"])
        doc_id, paragraphs, quote = row.get("doc_id", ""), _split(row.get("paragraph", "")), row.get("quote", "")
        evidence: list[dict[str, Any]] = []
        if paragraphs or quote or doc_id:
            evidence += [{"doc_id": doc_id, "paragraph": _csv_int(p)} for p in paragraphs]
            if quote:
                evidence.append({"doc_id": doc_id, "quote": quote})
            if not paragraphs and not quote:
                evidence.append({"doc_id": doc_id})
        record["evidence"] = evidence
        if row.get("history"):
            record["history"] = _split(row["history"])
        records.append((line_no, record))
    return records


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split("|") if part.strip()] if value else []


def _csv_bool(value: str) -> Any:
    lowered = value.strip().lower()
    if lowered in ("true", "yes", "y", "1"):
        return True
    if lowered in ("false", "no", "n", "0"):
        return False
    return value  # reported as "expected true or false" by _case


def _csv_int(value: str) -> Any:
    return int(value) if re.fullmatch(r"\d+", value) else value


class _LineLoader(yaml.SafeLoader):
    """A safe loader that remembers the line every mapping starts on, so errors can point at it."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict:
    mapping = loader.construct_mapping(node, deep=True)
    mapping["__line__"] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _yaml_records(text: str, where: str, problems: list) -> tuple[list[tuple[int, Any]], dict[str, Any]]:
    try:
        data = yaml.load(text, Loader=_LineLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        reason = getattr(exc, "problem", None) or exc
        problems.append((where, mark.line + 1 if mark else None, "yaml", f"invalid YAML ({reason})"))
        return [], {}
    header: dict[str, Any] = {}
    if isinstance(data, dict):
        header = {k: v for k, v in data.items() if k != "__line__"}
        for key in header:
            if key not in SUITE_FIELDS:
                hint = _hint(str(key), SUITE_FIELDS)
                problems.append((where, data["__line__"], str(key), f"unknown suite field{hint}"))
        data = header.pop("questions", None)
        if not isinstance(data, list):
            problems.append((where, None, "questions", "expected a list of questions under 'questions:'"))
            return [], header
    elif not isinstance(data, list):
        problems.append((where, None, "file", "expected a list of questions, or a mapping with 'questions:'"))
        return [], {}
    records = []
    for item in data:
        line = item.pop("__line__", None) if isinstance(item, dict) else None
        records.append((line or 0, _strip_lines(item)))
    return records, _strip_lines(header)


def _strip_lines(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_lines(v) for k, v in value.items() if k != "__line__"}
    if isinstance(value, list):
        return [_strip_lines(v) for v in value]
    return value


def _hint(name: str, choices: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(name, choices, n=1)
    return f" '{name}' (did you mean '{close[0]}'?)" if close else f" '{name}'"


# --- checking one question ---------------------------------------------------------------------------------
def _case(record: Any, where: str, line: int, problems: list) -> Case | None:
    def bad(fld: str, msg: str) -> None:
        problems.append((where, line or None, fld, msg))

    if not isinstance(record, dict):
        bad("row", f"expected an object with a 'question', got {type(record).__name__}")
        return None
    before = len(problems)
    for key in record:
        if key not in FIELDS:
            bad(str(key), f"unknown field{_hint(str(key), FIELDS)} (fields: {', '.join(FIELDS)})")
    question = record.get("question")
    if not isinstance(question, str) or not question.strip():
        bad("question", "missing or empty: every row needs the question text")
    answers = record.get("answers", [])
    if isinstance(answers, str):
        answers = [answers]
    if not isinstance(answers, list) or not all(isinstance(a, (str, int, float)) and str(a).strip() for a in answers):
        bad("answers", "expected a list of non-empty strings")
        answers = []
    answers = [str(a) for a in answers]
    evidence = _evidence(record.get("evidence", []), bad)
    answerable = record.get("answerable", bool(answers or evidence))
    if not isinstance(answerable, bool):
        bad("answerable", f"expected true or false, got {answerable!r}")
    elif not answerable and (answers or evidence):
        bad("answerable", "false, but the row has answers or evidence (unanswerable rows have neither)")
    elif answerable and not answers and not evidence:
        bad("answerable", "true, but the row has neither answers nor evidence to score against")
    meta = record.get("meta", {})
    if not isinstance(meta, dict):
        bad("meta", "expected an object")
    history = _history(record.get("history", []), bad)
    raw_id = record.get("id")
    if raw_id is not None and (not isinstance(raw_id, (str, int)) or not str(raw_id).strip()):
        bad("id", "expected a non-empty string")
    if len(problems) > before:
        return None
    case_id = str(raw_id) if raw_id is not None else f"line-{line}"
    return Case(case_id, " ".join(question.split()), answers, evidence, answerable, dict(meta), line, history)


def _history(value: Any, bad) -> list[dict[str, str]]:
    """Earlier turns: user questions as strings, or {"role": "user"|"assistant", "content": text} messages."""
    if not isinstance(value, list):
        bad("history", "expected a list of earlier questions (strings) or {role, content} messages")
        return []
    turns: list[dict[str, str]] = []
    for i, item in enumerate(value):
        if isinstance(item, str) and item.strip():
            turns.append({"role": "user", "content": item})
        elif (isinstance(item, dict) and item.get("role") in ("user", "assistant")
              and isinstance(item.get("content"), str) and item["content"].strip() and set(item) <= {"role", "content"}):
            turns.append({"role": item["role"], "content": item["content"]})
        else:
            bad(f"history[{i}]", "expected a question (string) or {\"role\": \"user\"|\"assistant\", \"content\": text}")
    return turns


def _evidence(value: Any, bad) -> list[Evidence]:
    if not isinstance(value, list):
        bad("evidence", "expected a list of {doc_id, quote} or {doc_id, paragraph} objects")
        return []
    out: list[Evidence] = []
    for i, item in enumerate(value):
        fld = f"evidence[{i}]"
        if not isinstance(item, dict):
            bad(fld, "expected an object with doc_id and quote (or paragraph)")
            continue
        unknown = [k for k in item if k not in ("doc_id", "quote", "paragraph")]
        if unknown:
            bad(f"{fld}.{unknown[0]}", "unknown field (evidence has doc_id, and quote or paragraph)")
        doc_id = item.get("doc_id")
        if not isinstance(doc_id, str) or not doc_id.strip():
            bad(f"{fld}.doc_id", "missing or empty")
            continue
        quote, paragraph = item.get("quote"), item.get("paragraph")
        if quote is not None and paragraph is not None:
            bad(fld, "give quote or paragraph, not both")
        elif quote is not None:
            if not isinstance(quote, str) or not quote.strip():
                bad(f"{fld}.quote", "expected the paragraph's text")
            else:
                out.append(Evidence(doc_id, quote=quote))
        elif paragraph is not None:
            numbers = paragraph if isinstance(paragraph, list) else [paragraph]
            for number in numbers:
                if isinstance(number, bool) or not isinstance(number, int) or number < 1:
                    bad(f"{fld}.paragraph", f"expected a paragraph number (1 or more), got {number!r}")
                else:
                    out.append(Evidence(doc_id, paragraph=number))
        else:
            bad(fld, "needs a quote (the paragraph's text) or a paragraph number")
    return out


def _check_unique_ids(cases: list[Case], where: str, problems: list) -> None:
    seen: dict[str, int] = {}
    for case in cases:
        if case.id in seen:
            problems.append((where, case.line, "id", f"'{case.id}' is already used on line {seen[case.id]}"))
        else:
            seen[case.id] = case.line


def _row_corpus(cases: list[Case], where: str, problems: list) -> str | None:
    named = {c.meta["corpus"]: c.line for c in cases if isinstance(c.meta.get("corpus"), str)}
    if len(named) > 1:
        (first, line1), (second, line2) = list(named.items())[:2]
        problems.append((where, line2, "meta.corpus", f"'{second}' differs from '{first}' on line {line1}: "
                                                      "one suite, one corpus"))
    return next(iter(named), None)
