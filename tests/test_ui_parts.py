"""The web UI's parts without a server: what the sources panel and chat show, uploads, where the app listens."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.settings import Settings
from assistant.ui import launch_options
from assistant.ui import render
from assistant.ui.uploads import forget_upload, ingest_uploads, safe_name, uploads_dir

PARAGRAPH = "The station was founded in 1987 by the geologist Hanna Voss. It has twelve   scientists."


def citation(marker=1, quote="founded in 1987 by the geologist Hanna Voss", verified=None, **extra):
    data = {"marker": marker, "doc_id": "station.txt", "title": "Station", "paragraph": 2, "text": PARAGRAPH,
            "quote": quote, "score": 1.0, "verified": verified}
    data.update(extra)
    return data


def answer(text="It was founded by Hanna Voss. [1]", citations=None, **extra):
    data = {"answer": text, "refused": False, "citations": [citation()] if citations is None else citations,
            "contexts": [], "question": "Who founded it?", "mode": "offline", "notes": [], "unsupported": False,
            "usage": {}}
    data.update(extra)
    return data


# --- chat and sources panel -----------------------------------------------------------------------------
def test_markers_link_to_their_source_cards_and_document_text_cannot_inject_markup():
    html = render.chat_message(answer("<script>alert(1)</script> Voss founded it. [1] Unknown [7]."), turn=3)
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert 'href="#src-3-1"' in html and 'title="Station ¶2"' in html
    assert "[7]" in html and "#src-3-7" not in html  # a marker with no citation stays plain text
    assert "Sources:" in html and "Station ¶2" in html


def test_every_marker_form_the_checker_accepts_is_linked_on_the_page():
    two = [citation(1), citation(2, quote="It has twelve scientists."), citation(3, quote="It has twelve scientists.")]
    html = render.chat_message(answer("Voss founded it [1-3]. Twelve work there [^2] and [source 3].",
                                      citations=two), turn=0)
    assert all(f'href="#src-0-{n}"' in html for n in (1, 2, 3))
    assert "[1-3]" not in html and "[^2]" not in html and "[source 3]" not in html


def test_quote_is_highlighted_inside_the_whole_paragraph():
    panel = render.sources_panel([{"question": "Who founded it?", "answer": answer()}])
    assert 'id="src-0-1"' in panel and 'data-paragraph="2"' in panel and "¶2" in panel
    assert "<mark>founded in 1987 by the geologist Hanna Voss</mark>" in panel
    assert "It has twelve   scientists." in panel  # the whole paragraph, not only the quote


def test_quote_found_despite_different_spacing_and_case_and_reported_when_absent():
    body, found = render.highlight(PARAGRAPH, "it has TWELVE scientists.")
    assert found and "<mark>It has twelve   scientists.</mark>" in body
    panel = render.sources_panel([{"question": "q", "answer": answer(citations=[citation(quote="not there")])}])
    assert "<mark>" not in panel and "not found word for word" in panel


def test_declined_answer_says_so_plainly():
    declined = answer("The documents do not say.", citations=[], refused=True,
                      contexts=[{"doc_id": "station.txt", "title": "Station", "paragraph": 1, "text": "Hi.",
                                 "score": 0.1}])
    panel = render.sources_panel([{"question": "What is the capital of France?", "answer": declined}])
    assert "No answer in the documents" in panel and "src-card" not in panel
    assert "Closest passages" in panel
    assert 'class="declined"' in render.chat_message(declined, 0)


def test_unverified_citations_are_marked_in_chat_and_panel():
    llm = answer("Voss founded it [1] in 1990 [2].", mode="llm",
                 citations=[citation(1, verified=True), citation(2, quote="It has twelve scientists.", verified=False)])
    chat = render.chat_message(llm, 0)
    assert chat.count('class="cite unverified"') == 1 and "not verified" in chat
    panel = render.sources_panel([{"question": "q", "answer": llm}])
    assert panel.count("src-card unverified") == 1 and "not verified" in panel
    assert panel.count('<mark class="weak">') == 1  # an unverified span is not shown as support
    flagged = render.sources_panel([{"question": "q", "answer": answer(unsupported=True, notes=["LLM unreachable"])}])
    assert "could be verified" in flagged and "LLM unreachable" in flagged


def test_latest_answer_first_and_earlier_answers_folded_with_their_own_card_ids():
    turns = [{"question": f"question {n}", "answer": answer()} for n in range(3)]
    panel = render.sources_panel(turns)
    assert panel.index("question 2") < panel.index("Earlier answers") < panel.index("question 1")
    assert all(f'id="src-{n}-1"' in panel for n in range(3))
    assert render.chat_messages(turns)[-1]["content"].count('href="#src-2-1"') == 2  # marker and source list


def test_history_is_plain_messages_and_skips_failed_turns():
    turns = [{"question": "q1", "answer": answer("a1")}, {"question": "q2", "answer": None, "error": "boom"}]
    assert render.history(turns) == [{"role": "user", "content": "q1"}, {"role": "assistant", "content": "a1"}]
    assert "boom" in render.chat_messages(turns)[-1]["content"]


# --- uploads --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name, expected", [
    ("report.PDF", "report.pdf"),
    ("../../etc/passwd", "passwd"),
    ("..\\..\\evil name (1).txt", "evil_name_1.txt"),
    ("Résumé final.docx", "Resume_final.docx"),
    (".hidden.md", "hidden.md"),
    ("notes", "notes"),
])
def test_safe_name(name, expected):
    assert safe_name(name) == expected


def test_safe_name_of_a_non_latin_name_is_stable_and_distinct():
    assert safe_name("报告.txt") == safe_name("报告.txt") != safe_name("笔记.txt")
    assert safe_name("报告.txt").endswith(".txt") and "/" not in safe_name("报告.txt")


def write(folder: Path, name: str, data: str | bytes) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode())
    return str(path)


def test_uploads_are_stored_safely_indexed_and_bad_files_reported(make_assistant, tmp_path):
    assistant = make_assistant()
    incoming = tmp_path / "incoming"
    files = [write(incoming, "station notes (v1).txt", "Marigold Station\n\nIt was founded by Hanna Voss.\n"),
             write(incoming, "broken.pdf", b"%PDF-1.4 this is not really a pdf"),
             write(incoming, "table.xyz", "a,b\n"),
             write(incoming, "empty.txt", "")]
    seen = []
    results = ingest_uploads(assistant, files, lambda done, total, name: seen.append((done, total)))
    by_name = {r["name"]: r for r in results}
    assert [r["name"] for r in results] == [Path(f).name for f in files]
    assert by_name["station notes (v1).txt"]["ok"] and "2 paragraphs" in by_name["station notes (v1).txt"]["message"]
    assert not by_name["broken.pdf"]["ok"] and "PDF" in by_name["broken.pdf"]["message"]
    assert not by_name["table.xyz"]["ok"] and "not a supported file type" in by_name["table.xyz"]["message"]
    assert not by_name["empty.txt"]["ok"] and "empty" in by_name["empty.txt"]["message"]
    assert seen[0] == (0, 4) and seen[-1] == (4, 4)
    folder = uploads_dir(assistant.settings)
    assert folder == (tmp_path / "uploads").resolve()
    assert sorted(p.name for p in folder.iterdir()) == ["station_notes_v1.txt"]  # bad files are not kept
    assert [d.doc_id for d in assistant.documents()] == ["station_notes_v1.txt"]


def test_same_name_replaces_same_text_is_a_duplicate_and_size_is_limited(make_assistant, tmp_path):
    assistant = make_assistant(max_upload_mb=0.001)  # about 1 KB
    first = write(tmp_path / "a", "notes.txt", "One.\n\nTwo.\n")
    assert ingest_uploads(assistant, [first])[0]["ok"]
    second = write(tmp_path / "b", "notes.txt", "One.\n\nTwo.\n\nThree.\n")
    result = ingest_uploads(assistant, [second])[0]
    assert result["ok"] and "replaced" in result["message"] and "3 paragraphs" in result["message"]
    copy = write(tmp_path / "c", "copy.txt", "One.\n\nTwo.\n\nThree.\n")
    result = ingest_uploads(assistant, [copy])[0]
    assert not result["ok"] and "same text as" in result["message"] and "notes.txt" in result["message"]
    big = write(tmp_path / "d", "big.txt", "word " * 1000)
    result = ingest_uploads(assistant, [big])[0]
    assert not result["ok"] and "too large" in result["message"]
    assert [(d.doc_id, d.paragraphs) for d in assistant.documents()] == [("notes.txt", 3)]
    assert sorted(p.name for p in uploads_dir(assistant.settings).iterdir()) == ["notes.txt"]


def test_forget_upload_only_deletes_inside_the_uploads_folder(make_assistant, tmp_path):
    assistant = make_assistant()
    ingest_uploads(assistant, [write(tmp_path / "in", "a.txt", "Alpha.\n")])
    outside = Path(write(tmp_path / "elsewhere", "b.txt", "Beta.\n"))
    forget_upload(assistant.settings, str(outside))
    assert outside.exists()
    doc = assistant.documents()[0]
    forget_upload(assistant.settings, doc.source)
    assert not Path(doc.source).exists()


# --- where the app listens ------------------------------------------------------------------------------
def test_listens_on_loopback_7860_by_default(monkeypatch):
    monkeypatch.delenv("GRADIO_SERVER_NAME", raising=False)
    monkeypatch.delenv("GRADIO_SERVER_PORT", raising=False)
    options = launch_options(Settings.load(config_file="/nonexistent.toml"))
    assert (options["server_name"], options["server_port"], options["auth"]) == ("127.0.0.1", 7860, None)
    assert options["share"] is False and options["max_file_size"] == 20 * 1_048_576


def test_gradio_variables_are_honoured_and_assistant_settings_win(monkeypatch):
    monkeypatch.setenv("GRADIO_SERVER_NAME", "0.0.0.0")
    monkeypatch.setenv("GRADIO_SERVER_PORT", "9123")
    options = launch_options(Settings.load(config_file="/nonexistent.toml"))
    assert (options["server_name"], options["server_port"]) == ("0.0.0.0", 9123)
    monkeypatch.setenv("ASSISTANT_UI_HOST", "127.0.0.2")
    monkeypatch.setenv("ASSISTANT_UI_PORT", "9200")
    options = launch_options(Settings.load(config_file="/nonexistent.toml"))
    assert (options["server_name"], options["server_port"]) == ("127.0.0.2", 9200)


def test_login_from_settings(monkeypatch):
    assert launch_options(Settings(ui_auth="ann:s3cret:x"))["auth"] == ("ann", "s3cret:x")
    with pytest.raises(ValueError, match="user:password"):
        launch_options(Settings(ui_auth="no-colon"))
