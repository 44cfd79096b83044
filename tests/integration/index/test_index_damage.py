"""A damaged index gives one clear message (the folder and the command to run), never a traceback: in the CLI, in
`Assistant(...)`, and at `python app.py`. `ingest` never reports success on it. `assistant check` names the damage
and `assistant check --repair` repairs what can be repaired, after which the answers are what they were."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from assistant.errors import IndexDamagedError
from conftest import ROOT, SEED_DOC, SEEDS
from index_support import cli

QUESTION = "Who ordered the assassination of Qasem Soleimani?"


@pytest.fixture(scope="module")
def flushed_index(tmp_path_factory):
    """The seed article plus 1,100 one-line notes: enough rows for chromadb to flush its HNSW segment to disk
    (it does every 1,000), so the segment files are the only copy of the vectors, as in any real index."""
    from assistant import Assistant
    from assistant.index.store import chroma_files

    base = tmp_path_factory.mktemp("flushed")
    notes = base / "corpus" / "notes.txt"
    notes.parent.mkdir()
    shutil.copy(SEEDS / SEED_DOC, base / "corpus" / SEED_DOC)
    notes.write_text("\n\n".join(f"Note {n}: the tide gauge at pier {n % 37} read {n % 9} metres." for n in range(1100)),
                     encoding="utf-8")
    index = base / "index"
    a = Assistant(index_dir=index, corpus_dir=base / "none")
    a.ingest([base / "corpus"])
    answer = a.ask(QUESTION)
    segments = chroma_files.vector_segments(index)
    assert (index / segments["paragraphs"] / "index_metadata.pickle").exists()  # flushed to disk
    return {"index": index, "corpus": base / "corpus", "segment": segments["paragraphs"],
            "answer": (answer.text, [(c.doc_id, c.paragraph) for c in answer.citations])}


def damage(index, segment: str, how: str) -> None:
    folder = index / segment
    if how == "deleted data_level0.bin":
        (folder / "data_level0.bin").unlink()
    elif how == "truncated data_level0.bin":
        os.truncate(folder / "data_level0.bin", 1000)
    elif how == "truncated header.bin":
        os.truncate(folder / "header.bin", 10)
    elif how == "deleted index_metadata.pickle":
        (folder / "index_metadata.pickle").unlink()
    elif how == "deleted segment folder":
        shutil.rmtree(folder)


def assert_one_clear_line(result, *needles: str) -> None:
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


DAMAGE = ["deleted data_level0.bin", "truncated data_level0.bin", "truncated header.bin",
          "deleted index_metadata.pickle", "deleted segment folder"]


@pytest.mark.parametrize("how", DAMAGE)
def test_damaged_vector_segment_is_reported_then_repaired(flushed_index, tmp_path, how):
    index = shutil.copytree(flushed_index["index"], tmp_path / "index")
    damage(index, flushed_index["segment"], how)
    for command in (["docs"], ["ask", QUESTION], ["ingest", "--quiet", str(flushed_index["corpus"])]):
        result = cli(*command, index=index)
        assert_one_clear_line(result, str(index), "assistant check --repair")
        assert "added" not in result.stdout and "unchanged" not in result.stdout  # no success reported
    from assistant import Assistant

    with pytest.raises(IndexDamagedError, match="assistant check --repair"):
        Assistant(index_dir=index, corpus_dir=tmp_path / "none")
    checked = cli("check", index=index)
    assert checked.returncode == 1 and "problem: " in checked.stdout and "--repair" in checked.stdout
    repaired = cli("check", "--repair", index=index)
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    assert "repaired: rebuilt the vector index" in repaired.stdout
    answer = Assistant(index_dir=index, corpus_dir=tmp_path / "none").ask(QUESTION)
    assert (answer.text, [(c.doc_id, c.paragraph) for c in answer.citations]) == flushed_index["answer"]
    assert "is healthy" in cli("check", index=index).stdout


def test_app_does_not_start_on_a_damaged_index(flushed_index, tmp_path):
    index = shutil.copytree(flushed_index["index"], tmp_path / "index")
    damage(index, flushed_index["segment"], "deleted data_level0.bin")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update(ASSISTANT_INDEX_DIR=str(index), ASSISTANT_CORPUS_DIR=str(tmp_path / "none"), ASSISTANT_UI_PORT="1")
    result = subprocess.run([sys.executable, str(ROOT / "app.py")], capture_output=True, text=True, timeout=300,
                            env=env, cwd=tmp_path)
    assert_one_clear_line(result, str(index), "assistant check --repair")


@pytest.mark.parametrize("where", ["header", "middle"])
def test_random_bytes_in_chroma_sqlite(flushed_index, tmp_path, where):
    index = shutil.copytree(flushed_index["index"], tmp_path / "index")
    database = index / "chroma.sqlite3"
    with open(database, "r+b") as fh:  # the file header, or pages of chromadb's tables (not free pages)
        fh.seek(0 if where == "header" else 3 * 4096)
        fh.write(os.urandom(12 * 4096))
    for command in (["docs"], ["ask", QUESTION], ["ingest", "--quiet", str(flushed_index["corpus"])], ["check"]):
        assert_one_clear_line(cli(*command, index=index), str(index), "beyond repair", "assistant check --rebuild")


def assert_answers_as_before(index, flushed_index, tmp_path) -> None:
    """The repaired or rebuilt index answers the question as the undamaged one did, with the same citations."""
    from assistant import Assistant

    with Assistant(index_dir=index, corpus_dir=tmp_path / "none") as a:
        answer = a.ask(QUESTION)
    assert (answer.text, [(c.doc_id, c.paragraph) for c in answer.citations]) == flushed_index["answer"]


def scribble(path, at: float, pages: int = 1) -> None:
    """Random bytes over `pages` 4 KB pages starting at `at` (a share of the file's length)."""
    size = path.stat().st_size
    with open(path, "r+b") as fh:
        fh.seek(int(size * at) // 4096 * 4096)
        fh.write(os.urandom(pages * 4096))


def test_latent_damage_in_chroma_sqlite_is_noticed_by_every_command_and_rebuilt(flushed_index, tmp_path):
    """Issue 20: random bytes in the middle of chroma.sqlite3 left docs, ask and ingest exiting 0 (ingest reported
    success) while `check --repair` said "damaged beyond repair" and offered nothing. Every command now says so,
    and `check --rebuild` indexes the documents again from their sources into a fresh index that replaces it."""
    index = shutil.copytree(flushed_index["index"], tmp_path / "index")
    scribble(index / "chroma.sqlite3", 0.5)
    for command in (["docs"], ["ask", QUESTION], ["ingest", "--quiet", str(flushed_index["corpus"])], ["check"],
                    ["check", "--repair"]):
        result = cli(*command, index=index)
        assert_one_clear_line(result, str(index), "beyond repair", "assistant check --rebuild")
        assert "added" not in result.stdout and "unchanged" not in result.stdout  # no success reported
    rebuilt = cli("check", "--rebuild", index=index)
    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
    assert "rebuilt" in rebuilt.stdout and "2 documents" in rebuilt.stdout
    kept = [p for p in tmp_path.iterdir() if p.name.startswith("index.damaged-")]
    assert len(kept) == 1 and (kept[0] / "chroma.sqlite3").exists()  # the damaged folder is kept aside
    assert "is healthy: 2 documents" in cli("check", index=index).stdout
    assert_answers_as_before(index, flushed_index, tmp_path)


def test_garbage_in_the_vector_copy_is_named_and_repaired(flushed_index, tmp_path):
    """Garbage in the middle of vectors.sqlite3 made `check --repair` end in a traceback."""
    index = shutil.copytree(flushed_index["index"], tmp_path / "index")
    import sqlite3

    with sqlite3.connect(index / "vectors.sqlite3") as db:  # at rest, as a file is after its last writer closed
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    scribble(index / "vectors.sqlite3", 0.5, pages=4)
    result = cli("docs", index=index)
    assert_one_clear_line(result, str(index), "vectors.sqlite3", "assistant check --repair")
    checked = cli("check", index=index)
    assert checked.returncode == 1 and "problem: vectors.sqlite3" in checked.stdout, checked.stdout + checked.stderr
    repaired = cli("check", "--repair", index=index)
    assert repaired.returncode == 0 and "Traceback" not in repaired.stderr, repaired.stdout + repaired.stderr
    assert "is healthy" in cli("check", index=index).stdout
    assert_answers_as_before(index, flushed_index, tmp_path)


def test_write_lock_that_is_a_folder(flushed_index, tmp_path):
    index = shutil.copytree(flushed_index["index"], tmp_path / "index")
    (index / ".write.lock").unlink()
    (index / ".write.lock").mkdir()
    for command in (["ingest", "--quiet", str(flushed_index["corpus"])], ["remove", SEED_DOC], ["docs"]):
        assert_one_clear_line(cli(*command, index=index), str(index / ".write.lock"), "rm -r")
    (index / ".write.lock").rmdir()
    assert cli("ingest", "--quiet", str(flushed_index["corpus"]), index=index).returncode == 0


def test_garbage_in_the_hnsw_pickle_is_repaired_from_the_vector_copy(flushed_index, tmp_path):
    """Garbage in index_metadata.pickle: every command said "run `assistant check --repair`", and that command
    failed the same way (it read the rows through the segment that does not load)."""
    index = shutil.copytree(flushed_index["index"], tmp_path / "index")
    scribble(index / flushed_index["segment"] / "index_metadata.pickle", 0.5)
    assert_one_clear_line(cli("ask", QUESTION, index=index), str(index), "assistant check --repair")
    repaired = cli("check", "--repair", index=index)
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    assert "vectors from our copy" in repaired.stdout and "is repaired" in repaired.stdout
    assert "is healthy" in cli("check", index=index).stdout
    assert_answers_as_before(index, flushed_index, tmp_path)
