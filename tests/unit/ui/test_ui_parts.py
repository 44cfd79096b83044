"""The web UI's parts without a server: what the sources panel and chat show, uploads, where the app listens."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.config.settings import Settings
from assistant.config.masking import mask_url
from assistant.ui import page_options, server_address
from assistant.ui.settings_tab import backend_description, check_base_url
from assistant.ui import render
from assistant.ingest.uploads import forget_upload, ingest_uploads, safe_name, uploads_dir

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


def test_markdown_and_html_from_documents_and_models_stay_text():
    leak = "![x](http://10.1.2.3/p.png?leak=1) <img src=http://10.1.2.3/q.png> [y](javascript:alert(1))"
    data = answer(f"Voss founded it {leak} [1].", citations=[citation(text=PARAGRAPH + " " + leak)])
    for html in (render.chat_message(data, 0), render.sources_panel([{"question": leak, "answer": data}]),
                 render.chat_text(leak, "partial")):
        assert "<img" not in html and "&lt;img src=http://10.1.2.3/q.png&gt;" in html
        assert "![x](http://10.1.2.3/p.png?leak=1)" in html  # Markdown is not rendered: it is shown as written


def test_weak_support_and_confidence_are_shown_only_when_the_answer_has_them():
    weak = render.chat_message(answer(confidence=0.42, support="weak", uncovered=["capital", "France"]), 0)
    assert "Weakly supported — the sources do not cover: capital, France" in weak and "confidence 42%" in weak
    sure = render.chat_message(answer(confidence=0.9, support="confident", uncovered=[]), 0)
    assert "Weakly" not in sure and "confidence 90%" in sure
    plain = render.chat_message(answer(), 0)
    assert "Weakly" not in plain and "confidence" not in plain


def test_source_cards_have_a_more_context_control():
    panel = render.sources_panel([{"question": "q", "answer": answer(citations=[citation(doc_id="a/b c.txt")])}])
    assert '<button type="button" class="more-context" data-doc="a/b c.txt" data-paragraph="2"' in panel


@pytest.mark.parametrize("url, shown", [
    ("http://ann:pa55word@host:8080/v1", "http://ann:***@host:8080/v1"),
    ("https://host/v1?api_key=pa55word&x=1", "https://host/v1?api_key=***&x=1"),
    ("http://pa55word@host/v1", "http://***@host/v1"),
    ("http://localhost:11434/v1", "http://localhost:11434/v1"),
])
def test_mask_url(url, shown):
    assert mask_url(url) == shown


def test_backend_box_masks_credentials_and_says_whose_model_it_is():
    settings = Settings(openai_base_url="http://ann:pa55word@llm.local:8080/v1", llm_model="m1",
                        chroma_host="ann:pa55word@chroma.local")
    box = backend_description(settings, "llm")
    assert "pa55word" not in box and "http://ann:***@llm.local:8080/v1" in box and "m1" in box
    tab = backend_description(settings, "llm", {"base_url": "http://127.0.0.1:9/v1", "model": "llama<3>"})
    assert "this tab only" in tab and "llama&lt;3&gt;" in tab and "http://127.0.0.1:9/v1" in tab
    assert "offline extractive" in backend_description(settings, "offline")
    assert check_base_url("http://localhost:11434/v1") is None
    assert "base URL" in check_base_url("localhost:11434") and "credentials" in check_base_url("http://a:b@h/v1")


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
    settings = Settings.load(config_file="/nonexistent.toml")
    options = page_options(settings, "page-key")
    assert server_address(settings) == ("127.0.0.1", 7860) and options["auth"] is None
    assert options["max_file_size"] == 20 * 1_048_576 and options["mcp_server"] is False
    assert 'content="page-key"' in options["head"]


def test_gradio_variables_are_honoured_and_assistant_settings_win(monkeypatch):
    monkeypatch.setenv("GRADIO_SERVER_NAME", "0.0.0.0")
    monkeypatch.setenv("GRADIO_SERVER_PORT", "9123")
    assert server_address(Settings.load(config_file="/nonexistent.toml")) == ("0.0.0.0", 9123)
    monkeypatch.setenv("ASSISTANT_UI_HOST", "127.0.0.2")
    monkeypatch.setenv("ASSISTANT_UI_PORT", "9200")
    assert server_address(Settings.load(config_file="/nonexistent.toml")) == ("127.0.0.2", 9200)


def test_login_from_settings(monkeypatch):
    assert page_options(Settings(ui_auth="ann:s3cret:x"))["auth"] == ("ann", "s3cret:x")
    with pytest.raises(ValueError, match="user:password"):
        page_options(Settings(ui_auth="no-colon"))


def test_the_sources_panel_offers_the_answer_with_footnotes_to_copy():
    """Issue 22: "Copy with sources" copies the answer with its citations as Markdown footnotes."""
    from assistant.ui import render

    answer = {"answer": "The keeper is Ada Brun [1].", "citations": [
        {"marker": 1, "doc_id": "report.txt", "title": "Harbour <report>", "paragraph": 3, "page": None,
         "text": "The lighthouse keeper is Ada Brun.", "quote": "The lighthouse keeper is Ada Brun."}]}
    html = render.sources_panel([{"question": "Who is the keeper?", "answer": answer}])
    assert 'class="copy-markdown"' in html
    markdown = html.split('<textarea class="answer-markdown" hidden readonly>')[1].split("</textarea>")[0]
    assert markdown.startswith("The keeper is Ada Brun[^1].")
    assert "[^1]: Harbour &lt;report&gt; (report.txt), ¶3: “The lighthouse keeper is Ada Brun.”" in markdown
