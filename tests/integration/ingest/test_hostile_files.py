"""Hostile and damaged files are contained: each is a per-file reason, the good files of the same batch are
indexed, and nothing expands past the caps before it is parsed. Through the CLI (a real process), the Python API
and the upload path; the page itself is in test_upload_browser.py."""

from __future__ import annotations

import codecs
import json
import os
import resource
import signal
import struct
import threading
import time
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest

from assistant.ingest.readers import Skipped, collect
from assistant.ingest.readers.isolated import stop_reader
from assistant.ingest.readers.limits import Limits
from assistant.ingest.uploads import discard_incoming, ingest_uploads, uploads_dir
from assistant.ingest.readers.pdf import MAX_PAGE_CHARS
from hostile_files import (BAD_XML, LAUGHS, crowded_page_pdf, damaged_pdf, deflate_bomb_pdf, docx_with_document_xml,
                           docx_with_renamed_main_part, run_length_bomb_pdf, text_pdf, three_page_pdf, word_file,
                           zip_bomb_docx, zip_bytes)
from cli_support import run

GOOD = "Harbour report\n\nThe harbour of Kelvara was dredged in 1999 by the Marigold company.\n"
UTF16_TEXT = "Grüße aus Köln\n\nDer Dom von Köln wurde 1880 vollendet, nach mehr als sechs Jahrhunderten.\n"


def hostile_folder(folder: Path) -> dict[str, str]:
    """A folder of hostile files, each with the words its skip reason must contain, plus good files."""
    folder.mkdir(parents=True, exist_ok=True)
    zip_bomb_docx(folder / "bomb.docx", expanded_mb=300)
    docx_with_document_xml(folder / "laughs.docx", LAUGHS)
    docx_with_document_xml(folder / "bad-xml.docx", BAD_XML)
    damaged_pdf(folder / "damaged.pdf")
    deflate_bomb_pdf(folder / "pdf-bomb.pdf", expanded_mb=200)
    run_length_bomb_pdf(folder / "rl-bomb.pdf", expanded_mb=256)  # 4 MB; 2 GB in pdfminer's hands
    (folder / "good.txt").write_text(GOOD, encoding="utf-8")
    (folder / "utf16.txt").write_bytes(codecs.BOM_UTF16_LE + UTF16_TEXT.encode("utf-16-le"))
    (folder / "utf8-bom.md").write_bytes(codecs.BOM_UTF8 + "# Notes\n\nThe ferry leaves at nine.\n".encode())
    return {"bomb.docx": "max_expanded_mb", "laughs.docx": "DTD", "bad-xml.docx": "malformed XML",
            "damaged.pdf": "damaged or unsupported PDF", "pdf-bomb.pdf": "setting max_compression_ratio",
            "rl-bomb.pdf": "needed more than 768 MB of memory (setting max_reader_mb)"}


GOOD_IDS = ["good.txt", "utf16.txt", "utf8-bom.md"]


def test_cli_ingest_reports_each_hostile_file_and_indexes_the_good_ones(tmp_path):
    reasons = hostile_folder(tmp_path / "mixed")
    env = {"ASSISTANT_INDEX_DIR": str(tmp_path / "index"), "ASSISTANT_CORPUS_DIR": str(tmp_path / "none")}
    started = time.monotonic()
    proc = run(["ingest", str(tmp_path / "mixed"), "--quiet"], env)  # exit code 0 asserted by run()
    elapsed = time.monotonic() - started
    assert "Traceback" not in proc.stderr
    assert "3 added" in proc.stdout and "6 file(s) skipped" in proc.stdout
    for name, words in reasons.items():
        line = next(line for line in proc.stderr.splitlines() if line.startswith("skipped") and name in line)
        assert words in line, line
    docs = json.loads(run(["docs", "--json"], env).stdout)
    assert sorted(d["doc_id"] for d in docs) == GOOD_IDS
    answer = json.loads(run(["ask", "When was the cathedral of Köln completed?", "--json"], env).stdout)
    found = {(c["doc_id"], c["text"]) for c in answer["contexts"][:2]}  # the UTF-16 file, decoded and indexed
    assert ("utf16.txt", UTF16_TEXT.split("\n\n")[1].strip()) in found, answer["contexts"]
    print(f"CLI ingest of the hostile folder took {elapsed:.1f} s (includes loading the model)")


def test_python_api_ingest_skips_hostile_files_and_keeps_the_good_ones(make_assistant, tmp_path):
    reasons = hostile_folder(tmp_path / "mixed")
    report = make_assistant().ingest([tmp_path / "mixed"])
    assert sorted(report.added) == GOOD_IDS
    skipped = {Path(s["path"]).name: s["reason"] for s in report.skipped}
    assert set(skipped) == set(reasons)
    for name, words in reasons.items():
        assert words in skipped[name]


def test_uploads_of_hostile_files_are_refused_and_leave_no_copy(make_assistant, tmp_path):
    reasons = hostile_folder(tmp_path / "incoming")
    assistant = make_assistant(max_upload_mb=5)
    names = [*reasons, "good.txt", "utf16.txt"]
    results = ingest_uploads(assistant, [str(tmp_path / "incoming" / n) for n in names])
    by_name = {r["name"]: r for r in results}
    for name, words in reasons.items():
        assert not by_name[name]["ok"] and words in by_name[name]["message"], by_name[name]
    assert by_name["good.txt"]["ok"] and by_name["utf16.txt"]["ok"]
    assert sorted(p.name for p in uploads_dir(assistant.settings).iterdir()) == ["good.txt", "utf16.txt"]
    assert sorted(d.doc_id for d in assistant.documents()) == ["good.txt", "utf16.txt"]
    assert (tmp_path / "incoming" / "bomb.docx").exists()  # a caller's own file is never deleted


def test_gradios_copy_of_an_upload_is_deleted_whether_accepted_or_refused(make_assistant, tmp_path, monkeypatch):
    gradio_tmp = tmp_path / "gradio-tmp"
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(gradio_tmp))
    incoming = []
    for n, (name, data) in enumerate([("bomb.docx", None), ("notes.txt", GOOD.encode()), ("x.exe", b"MZ")]):
        path = gradio_tmp / f"{n:064x}" / name  # as gradio saves it: <folder>/<salted sha256>/<name>
        path.parent.mkdir(parents=True)
        zip_bomb_docx(path, expanded_mb=300) if data is None else path.write_bytes(data)
        incoming.append(path)
    results = ingest_uploads(make_assistant(), [str(p) for p in incoming])
    assert [r["ok"] for r in results] == [False, True, False]
    assert list(gradio_tmp.iterdir()) == []  # files and their folders gone
    outside = tmp_path / "keep.txt"
    outside.write_text("mine")
    discard_incoming(outside)
    assert outside.exists()


def test_settings_set_the_caps(make_assistant, tmp_path):
    word_file(tmp_path / "memo.docx", "A perfectly ordinary memo.")
    report = make_assistant(max_expanded_mb=0.01).ingest([tmp_path / "memo.docx"])
    assert report.added == [] and "max_expanded_mb" in report.skipped[0]["reason"]
    report = make_assistant(max_xml_mb=0.01).ingest([tmp_path / "memo.docx"])
    assert report.added == [] and "max_xml_mb" in report.skipped[0]["reason"]
    report = make_assistant(max_file_mb=0.001).ingest([tmp_path / "memo.docx"])
    assert report.added == [] and "max_file_mb" in report.skipped[0]["reason"]
    assert make_assistant().ingest([tmp_path / "memo.docx"]).added == ["memo.docx"]
    (tmp_path / "notes.txt").write_text("Plain notes, a few words long.\n", encoding="utf-8")
    report = make_assistant(max_text_mb=0.00001).ingest([tmp_path / "notes.txt"])
    assert report.added == [] and "max_text_mb" in report.skipped[0]["reason"]
    (tmp_path / "list.md").write_text("\n\n".join(f"Item {n} of the list." for n in range(1, 13)), encoding="utf-8")
    report = make_assistant(max_document_paragraphs=10).ingest([tmp_path / "list.md"])
    assert report.added == []
    assert "(12; the limit is 10, setting max_document_paragraphs)" in report.skipped[0]["reason"]
    assert make_assistant(max_document_paragraphs=12).ingest([tmp_path / "list.md"]).added == ["list.md"]


def test_cli_refuses_a_pdf_with_too_much_text_while_reading_it_and_indexes_the_rest(tmp_path):
    folder = tmp_path / "batch"
    folder.mkdir()
    text_pdf(folder / "heavy.pdf", pages=40)  # about 216 KB of text, 5.4 KB a page
    three_page_pdf(folder / "minutes.pdf", ["The ferry to Kelvara was cancelled twice in May.", "Budget.", "Votes."])
    (folder / "good.txt").write_text(GOOD, encoding="utf-8")
    env = {"ASSISTANT_INDEX_DIR": str(tmp_path / "index"), "ASSISTANT_CORPUS_DIR": str(tmp_path / "none"),
           "ASSISTANT_MAX_TEXT_MB": "0.05"}
    proc = run(["ingest", str(folder), "--quiet"], env)
    assert "Traceback" not in proc.stderr
    assert "2 added" in proc.stdout and "1 file(s) skipped" in proc.stdout
    line = next(line for line in proc.stderr.splitlines() if line.startswith("skipped") and "heavy.pdf" in line)
    assert "too much text for one document (more than 0.05 MB by page" in line and "setting max_text_mb" in line
    stopped_at = int(line.split("by page ")[1].split(";")[0])
    assert 9 <= stopped_at <= 11  # 0.05 MB is about page 10 of 40: refused while reading, not after
    docs = json.loads(run(["docs", "--json"], env).stdout)
    assert sorted(d["doc_id"] for d in docs) == ["good.txt", "minutes.pdf"]
    answer = json.loads(run(["ask", "What happened to the ferry to Kelvara in May?", "--json"], env).stdout)
    assert answer["citations"][0]["doc_id"] == "minutes.pdf" and answer["citations"][0]["page"] == 1


def test_a_pdf_with_too_many_paragraphs_is_refused_at_the_page_that_passes_the_cap(make_assistant, tmp_path):
    text_pdf(tmp_path / "long.pdf", pages=6)  # 10 paragraphs a page
    report = make_assistant(max_document_paragraphs=25).ingest([tmp_path / "long.pdf"])
    assert report.added == []
    assert ("too many paragraphs for one document (more than 25 by page 3; setting max_document_paragraphs)"
            in report.skipped[0]["reason"])
    assert make_assistant(max_document_paragraphs=60).ingest([tmp_path / "long.pdf"]).added == ["long.pdf"]


def test_a_page_with_more_characters_than_any_real_page_is_refused(tmp_path):
    skipped = only(crowded_page_pdf(tmp_path / "crowded.pdf", MAX_PAGE_CHARS + 1_000))
    assert isinstance(skipped, Skipped)
    assert f"page 1 holds more than {MAX_PAGE_CHARS:,} characters" in skipped.reason


def test_a_deflate_bomb_in_a_pdf_is_refused_before_pdfminer_inflates_it(tmp_path):
    skipped = only(deflate_bomb_pdf(tmp_path / "bomb.pdf", expanded_mb=400))  # pdfminer would hold 400 MB at once
    assert isinstance(skipped, Skipped) and "a deflate bomb's ratio (setting max_compression_ratio)" in skipped.reason
    document = only(deflate_bomb_pdf(tmp_path / "fine.pdf", expanded_mb=0.5))
    assert not isinstance(document, Skipped), document.reason  # under 1 MB: not ratio-checked (as in zip packages)
    assert document.paragraphs[0].text == "The harbour report."


def test_a_pdf_reader_past_its_memory_or_time_cap_is_stopped_and_the_next_pdf_is_read(make_assistant, tmp_path):
    """pdfminer decodes a run-length stream whole, as a list of ints (some 8 bytes a byte): 16 MB expanded holds
    about 130 MB; the reader's process (readers/isolated.py) is capped below that, then above it."""
    run_length_bomb_pdf(tmp_path / "runs.pdf", expanded_mb=16)
    three_page_pdf(tmp_path / "minutes.pdf", ["The ferry to Kelvara was cancelled twice in May.", "Budget.", "Votes."])
    report = make_assistant(max_reader_mb=64).ingest([tmp_path / "runs.pdf", tmp_path / "minutes.pdf"])
    assert report.added == ["minutes.pdf"]
    assert "needed more than 64 MB of memory (setting max_reader_mb)" in report.skipped[0]["reason"]
    assert make_assistant(max_reader_mb=1024).ingest([tmp_path / "runs.pdf"]).added == ["runs.pdf"]
    text_pdf(tmp_path / "long.pdf", pages=40)  # some seconds of layout
    report = make_assistant(max_read_seconds=0.3).ingest([tmp_path / "long.pdf", tmp_path / "minutes.pdf"])
    assert "took longer than 0.3 s (setting max_read_seconds)" in report.skipped[0]["reason"]
    assert report.unchanged == ["minutes.pdf"]  # read again by a fresh reader process, found unchanged


def test_a_pdf_reader_killed_halfway_is_a_reason_and_the_next_pdf_is_read(tmp_path):
    text_pdf(tmp_path / "long.pdf", pages=60)  # seconds of layout
    three_page_pdf(tmp_path / "minutes.pdf", ["The ferry to Kelvara was cancelled twice in May.", "Budget.", "Votes."])
    items = collect([tmp_path / "long.pdf", tmp_path / "minutes.pdf"])
    killer = threading.Thread(target=kill_reader_process, args=(tmp_path / "long.pdf",), daemon=True)
    killer.start()
    first, second = list(items)
    killer.join()
    assert isinstance(first, Skipped) and "its reader process died (signal 9)" in first.reason, first
    assert not isinstance(second, Skipped) and second.paragraphs[0].text.startswith("The ferry to Kelvara")
    assert reader_processes() == []  # stopped when the reading ended


def test_a_pdf_is_read_in_a_process_holding_more_than_1024_descriptors(tmp_path):
    """A server holds many (chromadb's files, sockets): waiting on the reader must not use select(), whose
    descriptors stop at 1,023."""
    three_page_pdf(tmp_path / "minutes.pdf", ["The ferry to Kelvara was cancelled twice in May.", "Budget.", "Votes."])
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 4096)), hard))
    held = [os.open(os.devnull, os.O_RDONLY) for _ in range(1100)]
    try:
        stop_reader()  # a reader started now gets descriptors above 1,024
        document = only(tmp_path / "minutes.pdf")
    finally:
        for fd in held:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    assert not isinstance(document, Skipped), document.reason
    assert document.paragraphs[0].text.startswith("The ferry to Kelvara")


def reader_processes() -> list[int]:
    """Our own children running assistant.ingest.readers.reader_child."""
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            ppid = int(next(line for line in status.read_text().splitlines() if line.startswith("PPid:")).split()[1])
            if ppid == os.getpid() and b"reader_child" in (status.parent / "cmdline").read_bytes():
                found.append(int(status.parent.name))
        except (OSError, StopIteration, ValueError):
            continue
    return found


def kill_reader_process(reading: Path) -> None:
    """Kill the reader's process once it has `reading` open (past its start, into the PDF)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        for pid in reader_processes():
            try:
                if any(os.readlink(fd) == str(reading) for fd in Path(f"/proc/{pid}/fd").iterdir()):
                    os.kill(pid, signal.SIGKILL)
                    return
            except OSError:  # a descriptor closed while we looked
                continue
        time.sleep(0.02)


def only(path: Path, limits: Limits | None = None):
    items = list(collect([path], limits))
    assert len(items) == 1
    return items[0]


def test_zip_bomb_is_refused_from_its_directory_in_no_time(tmp_path):
    bomb = zip_bomb_docx(tmp_path / "bomb.docx", expanded_mb=300)
    started = time.perf_counter()
    item = only(bomb)
    assert isinstance(item, Skipped) and "300.0 MB" in item.reason and "max_expanded_mb" in item.reason
    assert time.perf_counter() - started < 5  # it is never decompressed (a hang guard, generous for a busy machine)


def test_high_compression_ratio_is_refused_below_the_size_cap(tmp_path):
    item = only(zip_bomb_docx(tmp_path / "small-bomb.docx", expanded_mb=40))
    assert isinstance(item, Skipped) and "max_compression_ratio" in item.reason and "zip bomb" in item.reason


def test_a_size_the_directory_understates_is_caught_while_streaming(tmp_path):
    """Declared sizes can lie: the central directory says 1 KB, the deflated data holds 5 MB."""
    path = tmp_path / "liar.docx"
    path.write_bytes(zip_bytes({"word/document.xml": b"<w:document>" + b" " * 5_000_000 + b"</w:document>"}))
    data = bytearray(path.read_bytes())
    central = data.rfind(b"PK\x01\x02")
    data[central + 24:central + 28] = struct.pack("<I", 1024)  # uncompressed size in the central directory
    path.write_bytes(bytes(data))
    item = only(path, replace(Limits.defaults(), max_file_bytes=10**9, max_expanded_bytes=10**9, max_xml_bytes=10**9,
                              max_ratio=10**6, max_text_bytes=10**9))
    assert isinstance(item, Skipped) and ("damaged" in item.reason or "max_expanded_mb" in item.reason), item


def test_too_many_parts_are_refused_before_the_directory_is_loaded(tmp_path):
    path = tmp_path / "many.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        for n in range(20_001):
            archive.writestr(f"x/{n}", b"")
    item = only(path)
    assert isinstance(item, Skipped) and "20,001 parts" in item.reason


def test_a_dtd_is_refused_in_any_encoding_and_an_epub_may_say_doctype_html(tmp_path):
    xml = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE x [<!ENTITY a "b">]><w:document/>'
    path = docx_with_document_xml(tmp_path / "utf16-dtd.docx", codecs.BOM_UTF16_LE + xml.encode("utf-16-le"))
    item = only(path)
    assert isinstance(item, Skipped) and "DTD" in item.reason
    from test_formats import epub_file

    plain = epub_file(tmp_path / "plain.epub", chapters=[("One", "<p>Plain chapter text.</p>")],
                      doctype="<!DOCTYPE html>")
    assert [p.text for p in only(plain).paragraphs] == ["One", "Plain chapter text."]
    entity = epub_file(tmp_path / "entity.epub", chapters=[("One", "<p>&x;</p>")],
                       doctype='<!DOCTYPE html [<!ENTITY x "boom">]>')
    item = only(entity)
    assert isinstance(item, Skipped) and "refused" in item.reason


@pytest.mark.parametrize("name, data, expected", [
    ("le.txt", codecs.BOM_UTF16_LE + "Zürich, first.\n\nSecond.".encode("utf-16-le"), ["Zürich, first.", "Second."]),
    ("be.txt", codecs.BOM_UTF16_BE + "Big endian.".encode("utf-16-be"), ["Big endian."]),
    ("u8.md", codecs.BOM_UTF8 + "# Título\n\nCuerpo.".encode(), ["# Título", "Cuerpo."]),
    ("u32.txt", codecs.BOM_UTF32_LE + "Thirty-two.".encode("utf-32-le"), ["Thirty-two."]),
])
def test_text_is_decoded_by_its_byte_order_mark(tmp_path, name, data, expected):
    (tmp_path / name).write_bytes(data)
    doc = only(tmp_path / name)
    assert [p.text for p in doc.paragraphs] == expected
    assert not doc.text.startswith("\ufeff")


def test_nul_bytes_without_a_byte_order_mark_are_still_binary(tmp_path):
    (tmp_path / "x.txt").write_bytes("no mark".encode("utf-16-le"))
    item = only(tmp_path / "x.txt")
    assert isinstance(item, Skipped) and "binary" in item.reason


# --- issue 20 item 5: files the limits were meant to stop ------------------------------------------------------
def test_a_docx_with_its_main_part_renamed_is_capped_as_xml(tmp_path):
    """word/document.xml renamed word/document.bin (content types and rels fixed) skipped the XML cap and the
    DOCTYPE scan: 3.2 GB for 150 MB of XML. XML is now known by what a part holds."""
    limits = Limits.defaults()
    big = docx_with_renamed_main_part(tmp_path / "renamed.docx", xml_mb=int(limits.max_xml_bytes / 1_048_576) + 5)
    laughs = docx_with_renamed_main_part(tmp_path / "laughs-renamed.docx", xml=LAUGHS)
    utf32 = docx_with_renamed_main_part(tmp_path / "laughs-utf32.docx", xml=LAUGHS, name="document.xml",
                                        encoding="utf-32-le")  # no byte-order mark
    found = {Path(d.path if isinstance(d, Skipped) else d.source).name: d for d in collect([tmp_path], limits)}
    assert isinstance(found["renamed.docx"], Skipped) and "max_xml_mb" in found["renamed.docx"].reason
    assert isinstance(found["laughs-renamed.docx"], Skipped) and "DTD" in found["laughs-renamed.docx"].reason
    assert isinstance(found["laughs-utf32.docx"], Skipped) and "DTD" in found["laughs-utf32.docx"].reason
    assert big.stat().st_size < limits.max_file_bytes  # refused for what it expands to, not its size on disk


def test_a_text_file_that_is_one_line_becomes_bounded_paragraphs(make_assistant, tmp_path):
    """A text with no line breaks was one paragraph: 1.5 GB for a 5 MB file, 12 GB for 50 MB before a chunk was
    embedded. It is now cut into paragraphs of at most MAX_PARAGRAPH_CHARS, each quoted and cited like any other."""
    from assistant.ingest.readers.base import MAX_PARAGRAPH_CHARS

    words = ("harbour ledger quay ferry tide lantern granite survey parish mill orchard barley kiln cooper weir "
             "causeway shoal marsh heron").split()
    filler = " ".join(words[i % len(words)] for i in range(12_000))
    line = f"{filler} The beacon of Tarsk is lit every night at nine by Ada Brun. {filler}"
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "one-line.txt").write_text(line, encoding="utf-8")
    document = next(collect([tmp_path / "docs"], Limits.defaults()))
    assert len(document.paragraphs) > 1 and max(len(p.text) for p in document.paragraphs) <= MAX_PARAGRAPH_CHARS
    assert "".join(p.text for p in document.paragraphs).replace(" ", "") == line.replace(" ", "")  # nothing lost
    assistant = make_assistant()
    assistant.ingest([tmp_path / "docs"])
    answer = assistant.ask("Who lights the beacon of Tarsk?")
    assert not answer.refused and "Ada Brun" in answer.text, answer.text
    assert all(len(c.text) <= MAX_PARAGRAPH_CHARS for c in answer.citations)
