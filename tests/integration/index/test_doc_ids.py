"""Document ids cannot collide: two files never share an id silently; re-ingesting a folder updates in place.
Symbolic links that leave the ingested folder are not followed unless asked; a deleted link's document goes."""

from __future__ import annotations

import os

from index_support import cli


def note(folder, name, text):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    return folder / name


def test_same_file_name_in_two_folders_keeps_both(make_assistant, tmp_path):
    note(tmp_path / "colA", "notes.md", "# Notes A\n\nThe archive in Colmar holds 4,000 maps of the Rhine.")
    note(tmp_path / "colB", "notes.md", "# Notes B\n\nThe observatory in Tartu measured 212 clear nights.")
    a = make_assistant()
    assert a.ingest([tmp_path / "colA"]).added == ["notes.md"]
    second = a.ingest([tmp_path / "colB"])
    assert second.added == ["colB/notes.md"] and second.updated == []
    assert second.renamed == [{"path": str(tmp_path / "colB" / "notes.md"), "doc_id": "colB/notes.md",
                               "taken_by": str(tmp_path / "colA" / "notes.md")}]
    assert [(d.doc_id, d.title) for d in a.documents()] == [("colB/notes.md", "Notes B"), ("notes.md", "Notes A")]
    assert a.ask("How many maps does the archive hold?").citations[0].doc_id == "notes.md"
    assert a.ask("How many clear nights were measured?").citations[0].doc_id == "colB/notes.md"

    # re-ingesting either folder finds its own documents again: unchanged, then updated in place
    assert a.ingest([tmp_path / "colB"]).unchanged == ["colB/notes.md"]
    note(tmp_path / "colA", "notes.md", "# Notes A\n\nThe archive in Colmar holds 5,000 maps of the Rhine.")
    report = a.ingest([tmp_path / "colA"])
    assert report.updated == ["notes.md"] and report.renamed == []
    assert len(a.documents()) == 2 and "5,000" in a.ask("How many maps does the archive hold?").text


def test_the_cli_says_which_id_a_renamed_file_got(tmp_path):
    index = tmp_path / "index"
    note(tmp_path / "colA", "notes.md", "# A\n\nFirst collection.")
    note(tmp_path / "colB", "notes.md", "# B\n\nSecond collection, other words.")
    assert cli("ingest", "--quiet", str(tmp_path / "colA"), index=index).returncode == 0
    result = cli("ingest", "--quiet", str(tmp_path / "colB"), index=index)
    assert result.returncode == 0 and "1 added" in result.stdout and "1 given a qualified id" in result.stdout
    assert f"renamed {tmp_path / 'colB' / 'notes.md'}" in result.stderr and "'colB/notes.md'" in result.stderr
    docs = cli("docs", index=index).stdout
    assert "colB/notes.md" in docs and "notes.md" in docs


def test_files_given_directly_and_a_moved_file(make_assistant, tmp_path):
    a = make_assistant()
    first = note(tmp_path / "x", "report.txt", "The bridge at Mostar was rebuilt in 2004.")
    second = note(tmp_path / "y", "report.txt", "The ferry to Hvar leaves at seven.")
    assert a.ingest([first]).added == ["report.txt"]
    assert a.ingest([second]).added == ["y/report.txt"]
    assert a.ingest([second]).unchanged == ["y/report.txt"]
    # a file whose recorded path is gone gives its id up to the next file with that name (moved or replaced)
    first.unlink()
    third = note(tmp_path / "z", "report.txt", "The bridge at Mostar was rebuilt in 2004.")
    report = a.ingest([third])
    assert report.unchanged == ["report.txt"] and report.renamed == []
    assert {d.doc_id: d.source for d in a.documents()}["report.txt"] == str(third)


def test_symlink_leaving_the_folder_is_not_followed_unless_asked(make_assistant, tmp_path):
    outside = note(tmp_path / "private", "secret.txt", "The vault code is 7731.")
    corpus = tmp_path / "corpus"
    note(corpus, "public.txt", "The museum opens at nine.")
    (corpus / "link.txt").symlink_to(outside)
    (corpus / "linked-folder").symlink_to(outside.parent, target_is_directory=True)
    a = make_assistant()
    report = a.ingest([corpus])
    assert report.added == ["public.txt"]
    assert sorted(s["path"] for s in report.skipped) == [str(corpus / "link.txt"), str(corpus / "linked-folder")]
    assert all("outside the folder" in s["reason"] and "--follow-symlinks" in s["reason"] for s in report.skipped)
    assert "7731" not in a.ask("What is the vault code?").text

    followed = a.ingest([corpus], follow_symlinks=True)
    assert sorted(followed.added) == ["link.txt"] and len(followed.duplicates) == 1  # the folder link: same text
    assert {d.doc_id: d.source for d in a.documents()}["link.txt"] == str(corpus / "link.txt")  # the link itself

    (corpus / "link.txt").unlink()  # the link goes: so does its document, on the next ingest of its folder, and
    after = a.ingest([corpus], follow_symlinks=True)  # the duplicate it stood for (the folder link) takes its place
    assert after.removed == ["link.txt"] and after.added == ["linked-folder/secret.txt"]
    assert [d.doc_id for d in a.documents()] == ["linked-folder/secret.txt", "public.txt"]


def test_follow_symlinks_from_the_command_line(tmp_path):
    index = tmp_path / "index"
    outside = note(tmp_path / "elsewhere", "facts.txt", "The glacier retreated 40 metres in 2021.")
    note(tmp_path / "corpus", "own.txt", "Our own text.")
    os.symlink(outside, tmp_path / "corpus" / "facts.txt")
    plain = cli("ingest", "--quiet", str(tmp_path / "corpus"), index=index)
    assert plain.returncode == 0 and "1 added" in plain.stdout and "1 file(s) skipped" in plain.stdout
    assert "--follow-symlinks" in plain.stderr
    followed = cli("ingest", "--quiet", "--follow-symlinks", str(tmp_path / "corpus"), index=index)
    assert followed.returncode == 0 and "1 added" in followed.stdout and "skipped" not in followed.stdout
