"""Helpers for the index-integrity tests: generated corpora, the real `assistant` command in a subprocess, and a
snapshot of what an index holds (documents, raw chunk rows, answers) to compare a crashed-then-repeated write
with a clean one."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

from conftest import ROOT

WORDS = ("river harbour lantern orchard granite meadow tide copper valley signal archive beacon ferry quarry mill "
         "bridge clock garden mirror violin candle saddle compass ledger furnace kettle").split()
QUESTIONS = ["What did keeper 12 record?", "What did keeper 31 record?", "What did keeper 64 record?",
             "What did keeper 43 record?", "Which valley did the ferry cross?"]


def paragraph(rng: random.Random, doc: int, number: int, version: int) -> str:
    words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(10, 40)))
    return (f"Keeper {doc}{number} recorded the {rng.choice(WORDS)} and the {rng.choice(WORDS)} in version {version}: "
            f"{words}.")


def write_corpus(folder: Path, version: int = 1, documents: int = 7, paragraphs: int = 5) -> Path:
    """Version 1: documents 0-6. Version 2: documents 1 and 3 changed, 5 deleted, 7 added; the rest unchanged."""
    folder.mkdir(parents=True, exist_ok=True)
    for path in folder.glob("*.txt"):
        path.unlink()
    numbers = list(range(documents)) if version == 1 else [n for n in range(documents + 1) if n != 5]
    for doc in numbers:
        changed = version == 2 and doc in (1, 3, 7)
        rng = random.Random(doc * 100 + (2 if changed else 1))
        text = "\n\n".join(paragraph(rng, doc, p, 2 if changed else 1) for p in range(paragraphs + (doc % 3)))
        (folder / f"doc{doc}.txt").write_text(f"Ledger {doc}\n\n{text}\n", encoding="utf-8")
    return folder


def cli(*args: str, index: Path, timeout: float = 300, kill_after_batches: int | None = None,
        **env: str) -> subprocess.CompletedProcess:
    """Run `assistant ARGS` in a fresh process on `index` (ASSISTANT_* from `env`, e.g. INGEST_WINDOW); with
    `kill_after_batches`, the process SIGKILLs itself after that many written batches (tests/kill_after.py)."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("ASSISTANT_", "OPENAI_"))}
    environ.update(ASSISTANT_INDEX_DIR=str(index), ASSISTANT_CORPUS_DIR=str(index.parent / "no-corpus"),
                   PYTHONPATH=str(ROOT))
    environ.update({f"ASSISTANT_{k.upper()}": str(v) for k, v in env.items()})
    launcher = ["-m", "assistant.cli"] if kill_after_batches is None else [
        str(Path(__file__).with_name("kill_after.py")), str(kill_after_batches)]
    return subprocess.run([sys.executable, *launcher, *args], capture_output=True, text=True,
                          timeout=timeout, env=environ, cwd=index.parent)


def raw_rows(index: Path) -> tuple[list[tuple], list[str]]:
    """(committed documents as tuples, every chunk row id) straight from the store, with no repair on open."""
    from assistant.config.settings import Settings
    from assistant.index.store import open_store

    store = open_store(Settings(index_dir=index, corpus_dir=index.parent / "no-corpus"), "minilm")
    try:
        docs = [(d.doc_id, d.paragraphs, d.chunks, d.sha256) for d in store.documents()]
        return docs, sorted(store.chunk_ids())
    finally:
        store.close()


def snapshot(assistant) -> dict:
    """What a user sees: documents with paragraph and chunk counts, every chunk row, and answers with citations."""
    from assistant.index.store import version_of

    docs = assistant.documents()
    rows = assistant.index.store.chunk_ids()
    versions = {version_of(i) for i in rows}
    answers = []
    for question in QUESTIONS:
        answer = assistant.ask(question)
        answers.append((answer.text, [(c.doc_id, c.paragraph) for c in answer.citations]))
    return {"documents": [(d.doc_id, d.title, d.paragraphs, d.chunks, d.sha256) for d in docs],
            "paragraphs": len(assistant.index.mirror().paragraphs), "chunks": len(assistant.index.mirror().ids),
            "rows": sorted(rows), "versions_per_document": max([sum(v[0] == d.doc_id for v in versions)
                                                                 for d in docs] or [0]),
            "answers": answers}
