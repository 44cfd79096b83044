"""A zip bomb uploaded through the real page (headless Chromium, a real `python app.py`): refused with its
reason, the server stays up and answers, and no copy of any upload can be downloaded from Gradio's file route.
A 3-page PDF uploaded with it is cited with its page on the source card."""

from __future__ import annotations

import re
import urllib.error
import urllib.parse
import urllib.request

import pytest

from hostile_files import three_page_pdf, zip_bomb_docx
from test_ui_browser import WAIT_MS, ask, shot
from test_ui_server import start_app

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    folder = tmp_path_factory.mktemp("upload-browser")
    running = start_app(folder, ASSISTANT_MAX_UPLOAD_MB="5", GRADIO_TEMP_DIR=str(folder / "gradio-tmp"))
    yield running
    running.stop()


def peak_rss_mb(pid: int) -> float:
    status = open(f"/proc/{pid}/status").read()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024


def status_of(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_zip_bomb_upload_is_refused_the_server_answers_and_no_upload_stays_downloadable(browser, app, tmp_path):
    bomb = zip_bomb_docx(tmp_path / "quarterly report.docx", expanded_mb=300)
    survey = three_page_pdf(tmp_path / "survey.pdf", title="Lighthouse survey", pages=[
        "The survey covered three lighthouses on the northern coast.",
        "The Kelvara Point lamp was converted to solar power in 2019.",
        "All three towers need new paint before the winter storms."])
    context = browser.new_context(viewport={"width": 1400, "height": 950})
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    page.goto(app.url, wait_until="load")
    page.get_by_role("tab", name="Documents").click()
    gradio_tmp = app.folder / "gradio-tmp"
    before = {p for p in gradio_tmp.rglob("*") if p.is_file()}  # gradio's own scratch files, made at start
    with page.expect_response(lambda r: "/gradio_api/upload" in r.url and r.request.method == "POST") as sent:
        page.set_input_files("#upload input[type=file]", [str(bomb), str(survey)])
    gradio_copies = sent.value.json()
    assert len(gradio_copies) == 2
    page.wait_for_selector('#upload-results li[data-file="survey.pdf"]')
    refused = page.locator('#upload-results li[data-file="quarterly report.docx"]')
    assert "bad" in refused.get_attribute("class")
    assert "refused" in refused.inner_text() and "max_expanded_mb" in refused.inner_text()
    accepted = page.locator('#upload-results li[data-file="survey.pdf"]')
    assert "ok" in accepted.get_attribute("class") and "3 paragraphs" in accepted.inner_text()
    shot(page, "10-zip-bomb-refused.png")

    assert app.proc.poll() is None, app.output()
    for path in gradio_copies:  # Gradio's own copies, accepted or refused, are gone and cannot be fetched
        assert status_of(app.url + "gradio_api/file=" + urllib.parse.quote(path)) in (403, 404)
    left = {p for p in gradio_tmp.rglob("*") if p.is_file()} - before
    assert [p for p in left if p.stat().st_size > 0] == []  # gradio 6.31 leaves an empty tmpXXXX per upload
    assert sorted(p.name for p in (app.folder / "uploads").iterdir()) == ["survey.pdf"]

    page.get_by_role("tab", name="Chat").click()
    ask(page, "When was the Kelvara Point lamp converted to solar power?", 0)
    card = page.locator('#sources-box .src-latest .src-card[data-doc="survey.pdf"][data-paragraph="2"]')
    assert "¶2, p. 2" in card.locator(".src-head").inner_text()
    assert "2019" in page.locator("#chatbot .answer").last.inner_text()
    shot(page, "11-pdf-cited-with-page.png")
    print(f"server peak RSS after the zip bomb upload and a question: {peak_rss_mb(app.proc.pid):.0f} MB")
    context.close()
