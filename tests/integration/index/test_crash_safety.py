"""Crash safety: a real `assistant ingest` / `assistant remove` killed (SIGKILL) in each write phase, then the same
command again, must leave exactly what a clean run leaves: the same documents, paragraph and chunk counts, no
second versions, the same answers. While it lies crashed, readers see only whole document versions.

`kill_after_batches` (tests/kill_after.py) stops the process right after its N-th written batch; windows of 4 chunks
(with embedding batches of 4) make a small corpus take many batches, so every kind of write is interrupted
somewhere in the parametrised range. Version 1 takes 17 writes (chunk rows at 1 and 4, a document row at 5 and 16,
...); version 2 takes 12 (chunk rows at 1 and 3, document rows at 4 and 10, an old version dropped at 5 and 8, the
deleted file's document row at 11); a removal takes 2 (document row, then chunk rows).
"""

from __future__ import annotations

import random
import shutil
import signal
import sqlite3
import time

import pytest

from index_support import QUESTIONS, cli, raw_rows, snapshot, write_corpus

WINDOW = "16"  # with batches of 4 chunks: rows are written 4 at a time
SMALL = {"ingest_window": WINDOW, "embed_batch_size": "4"}
KILLED = -signal.SIGKILL


@pytest.fixture(scope="module")
def clean(tmp_path_factory, request):
    """Reference indexes written without faults: version 1, and version 1 then version 2 of the corpus."""
    from assistant import Assistant

    base = tmp_path_factory.mktemp("clean")
    first = Assistant(index_dir=base / "index-v1", corpus_dir=base / "none", ingest_window=16, embed_batch_size=4)
    first.ingest([write_corpus(base / "v1" / "corpus", 1)])
    second = Assistant(index_dir=base / "index-v2", corpus_dir=base / "none", ingest_window=16, embed_batch_size=4)
    second.ingest([write_corpus(base / "v2" / "corpus", 1)])
    second.ingest([write_corpus(base / "v2" / "corpus", 2)])  # the same folder, edited: updated in place
    return {"v1": snapshot(first), "v2": snapshot(second), "index-v1": base / "index-v1"}


def assert_whole_versions(index, corpus_versions: dict[str, dict]) -> None:
    """Right after a crash, before anything repairs it: every listed document is a whole version of its file."""
    documents, _ = raw_rows(index)
    for doc_id, paragraphs, chunks, sha in documents:
        assert (paragraphs, chunks, sha) in corpus_versions[doc_id], doc_id


def versions_of(*snapshots: dict) -> dict[str, set]:
    out: dict[str, set] = {}
    for snap in snapshots:
        for doc_id, _, paragraphs, chunks, sha in snap["documents"]:
            out.setdefault(doc_id, set()).add((paragraphs, chunks, sha))
    return out


def reopen(index):
    from assistant import Assistant

    return Assistant(index_dir=index, corpus_dir=index.parent / "none", ingest_window=16, embed_batch_size=4)


@pytest.mark.parametrize("kill_after", [1, 4, 5, 11, 16])
def test_killed_while_adding_new_documents(tmp_path, clean, kill_after):
    corpus = write_corpus(tmp_path / "corpus", 1)
    index = tmp_path / "index"
    crashed = cli("ingest", "--quiet", str(corpus), index=index, **SMALL,
                  kill_after_batches=kill_after)
    assert crashed.returncode == KILLED, crashed.stderr
    assert_whole_versions(index, versions_of(clean["v1"]))
    again = cli("ingest", "--quiet", str(corpus), index=index, **SMALL)
    assert again.returncode == 0, again.stderr
    assert snapshot(reopen(index)) == clean["v1"]


@pytest.mark.parametrize("kill_after", [1, 3, 4, 5, 8, 10, 11])
def test_killed_while_updating_documents(tmp_path, clean, kill_after):
    """Version 2 changes two documents, adds one and deletes one: chunk rows, document rows, old versions dropped
    and a vanished file's removal are all interrupted somewhere in this range."""
    index = tmp_path / "index"
    old = reopen(index)  # a long-running process over the index, e.g. the web UI
    old.ingest([write_corpus(tmp_path / "corpus", 1)])
    corpus = write_corpus(tmp_path / "corpus", 2)
    crashed = cli("ingest", "--quiet", str(corpus), index=index, **SMALL,
                  kill_after_batches=kill_after)
    assert crashed.returncode == KILLED, crashed.stderr
    assert_whole_versions(index, versions_of(clean["v1"], clean["v2"]))
    # a process that was already running keeps answering, from whole versions only
    listed = {(d.doc_id, d.paragraphs) for d in old.documents()}
    for question in QUESTIONS:
        for c in old.ask(question).citations:
            assert any(c.doc_id == doc_id and c.paragraph <= n for doc_id, n in listed)
    again = cli("ingest", "--quiet", str(corpus), index=index, **SMALL)
    assert again.returncode == 0, again.stderr
    assert snapshot(reopen(index)) == clean["v2"]
    assert snapshot(old) == clean["v2"]


@pytest.mark.parametrize("kill_after", [1, 2])
def test_killed_while_removing_a_document(tmp_path, clean, kill_after):
    index = tmp_path / "index"
    shutil.copytree(clean["index-v1"], index)
    crashed = cli("remove", "doc4.txt", index=index, kill_after_batches=kill_after)
    assert crashed.returncode == KILLED, crashed.stderr
    documents, rows = raw_rows(index)
    assert "doc4.txt" not in [d[0] for d in documents]  # gone for every reader at once
    again = cli("remove", "doc4.txt", index=index)  # opening the index finishes the removal; the command agrees
    assert again.returncode in (0, 2), again.stderr
    assert "Traceback" not in again.stderr
    reference = shutil.copytree(clean["index-v1"], tmp_path / "reference")
    cleanly = reopen(reference)
    cleanly.remove("doc4.txt")
    assert snapshot(reopen(index)) == snapshot(cleanly)
    assert cli("remove", "doc4.txt", index=index).returncode == 2  # and now it is unknown


def test_opening_a_crashed_index_removes_the_unfinished_version(tmp_path, clean):
    corpus = write_corpus(tmp_path / "corpus", 1)
    index = tmp_path / "index"
    cli("ingest", "--quiet", str(corpus), index=index, **SMALL, kill_after_batches=3)
    documents, rows = raw_rows(index)
    committed = {d[0] for d in documents}
    assert any(r.split("::")[0] not in committed for r in rows)  # an unfinished document's rows are there
    docs = cli("docs", index=index)  # any command opens the index, and repairs it
    assert docs.returncode == 0, docs.stderr
    documents, rows = raw_rows(index)
    assert {r.split("::")[0] for r in rows} == {d[0] for d in documents}
    assert cli("check", index=index).returncode == 0


def copied_vectors(index) -> int:
    try:
        with sqlite3.connect(index / "vectors.sqlite3", timeout=30) as db:
            return db.execute("SELECT count(*) FROM vectors").fetchone()[0]
    except sqlite3.OperationalError:  # the table is not made yet
        return 0


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_killed_at_a_random_moment(tmp_path, clean, seed):
    """Not at a batch boundary: SIGKILL from outside, a random time after the first rows were written."""
    import os
    import subprocess
    import sys

    from conftest import ROOT

    rng = random.Random(seed)
    corpus = write_corpus(tmp_path / "corpus", 1)
    index = tmp_path / "index"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update(ASSISTANT_INDEX_DIR=str(index), ASSISTANT_CORPUS_DIR=str(tmp_path / "none"),
               ASSISTANT_INGEST_WINDOW=WINDOW, ASSISTANT_EMBED_BATCH_SIZE="4", PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "assistant.cli", "ingest", "--quiet", str(corpus)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 240
    while proc.poll() is None and time.monotonic() < deadline:
        if (index / "vectors.sqlite3").exists() and copied_vectors(index) >= rng.randint(1, 12):
            time.sleep(rng.uniform(0, 0.4))
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    again = cli("ingest", "--quiet", str(corpus), index=index, **SMALL)
    assert again.returncode == 0, again.stderr
    assert snapshot(reopen(index)) == clean["v1"]
