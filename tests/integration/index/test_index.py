"""The incremental index: content hashes, replacement, removal, duplicates, the write lock, damage."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

from assistant import Assistant
from assistant.errors import IndexDamagedError, IndexLockedError, UnknownDocumentError
from conftest import SEED_DOC, SEEDS


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).strip() + "\n", encoding="utf-8")
    return path


@pytest.fixture
def corpus(tmp_path):
    folder = tmp_path / "corpus"
    write(folder / "harbour.txt", """
        The harbour of Port Ellen opened in 1890 and handled grain.

        Its lighthouse keeper, Mara Quill, kept a diary of every storm.
        """)
    write(folder / "orchard.md", """
        # Orchard

        The orchard grows forty varieties of apple, the oldest planted in 1912.
        """)
    return folder


def test_reingest_of_unchanged_files_does_no_embedding_work(make_assistant, corpus):
    a = make_assistant()
    first = a.ingest([corpus])
    assert sorted(first.added) == ["harbour.txt", "orchard.md"] and first.paragraphs == 4
    second = a.ingest([corpus])
    assert sorted(second.unchanged) == ["harbour.txt", "orchard.md"]
    assert second.added == second.updated == [] and second.paragraphs == 0 and second.chunks == 0
    assert "nothing changed" in second.summary()
    assert [(d.doc_id, d.paragraphs) for d in a.documents()] == [("harbour.txt", 2), ("orchard.md", 2)]


def test_changed_file_replaces_its_paragraphs(make_assistant, corpus):
    a = make_assistant()
    a.ingest([corpus])
    write(corpus / "harbour.txt", """
        The harbour of Port Ellen opened in 1890 and handled grain.

        In 1950 the harbour was deepened for oil tankers.

        Its lighthouse keeper, Mara Quill, kept a diary of every storm.
        """)
    report = a.ingest([corpus])
    assert report.updated == ["harbour.txt"] and report.unchanged == ["orchard.md"] and report.paragraphs == 3
    docs = {d.doc_id: d.paragraphs for d in a.documents()}
    assert docs == {"harbour.txt": 3, "orchard.md": 2}
    assert a.index.count() == 5  # the old version's chunks are gone
    answer = a.ask("When was the harbour deepened for oil tankers?")
    assert not answer.refused
    assert (answer.citations[0].doc_id, answer.citations[0].paragraph) == ("harbour.txt", 2)


def test_remove_and_unknown_document(make_assistant, corpus):
    a = make_assistant()
    a.ingest([corpus])
    a.remove("orchard.md")
    assert [d.doc_id for d in a.documents()] == ["harbour.txt"]
    assert all(c.doc_id != "orchard.md" for c in a.retrieve("apple varieties in the orchard"))
    with pytest.raises(UnknownDocumentError, match="no indexed document"):
        a.remove("orchard.md")


def test_deleted_file_is_removed_when_its_folder_is_reingested(make_assistant, corpus):
    a = make_assistant()
    a.ingest([corpus])
    (corpus / "orchard.md").unlink()
    report = a.ingest([corpus])
    assert report.removed == ["orchard.md"] and report.unchanged == ["harbour.txt"]
    assert [d.doc_id for d in a.documents()] == ["harbour.txt"]


def test_same_text_under_two_names_is_reported_as_duplicate(make_assistant, corpus):
    (corpus / "copy-of-harbour.txt").write_bytes((corpus / "harbour.txt").read_bytes())
    a = make_assistant()
    report = a.ingest([corpus])
    assert len(report.duplicates) == 1
    dup = report.duplicates[0]
    assert {dup["doc_id"], dup["same_as"]} == {"copy-of-harbour.txt", "harbour.txt"}
    assert len(a.documents()) == 2


def test_bad_files_are_skipped_and_a_failed_ingest_loses_nothing(make_assistant, corpus, tmp_path):
    a = make_assistant()
    a.ingest([corpus])
    (corpus / "harbour.txt").write_bytes(b"\x00\x00binary now")  # the file became unreadable
    (corpus / "notes.txt").write_bytes("caf\xe9".encode("latin-1"))
    (corpus / "new.txt").write_text("A new paragraph about tides.", encoding="utf-8")
    report = a.ingest([corpus])
    assert sorted(s["path"].rsplit("/", 1)[1] for s in report.skipped) == ["harbour.txt", "notes.txt"]
    assert report.added == ["new.txt"]
    # the previously indexed version of harbour.txt is still there and still answers
    assert {d.doc_id for d in a.documents()} == {"harbour.txt", "orchard.md", "new.txt"}
    answer = a.ask("Who kept a diary of every storm?")
    assert answer.citations and answer.citations[0].doc_id == "harbour.txt"
    with pytest.raises(FileNotFoundError):
        a.ingest([tmp_path / "missing-folder"])
    assert len(a.documents()) == 3


def test_long_paragraph_is_fully_embedded_and_cited_whole(make_assistant, tmp_path):
    filler = " ".join(f"The survey of plot {i} recorded ordinary soil and grass." for i in range(60))
    long_paragraph = filler + " At the far end the team found a bronze helmet buried under the old oak."
    write(tmp_path / "docs" / "survey.txt", f"Introduction to the survey.\n\n{long_paragraph}")
    a = make_assistant()
    report = a.ingest([tmp_path / "docs"])
    assert report.paragraphs == 2 and report.chunks > 3  # windows cover all ~700 tokens
    answer = a.ask("What did the team find buried under the old oak?")
    assert not answer.refused
    cited = answer.citations[0]
    assert cited.paragraph == 2 and cited.text == long_paragraph
    assert "bronze helmet" in cited.quote and cited.quote in cited.text


LOCK_HOLDER = """
import sys, time
from assistant.config.settings import Settings
from assistant.index.store import write_lock
with write_lock(Settings(index_dir=sys.argv[1])):
    print("locked", flush=True)
    time.sleep(60)
"""


def test_second_writer_gets_a_clear_lock_error(make_assistant, corpus, tmp_path):
    a = make_assistant()
    a.ingest([corpus])
    holder = subprocess.Popen([sys.executable, "-c", LOCK_HOLDER, str(tmp_path / "index")],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        (corpus / "new.txt").write_text("Fresh text about tides.", encoding="utf-8")
        with pytest.raises(IndexLockedError, match=r"being written by process \d+"):
            a.ingest([corpus])
        with pytest.raises(IndexLockedError):
            a.remove("orchard.md")
        assert not a.ask("Who kept a diary of every storm?").refused  # reading still works
    finally:
        holder.kill()
        holder.wait()
    assert a.ingest([corpus]).added == ["new.txt"]  # the lock dies with its holder


def test_damaged_index_gives_a_clear_error(make_assistant, tmp_path):
    index = tmp_path / "index"
    index.mkdir()
    (index / "chroma.sqlite3").write_bytes(b"this is not a database" * 100)
    with pytest.raises(IndexDamagedError, match=f"{index} is damaged.*not a sound database.*assistant check --rebuild"):
        make_assistant().documents()


def test_jsonl_doc_ids_are_kept(make_assistant, tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_text('{"doc_id": "wiki:Otters", "title": "Otters", "text": "Otters eat fish.\\n\\nThey live by rivers."}\n',
                    encoding="utf-8")
    a = make_assistant()
    a.ingest([path])
    assert [(d.doc_id, d.title, d.paragraphs) for d in a.documents()] == [("wiki:Otters", "Otters", 2)]
    answer = a.ask("What do otters eat?")
    assert (answer.citations[0].doc_id, answer.citations[0].paragraph) == ("wiki:Otters", 1)


def test_seed_corpus_is_indexed_on_first_question(make_assistant):
    a = make_assistant(corpus_dir=SEEDS)
    answer = a.ask("Where did Pannett report from?")
    assert any("indexed" in n for n in answer.notes)
    assert [(d.doc_id, d.paragraphs) for d in a.documents()] == [(SEED_DOC, 19)]


def test_an_index_emptied_on_purpose_stays_empty(make_assistant):
    a = make_assistant(corpus_dir=SEEDS)
    a.ingest([SEEDS])
    a.remove(SEED_DOC)
    answer = a.ask("Where did Pannett report from?")
    assert answer.refused and a.documents() == []  # seeds/ was not silently re-indexed


def test_stored_vectors_are_the_model_s_vectors_of_each_chunk(make_assistant, tmp_path):
    """The ingest tokenises each paragraph once and embeds those ids (windows of a long paragraph re-tokenised):
    what it stores must equal what the model gives for each chunk's text."""
    long_paragraph = " ".join(f"Plot {i} of the survey held ordinary soil, grass and a few stones." for i in range(50))
    write(tmp_path / "docs" / "survey.txt", f"Introduction to the survey.\n\n{long_paragraph}\n\nA short close.")
    a = make_assistant(ingest_window=3)
    a.ingest([tmp_path / "docs"])
    rows = list(a.index.store.chunks())
    assert len(rows) > 4
    stored = a.index.vectors([r.id for r in rows])
    fresh = a.embedder.embed([r.text for r in rows])
    for row, vector in zip(rows, fresh):
        assert np.allclose(stored[row.id], vector, atol=1e-5), row.id


def test_a_closed_assistant_lets_go_of_its_files(seeded_index, tmp_path):
    """A notebook or a test that opens Assistant after Assistant must not run out of file descriptors."""
    import gc
    import os
    import shutil

    folder = tmp_path / "index"
    shutil.copytree(seeded_index, folder)

    def open_files() -> int:
        # chromadb's per-thread SQLite connections close when their garbage is collected, which comes at no fixed
        # time: counted before a collection, the same run read 2 fewer or 4 more. An Assistant left open keeps its
        # files through a collection (chromadb's client cache holds them), so this still finds one.
        gc.collect()
        return len(os.listdir("/proc/self/fd"))

    with Assistant(index_dir=folder) as first:
        assert first.ask("Where were the airstrikes carried out?").citations
    before = open_files()
    for _ in range(4):
        with Assistant(index_dir=folder) as again:
            assert again.ask("Where were the airstrikes carried out?").citations
    assert open_files() <= before + 2  # unclosed, each kept some 16


def test_a_renamed_file_stays_indexed_under_its_new_name(make_assistant, tmp_path):
    """Issue 20: `mv a.md b.md` then ingesting the folder again said "1 removed, 1 duplicate(s) skipped" and the
    text was gone from the index."""
    folder = tmp_path / "r"
    folder.mkdir()
    (folder / "a.md").write_text("# Alpha\n\nThe beacon of Tarsk is lit every night at nine.\n", encoding="utf-8")
    (folder / "other.md").write_text("# Other\n\nThe ferry to Odde leaves at dawn.\n", encoding="utf-8")
    a = make_assistant()
    a.ingest([folder])
    (folder / "a.md").rename(folder / "b.md")
    report = a.ingest([folder])
    assert report.added == ["b.md"] and report.removed == ["a.md"] and report.duplicates == [], report
    assert sorted(d.doc_id for d in a.documents()) == ["b.md", "other.md"]
    answer = a.ask("When is the beacon of Tarsk lit?")
    assert not answer.refused and answer.citations[0].doc_id == "b.md", answer.text


def test_deleting_one_of_two_identical_files_keeps_the_text(make_assistant, tmp_path):
    folder = tmp_path / "r"
    folder.mkdir()
    text = "# Alpha\n\nThe beacon of Tarsk is lit every night at nine.\n"
    (folder / "first.md").write_text(text, encoding="utf-8")
    (folder / "second.md").write_text(text, encoding="utf-8")
    a = make_assistant()
    report = a.ingest([folder])
    assert report.added == ["first.md"] and len(report.duplicates) == 1
    (folder / "first.md").unlink()
    report = a.ingest([folder])
    assert report.added == ["second.md"] and report.removed == ["first.md"], report
    assert [d.doc_id for d in a.documents()] == ["second.md"]


def test_a_skipped_duplicate_is_not_reported_as_renamed(make_assistant, tmp_path):
    """"its name is taken by ...; indexed as 'colB/notes.md'" was printed for a file that was not indexed at all."""
    text = "# Notes\n\nThe archive in Colmar holds 4,000 maps of the Rhine.\n"
    for folder in ("colA", "colB"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "notes.md").write_text(text, encoding="utf-8")
    a = make_assistant()
    a.ingest([tmp_path / "colA"])
    report = a.ingest([tmp_path / "colB"])
    assert len(report.duplicates) == 1 and report.renamed == [] and report.added == [], report
