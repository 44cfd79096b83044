"""The `assistant` command as a user runs it: a real process, a real index folder."""

from __future__ import annotations

import json
import re

import pytest

from cli_support import run
from conftest import ROOT, SEED_DOC


@pytest.fixture
def env(tmp_path):
    return {"ASSISTANT_INDEX_DIR": str(tmp_path / "index"), "ASSISTANT_CORPUS_DIR": str(ROOT / "seeds")}


def test_fresh_checkout_ask_indexes_seeds_and_prints_json(env):
    proc = run(["ask", "Who ordered the assassination of Qasem Soleimani?", "--json"], env)
    data = json.loads(proc.stdout)
    assert set(data) >= {"answer", "refused", "citations", "contexts"}
    assert data["refused"] is False and "Donald Trump" in data["answer"]
    citation = data["citations"][0]
    assert set(citation) >= {"marker", "doc_id", "title", "paragraph", "text", "quote", "score"}
    assert (citation["doc_id"], citation["paragraph"]) == (SEED_DOC, 8)
    assert f"[{citation['marker']}]" in data["answer"]
    assert set(data["contexts"][0]) >= {"doc_id", "paragraph", "text", "score"}
    assert 0.5 <= data["confidence"] <= 1.0 and data["support"] in ("confident", "weak")
    assert isinstance(data["uncovered"], list)
    docs = json.loads(run(["docs", "--json"], env).stdout)
    assert [(d["doc_id"], d["paragraphs"]) for d in docs] == [(SEED_DOC, 19)]


def test_ingest_docs_remove_round_trip(env, tmp_path):
    note = tmp_path / "note.md"
    note.write_text("# Note\n\nThe meeting moved to Thursday.\n", encoding="utf-8")
    out = run(["ingest", str(note)], env).stdout
    assert "1 added" in out
    assert "nothing changed" in run(["ingest", str(note)], env).stdout
    assert "note.md" in run(["docs"], env).stdout
    text = run(["ask", "When is the meeting?"], env).stdout
    assert "Thursday" in text and "[1] Note ¶2" in text
    run(["remove", "note.md"], env)
    assert "note.md" not in run(["docs"], env).stdout


@pytest.mark.parametrize("args, message", [
    (["ask", "   "], "question is empty"),
    (["ingest", "/definitely/not/here"], "no such file or folder"),
    (["remove", "nope.txt"], "no indexed document"),
])
def test_bad_input_exits_2_with_a_clear_message(env, args, message):
    proc = run(args, env, check=False)
    assert proc.returncode == 2
    assert message in proc.stderr and "Traceback" not in proc.stderr


def test_ingest_reports_skipped_files(env, tmp_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "ok.txt").write_text("Readable text.", encoding="utf-8")
    (folder / "bad.txt").write_bytes(b"\xff\xfe\x00\x00")
    proc = run(["ingest", str(folder)], env)
    assert "1 added" in proc.stdout and "1 file(s) skipped" in proc.stdout
    assert "bad.txt" in proc.stderr


def test_ask_prints_the_confidence_and_a_weak_label_naming_what_the_sources_lack(env):
    text = run(["ask", "Who ordered the assassination of Qasem Soleimani?"], env).stdout
    assert re.search(r"Supported by the cited passages \(confidence \d+%\)", text)
    # a stricter confident threshold (a setting) puts an answered question in the weak band
    weak = run(["ask", "What were the bigger attack drones filled with?"],
               {**env, "ASSISTANT_CONFIDENT_THRESHOLD": "0.99"}).stdout
    assert "ball bearings" in weak
    assert re.search(r"⚠ Weakly supported \(confidence \d+%\): the cited passages do not mention “bigger”", weak)
    declined = run(["ask", "What is the population of Deir al-Zour?", "--json"], env).stdout
    data = json.loads(declined)
    assert data["refused"] and data["support"] == "declined" and "population" in data["uncovered"]


def test_history_file_continues_a_conversation(env, tmp_path):
    history = tmp_path / "chat.json"
    first = run(["ask", "Where did Pannett report from?", "--history", str(history)], env).stdout
    assert "Sydney" in first
    follow = json.loads(run(["ask", "And Loveluck?", "--history", str(history), "--json"], env).stdout)
    assert "Baghdad" in follow["answer"] and "Pannett" in follow["question"]  # searched as a follow-up
    airstrikes = tmp_path / "airstrikes.json"
    run(["ask", "Where were the airstrikes carried out?", "--history", str(airstrikes)], env)
    who = run(["ask", "And who ordered them?", "--history", str(airstrikes)], env).stdout
    assert "President Biden" in who.split("[", 1)[0]  # the follow-up's answer first, not a repeat of "where"
    messages = json.loads(history.read_text(encoding="utf-8"))
    assert [m["role"] for m in messages] == ["user", "assistant", "user", "assistant"]
    assert messages[2]["content"] == "And Loveluck?" and messages[3]["content"] == follow["answer"]
    history.write_text("not json", encoding="utf-8")
    proc = run(["ask", "And Loveluck?", "--history", str(history)], env, check=False)
    assert proc.returncode == 2 and "--history" in proc.stderr and "Traceback" not in proc.stderr
    assert history.read_text(encoding="utf-8") == "not json"  # a bad file is reported, never overwritten


def test_ingest_warns_when_a_folder_index_passes_the_chunks_one_process_should_hold(env, tmp_path):
    """Past `local_chunks_warning` chunks a folder index says what every process that opens it will hold, and
    points to the Chroma server; below it, nothing is said."""
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "a.md").write_text("First paragraph.\n\nSecond paragraph.\n\nThird paragraph.\n", encoding="utf-8")
    quiet = run(["ingest", str(notes)], env)
    assert "1 added" in quiet.stdout and "warning" not in quiet.stderr
    (notes / "b.md").write_text("Fourth paragraph.\n\nFifth paragraph.\n", encoding="utf-8")
    warned = run(["ingest", str(notes)], {**env, "ASSISTANT_LOCAL_CHUNKS_WARNING": "4"})
    assert "1 added" in warned.stdout
    assert "warning: the index now holds 5 chunks" in warned.stderr
    assert "ASSISTANT_CHROMA_HOST" in warned.stderr and "local_chunks_warning" in warned.stderr


def test_ingest_of_an_empty_folder_says_it_found_nothing(env, tmp_path):
    """A folder with no files (a wrong path, a sync not yet done) is not a silent "0 added": the user is told."""
    empty = tmp_path / "inbox"
    empty.mkdir()
    result = run(["ingest", str(empty)], env)
    assert result.returncode == 0 and "0 added" in result.stdout
    assert f"warning: found no files to read in {empty}" in result.stderr
    (empty / "a.md").write_text("A paragraph about the harbour.\n", encoding="utf-8")
    filled = run(["ingest", str(empty)], env)
    assert "1 added" in filled.stdout and "found no files" not in filled.stderr


def test_escape_sequences_in_a_document_are_shown_not_obeyed(tmp_path):
    """Issue 20: a title, id or text holding terminal escapes (clear screen, an OSC window title, an OSC-8 link)
    was printed raw by `docs` and `ask`; now every control character is shown as \\xNN."""
    from index_support import cli

    docs = tmp_path / "docs"
    docs.mkdir()
    hostile = ("\x1b]0;pwned\x07\x1b[2J# Beacon \x1b]8;;http://evil.example\x1b\\\\click\x1b]8;;\x1b\\\\\n\n"
               "The beacon of Tarsk\x1b[31m is lit every night at nine.\n")
    (docs / "esc\x1b[2Jape.md").write_text(hostile, encoding="utf-8")
    index = tmp_path / "index"
    for args in (["ingest", str(docs)], ["docs"], ["ask", "When is the beacon of Tarsk lit?"]):
        result = cli(*args, index=index)
        assert result.returncode == 0, result.stderr
        shown = result.stdout + result.stderr
        assert "\x1b" not in shown and "\x07" not in shown, repr(shown)
        if args[0] != "ingest":  # docs shows the id and title, ask the quote: escaped, not dropped
            assert "\\x1b" in shown, repr(shown)


def test_the_index_is_found_as_git_finds_its_repository(tmp_path):
    """Issue 22: `assistant ask` run from another folder quietly built a new index there from the demo seeds. Now
    the nearest index/ above is used, else the one in the user's data folder; `--index` overrides; `docs` names
    the index in use."""
    project = tmp_path / "project"
    (project / "notes").mkdir(parents=True)
    (project / "notes" / "beacon.txt").write_text("Tarsk\n\nThe beacon of Tarsk is lit every night at nine.\n")
    env = {"XDG_DATA_HOME": str(tmp_path / "data")}
    run(["ingest", "--quiet", "--index", str(project / "index"), str(project / "notes")], env)
    deep = project / "notes" / "deeper"
    deep.mkdir()
    answer = json.loads(run(["ask", "--json", "When is the beacon of Tarsk lit?"], env, cwd=deep).stdout)
    assert not answer["refused"] and answer["citations"][0]["doc_id"] == "beacon.txt", answer
    listed = run(["docs"], env, cwd=deep).stdout.splitlines()
    assert listed[0] == f"index: {project / 'index'} (the nearest index/ folder above, in {project})", listed
    assert not (deep / "index").exists() and not (tmp_path / "data" / "assistant").exists()

    elsewhere = tmp_path / "elsewhere"  # nothing above it: the user's own index, the same from any folder
    elsewhere.mkdir()
    first = run(["ask", "Where were the airstrikes carried out?"], env, cwd=elsewhere)
    assert "indexed" in first.stderr and SEED_DOC in first.stdout  # the demo, on the very first run
    other = tmp_path / "other"
    other.mkdir()
    again = run(["ask", "Where were the airstrikes carried out?"], env, cwd=other)
    assert "indexed" not in again.stderr and SEED_DOC in again.stdout
    assert (tmp_path / "data" / "assistant" / "index").is_dir() and not (elsewhere / "index").exists()
    shown = run(["--index", str(project / "index"), "docs"], env, cwd=other).stdout.splitlines()
    assert shown[0] == f"index: {project / 'index'} (--index)" and "beacon.txt" in shown[1]


REPORT = ["Harbour report", "The harbour of Kelvara was dredged in 1999 by the Marigold company.",
          "The lighthouse keeper is Ada Brun, who lights the lamp at nine."]


def write_report(folder, paragraphs):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "report.txt").write_text("\n\n".join(paragraphs) + "\n", encoding="utf-8")


def test_ask_as_markdown_gives_the_answer_with_footnotes(tmp_path):
    """Issue 22: an answer ready to paste into a report: [^1] references and `[^1]: title, ¶n: “quote”`."""
    write_report(tmp_path / "docs", REPORT)
    env = {"ASSISTANT_INDEX_DIR": str(tmp_path / "index"), "ASSISTANT_CORPUS_DIR": str(tmp_path / "none")}
    run(["ingest", "--quiet", str(tmp_path / "docs")], env)
    markdown = run(["ask", "--format", "markdown", "Who is the lighthouse keeper?"], env).stdout
    body, notes = markdown.split("\n\n", 1)
    assert "Ada Brun" in body and "[^1]" in body and not re.search(r"\[\d+\]", body), markdown
    assert re.match(r"\[\^1\]: Harbour report \(report\.txt\), ¶3: “.*Ada Brun.*”$", notes.strip()), notes


def test_recheck_says_which_saved_citations_still_hold(tmp_path):
    """Issue 22: answers saved with `ask --json` are checked against the index as it is now: holds, moved,
    changed, gone; exit code 1 when any no longer holds."""
    docs = tmp_path / "docs"
    write_report(docs, REPORT)
    (docs / "other.txt").write_text("Ferries\n\nThe ferry to Odde is run by Hanna Voss.\n", encoding="utf-8")
    env = {"ASSISTANT_INDEX_DIR": str(tmp_path / "index"), "ASSISTANT_CORPUS_DIR": str(tmp_path / "none")}
    run(["ingest", "--quiet", str(docs)], env)
    saved = tmp_path / "answers.jsonl"
    for question in ("Who is the lighthouse keeper?", "When was the harbour of Kelvara dredged?",
                     "Who runs the ferry to Odde?"):
        saved.write_text(saved.read_text() + run(["ask", "--json", question], env).stdout if saved.exists()
                         else run(["ask", "--json", question], env).stdout)
    first = run(["recheck", str(saved)], env)
    assert first.stdout.count(": holds") == 3 and "3 holds" in first.stdout, first.stdout + first.stderr

    # the keeper's paragraph moves down, the dredging year changes, the ferry note is deleted
    write_report(docs, [REPORT[0], "A new paragraph about the quay.",
                        "The harbour of Kelvara was dredged in 2001 by the Marigold company.", REPORT[2]])
    (docs / "other.txt").unlink()
    run(["ingest", "--quiet", str(docs)], env)
    second = run(["recheck", str(saved)], env, check=False)
    assert second.returncode == 1, second.stdout + second.stderr
    lines = second.stdout.splitlines()
    assert any("report.txt ¶3: moved (now in ¶4)" in line for line in lines), lines
    assert any("report.txt ¶2: changed" in line for line in lines), lines
    assert any("other.txt ¶2: gone" in line for line in lines), lines
