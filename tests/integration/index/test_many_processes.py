"""Many processes, one index: a long-running Assistant (here the test process, as the web UI would be) sees what
other processes ingest and remove on its next question, with no restart and no error."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import traceback
import time

from index_support import QUESTIONS, cli, write_corpus

from conftest import ROOT

EXTRA = "The lighthouse of Skerry Mor was painted {colour} in {year}, by order of harbour master Ilse Varga."


def same_as_a_fresh_start(running, make_assistant, questions) -> None:
    """The running Assistant re-read only the documents another process changed (assistant/index/mirror.py); its answers,
    citations and confidences must be those of an Assistant that reads the whole index from scratch."""
    fresh = make_assistant()
    for question in questions:
        mine, theirs = running.ask(question), fresh.ask(question)
        assert (mine.text, [(c.doc_id, c.paragraph) for c in mine.citations], mine.confidence) == \
            (theirs.text, [(c.doc_id, c.paragraph) for c in theirs.citations], theirs.confidence), question


def test_a_running_assistant_sees_other_processes_writes(make_assistant, tmp_path):
    corpus = write_corpus(tmp_path / "corpus", 1)
    index = tmp_path / "index"
    running = make_assistant(ingest_window=4)
    running.ingest([corpus])
    assert running.ask(QUESTIONS[0]).citations  # mirror, BM25 and the vector index are loaded and cached

    (corpus / "skerry.txt").write_text(EXTRA.format(colour="red", year=1931), encoding="utf-8")
    assert cli("ingest", "--quiet", str(corpus), index=index).returncode == 0
    answer = running.ask("Who ordered the lighthouse of Skerry Mor painted?")
    assert answer.citations and answer.citations[0].doc_id == "skerry.txt"
    assert "Skerry Mor" in answer.text
    same_as_a_fresh_start(running, make_assistant, QUESTIONS + ["Who ordered the lighthouse of Skerry Mor painted?"])

    (corpus / "skerry.txt").write_text(EXTRA.format(colour="white", year=1958), encoding="utf-8")
    assert cli("ingest", "--quiet", str(corpus), index=index).returncode == 0
    answer = running.ask("In which year was the lighthouse of Skerry Mor painted?")
    assert "1958" in answer.text and "1931" not in answer.text
    same_as_a_fresh_start(running, make_assistant, QUESTIONS + ["In which year was the lighthouse painted?"])

    assert cli("remove", "skerry.txt", index=index).returncode == 0
    answer = running.ask("Who ordered the lighthouse of Skerry Mor painted?")
    assert all(c.doc_id != "skerry.txt" for c in answer.citations)
    assert "skerry.txt" not in [d.doc_id for d in running.documents()]
    for question in QUESTIONS:  # and everything else still answers
        assert running.ask(question).citations
    same_as_a_fresh_start(running, make_assistant, QUESTIONS + ["Who painted the lighthouse?"])

    write_corpus(corpus, 2)  # documents 1 and 3 changed, 5 deleted, 7 added, the rest as they were
    assert cli("ingest", "--quiet", str(corpus), index=index).returncode == 0
    same_as_a_fresh_start(running, make_assistant, QUESTIONS + ["What did keeper 72 record?", "What did keeper 13 record?"])


WRITER = textwrap.dedent("""
    import sys
    from pathlib import Path
    from assistant import Assistant
    folder, index, rounds = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    writer = Assistant(index_dir=index, corpus_dir=folder / "none", ingest_window=3)
    for n in range(rounds):
        (folder / f"extra{n}.txt").write_text(
            f"Extra note {n}: the ferry timetable changed in week {n}.\\n\\nIt now leaves at {n} o'clock.")
        writer.ingest([folder])
        if n % 2:
            writer.remove(f"extra{n - 1}.txt")
            (folder / f"extra{n - 1}.txt").unlink()
        print("round", n, flush=True)
""")


def test_questions_keep_working_while_another_process_ingests_and_removes(make_assistant, tmp_path):
    corpus = write_corpus(tmp_path / "corpus", 1)
    index = tmp_path / "index"
    reader = make_assistant()
    reader.ingest([corpus])
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env["PYTHONPATH"] = str(ROOT)
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(corpus), str(index), "8"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    errors, answered, seen, deadline = [], 0, set(), time.monotonic() + 600
    while writer.poll() is None and time.monotonic() < deadline:
        for question in [*QUESTIONS, "When does the ferry leave?"]:
            try:
                answer = reader.ask(question)
                answered += 1
                listed = {d.doc_id for d in reader.documents()}
                seen |= {doc_id for doc_id in listed if doc_id.startswith("extra")}
                # what a reader cites it also lists (a document removed meanwhile may go from both at once)
                assert {c.doc_id for c in answer.citations} <= listed | {c.doc_id for c in answer.citations
                                                                         if c.doc_id.startswith("extra")}
            except Exception as exc:  # noqa: BLE001 - any error is the failure this test looks for
                errors.append(f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}")
    out, err = writer.communicate(timeout=120)
    assert writer.returncode == 0, err
    assert out.count("round") == 8
    assert errors == [] and answered > 0
    assert seen  # it watched the other process's documents come (and go)
    final = {d.doc_id for d in reader.documents()}
    assert sorted(d for d in final if d.startswith("extra")) == ["extra1.txt", "extra3.txt", "extra5.txt", "extra7.txt"]
    answer = reader.ask("When does the ferry leave in week 7?")
    assert "extra7.txt" in [c.doc_id for c in answer.citations]  # the other process's last document is searched
