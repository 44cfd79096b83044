"""The web UI in headless Chromium (Debian's chromium + playwright), against a real `python app.py` process.

Every page opened here records each request that leaves the server's origin (scheme, host and port) and each
Content-Security-Policy violation; both must stay empty: the page loads nothing from elsewhere, and gradio's
own frontend works within our policy.

Screenshots go to tests/screenshots/ (git-ignored). With CI=true a missing browser fails the run; elsewhere these
tests skip and say why.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse

import pytest

from conftest import ROOT, SEED_DOC, SEEDS

from assistant.config.masking import mask_url
from assistant.ingest.readers import collect
from test_ui_server import start_app

pytestmark = pytest.mark.browser

SHOTS = ROOT / "tests" / "screenshots"
WAIT_MS = 180_000  # hang guard for one step on a busy 2-core machine, not a speed requirement
PROVINCE = "In which eastern province were the airstrikes carried out?"  # ("In which province" reads "Syria": docs/benchmarks.md)
WEAK = "What weapons did the US use in Tuesday's precision strikes?"  # answered with confidence ~0.35 (weak band)
WEAK_GAP = "do not cover: weapons"
STATION = ("Marigold Station\n\n"
           "The base sits on the island of Kelvara, in the northern sea, and studies its volcanic rocks.\n\n"
           "Marigold Station was founded in 1987 by the geologist Hanna Voss.\n\n"
           "Today twelve scientists live there during the summer months.\n")


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    running = start_app(tmp_path_factory.mktemp("ui-browser"), ASSISTANT_MAX_UPLOAD_MB="1")
    yield running
    running.stop()


def origin(url: str) -> tuple:
    parts = urlparse(url)
    return parts.scheme, parts.hostname, parts.port


@pytest.fixture
def open_page(browser, app):
    """A new browser session on the app; records every request that leaves the server's origin and every CSP
    violation, and asserts at the end that there were none."""
    contexts, outside, violations = [], [], []

    def open_one(url: str | None = None):
        url = url or app.url
        context = browser.new_context(viewport={"width": 1400, "height": 950})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(WAIT_MS)
        page.add_init_script("document.addEventListener('securitypolicyviolation', e => "
                             "console.warn('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI))")
        page.on("console", lambda m: violations.append(m.text) if m.text.startswith("CSP violation") else None)
        page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(("data:", "blob:"))
                and origin(r.url) != origin(url) else None)
        page.goto(url, wait_until="load")
        page.wait_for_selector("#chat-input textarea")
        return page

    yield open_one
    for context in contexts:
        context.close()
    assert outside == [], f"the page fetched from outside the server: {outside}"
    assert violations == [], f"the page broke the Content-Security-Policy: {violations}"


class LeakCatcher:
    """A web server on another local port that records every request: a page that fetched from it leaked."""

    def __init__(self) -> None:
        hits = self.hits = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                hits.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def leak():
    catcher = LeakCatcher()
    yield catcher
    catcher.close()


def remote_images(page, leak_url: str) -> list[str]:
    return page.evaluate("u => Array.from(document.images).map(i => i.src).filter(s => s.startsWith(u))", leak_url)


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=True)


def ask(page, question: str, turn: int) -> None:
    page.fill("#chat-input textarea", question)
    page.keyboard.press("Enter")
    page.wait_for_selector(f'#sources-box .src-question[data-turn="{turn}"]')


def remove_on_page(page, name: str) -> None:
    """Remove the document whose entry in the Documents tab's list matches `name`."""
    page.get_by_role("tab", name="Documents").click()
    page.locator("#remove-choice input").click()
    page.get_by_role("option", name=re.compile(name)).click()
    page.click("#remove-button")
    page.wait_for_selector("#remove-result :text('Removed')")


def use_model(page, base_url: str, model: str) -> None:
    """Type a server and a model into the Settings tab and switch this tab to them."""
    page.get_by_role("tab", name="Settings").click()
    page.fill("#llm-base-url textarea, #llm-base-url input", base_url)
    page.fill("#llm-model textarea, #llm-model input", model)
    page.click("#llm-use")
    page.locator("#backend-info", has_text=model).wait_for()


def seed_paragraph(number: int) -> str:
    return re.split(r"\n\s*\n", (SEEDS / SEED_DOC).read_text(encoding="utf-8").strip())[number - 1].strip()


def test_question_about_the_seed_article_shows_the_cited_paragraph_with_its_quote_highlighted(open_page):
    page = open_page()
    shot(page, "00-empty.png")
    ask(page, PROVINCE, 0)
    answer = page.locator("#chatbot .answer").last
    assert "Deir al-Zour" in answer.inner_text()
    card = page.locator(f'#sources-box .src-latest .src-card[data-doc="{SEED_DOC}"][data-paragraph="2"]')
    assert card.count() == 1
    assert "¶2" in card.locator(".src-head").inner_text()
    assert card.locator(".src-para").inner_text().strip() == seed_paragraph(2)
    highlighted = card.locator(".src-para mark").inner_text()
    assert "Deir al-Zour" in highlighted and highlighted in seed_paragraph(2)
    marker = answer.locator("a.cite").first
    marker.click()  # a marker leads to its source card
    page.wait_for_selector(f"#{card.get_attribute('id')}.is-target")
    shot(page, "01-answer-with-sources.png")


def test_more_context_shows_the_neighbouring_paragraphs_of_a_cited_one(open_page):
    page = open_page()
    ask(page, PROVINCE, 0)
    card = page.locator(f'#sources-box .src-latest .src-card[data-doc="{SEED_DOC}"][data-paragraph="2"]')
    card.locator("button.more-context").click()
    card.locator(".src-neighbour").first.wait_for()
    neighbours = card.locator(".src-neighbour")
    assert [neighbours.nth(i).get_attribute("data-paragraph") for i in range(neighbours.count())] == ["1", "3"]
    assert neighbours.nth(0).inner_text() == "¶1" + seed_paragraph(1)
    assert neighbours.nth(1).inner_text() == "¶3" + seed_paragraph(3)
    assert card.locator(".src-para").inner_text().strip() == seed_paragraph(2)  # the cited one stays marked
    assert card.locator("button.more-context").inner_text() == "Less context"
    shot(page, "01b-more-context.png")
    card.locator("button.more-context").click()
    assert card.locator(".src-neighbour").count() == 0


def test_markdown_images_and_html_in_a_document_are_text_and_never_fetched(open_page, leak, tmp_path):
    doc = tmp_path / "observatory.md"
    doc.write_text("Kelvara Observatory\n\n"
                   f"The observatory on Kelvara ![chart]({leak.url}/p.png?leak=1) was built by the astronomer "
                   f'Tomas Lind <img src="{leak.url}/q.png?leak=2"> in 1992.\n\n'
                   "Its telescope has a mirror of two metres.\n", encoding="utf-8")
    page = open_page()
    page.get_by_role("tab", name="Documents").click()
    page.set_input_files("#upload input[type=file]", [str(doc)])
    page.wait_for_selector('#upload-results li[data-file="observatory.md"].ok')
    page.get_by_role("tab", name="Chat").click()
    ask(page, "Who built the observatory on Kelvara?", 0)
    card = page.locator('#sources-box .src-latest .src-card[data-doc="observatory.md"]').first
    shown = card.locator(".src-para").inner_text()
    assert f"![chart]({leak.url}/p.png?leak=1)" in shown and f'<img src="{leak.url}/q.png?leak=2">' in shown
    answer = page.locator("#chatbot .answer").last.inner_text()
    assert "Tomas Lind" in answer and f"({leak.url}/p.png?leak=1)" in answer
    page.wait_for_timeout(1000)  # give a stray fetch time to arrive
    assert remote_images(page, leak.url) == [] and leak.hits == []
    shot(page, "09-markdown-image-shown-as-text.png")
    remove_on_page(page, "observatory")


def test_behind_the_page_login_more_context_works_and_the_api_stays_closed(browser, seeded_index, tmp_path):
    shutil.copytree(seeded_index, tmp_path / "index")
    locked = start_app(tmp_path, ASSISTANT_UI_AUTH="ann:s3cret")
    try:
        context = browser.new_context()
        page = context.new_page()
        page.set_default_timeout(WAIT_MS)
        page.goto(locked.url)
        page.fill("input[type=text]", "ann")
        page.fill("input[type=password]", "s3cret")
        page.keyboard.press("Enter")
        page.wait_for_selector("#chat-input textarea")
        ask(page, PROVINCE, 0)
        card = page.locator('#sources-box .src-latest .src-card[data-paragraph="2"]')
        card.locator("button.more-context").click()  # the page's own key, handed out past the login
        card.locator('.src-neighbour[data-paragraph="3"]').wait_for()
        refused = page.request.get(locked.url + f"v1/documents/{SEED_DOC}/paragraphs/2")  # logged in, no key
        assert refused.status == 401 and refused.json()["error"]["code"] == "api_key_required"
        context.close()
    finally:
        locked.stop()


def test_a_follow_up_and_a_question_the_documents_cannot_answer(open_page):
    page = open_page()
    ask(page, PROVINCE, 0)
    ask(page, "Who is the director of communications for US Central Command?", 1)
    ask(page, "What is the capital of France?", 2)
    assert page.locator("#sources-box .src-latest .declined-box").is_visible()
    assert "do not say" in page.locator("#chatbot .declined").last.inner_text()
    earlier = page.locator("#sources-box details.src-earlier")
    assert earlier.count() == 2
    page.locator("#chatbot a.cite").first.click()  # the first answer's marker opens its folded sources
    page.wait_for_selector('#sources-box details.src-earlier[data-turn="0"][open] .src-card.is-target')
    shot(page, "02-follow-up-and-declined.png")


def test_follow_up_is_answered_and_every_answer_shows_how_far_the_sources_carry_it(open_page):
    page = open_page()
    ask(page, "Where did Pannett report from?", 0)
    ask(page, "And Loveluck?", 1)
    follow = page.locator("#chatbot .answer").last.inner_text()
    assert "Baghdad" in follow and "Sydney" in follow  # the one sentence that says where each reported from
    searched = page.locator('#sources-box .src-question[data-turn="1"] .src-meta').inner_text()
    assert "follow-up to: Where did Pannett report from?" in searched
    confidence = page.locator("#chatbot .cite-list .confidence").last.inner_text()
    assert re.search(r"confidence \d+%", confidence)
    assert page.locator("#chatbot .support.weak").count() == 0  # a confident answer carries no warning
    ask(page, WEAK, 2)
    label = page.locator("#chatbot .support.weak").last
    assert label.is_visible()
    assert label.inner_text().startswith("Weakly supported — the sources do not cover: ")
    assert WEAK_GAP in label.inner_text()
    ask(page, "How many militants were killed in the Deir al-Zour airstrikes?", 3)
    assert "do not say" in page.locator("#chatbot .declined").last.inner_text()
    assert page.locator("#chatbot .support.weak").count() == 1  # a declined question is not "weakly supported"
    shot(page, "02b-follow-up-weak-and-declined.png")


def test_offline_follow_up_answers_the_follow_up(open_page):
    page = open_page()
    ask(page, "Where were the airstrikes carried out?", 0)
    where = page.locator("#chatbot .answer").last.inner_text()
    assert "Syria" in where or "Deir al-Zour" in where  # the country (¶1) or the province (¶2)
    ask(page, "And who ordered them?", 1)
    first_sentence = page.locator("#chatbot .answer").last.inner_text().split("[", 1)[0]
    assert "President Biden" in first_sentence  # who ordered them, not where they were


def test_upload_documents_then_ask_about_them(open_page, app, tmp_path):
    good = tmp_path / "marigold notes.txt"
    good.write_text(STATION, encoding="utf-8")
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4\nthis is not a real PDF file\n")
    page = open_page()
    page.get_by_role("tab", name="Documents").click()
    page.wait_for_selector(f'#documents-table tr[data-doc="{SEED_DOC}"]')
    page.set_input_files("#upload input[type=file]", [str(good), str(broken)])
    page.wait_for_selector('#upload-results li[data-file="broken.pdf"]')
    ok = page.locator('#upload-results li[data-file="marigold notes.txt"]')
    assert "ok" in ok.get_attribute("class") and "indexed: 4 paragraphs" in ok.inner_text()
    bad = page.locator('#upload-results li[data-file="broken.pdf"]')
    assert "bad" in bad.get_attribute("class") and "PDF" in bad.inner_text()
    row = page.locator('#documents-table tr[data-doc="marigold_notes.txt"]')
    row.wait_for()
    assert row.locator("td.num").inner_text() == "4"
    assert (app.folder / "uploads" / "marigold_notes.txt").read_text(encoding="utf-8") == STATION
    assert not (app.folder / "uploads" / "broken.pdf").exists()
    shot(page, "03-documents-after-upload.png")

    too_big = tmp_path / "too big.txt"
    too_big.write_text("word " * 300_000)  # 1.5 MB; the limit is 1 MB
    page.set_input_files("#upload input[type=file]", [str(too_big)])
    page.get_by_text(re.compile("exceed", re.I)).first.wait_for()
    assert not (app.folder / "uploads" / "too_big.txt").exists()

    page.get_by_role("tab", name="Chat").click()
    ask(page, "Who founded Marigold Station?", 0)
    card = page.locator('#sources-box .src-latest .src-card[data-doc="marigold_notes.txt"][data-paragraph="3"]')
    assert "Hanna Voss" in card.locator("mark").inner_text()
    assert "Hanna Voss" in page.locator("#chatbot .answer").last.inner_text()
    title = page.locator('#sources-box .src-latest .src-doc-group[data-doc="marigold_notes.txt"] .src-title')
    assert title.inner_text().strip() == "Marigold Station"  # the file's headline line, once for its cards
    shot(page, "04-answer-from-upload.png")

    remove_on_page(page, "marigold_notes")
    assert page.locator('#documents-table tr[data-doc="marigold_notes.txt"]').count() == 0
    assert not (app.folder / "uploads" / "marigold_notes.txt").exists()


def test_two_sessions_at_once_keep_their_own_conversations(open_page):
    pages = {"alice": open_page(), "bob": open_page()}
    questions = {"alice": ["Where were the airstrikes?", "and who ordered them?"],
                 "bob": ["Who is the director of communications for US Central Command?", "and what did he say?"]}
    for turn in (0, 1):
        for name, page in pages.items():  # both questions are in flight before either answer is awaited
            page.fill("#chat-input textarea", questions[name][turn])
            page.keyboard.press("Enter")
        for page in pages.values():
            page.wait_for_selector(f'#sources-box .src-question[data-turn="{turn}"]')
    for name, page in pages.items():
        other = "bob" if name == "alice" else "alice"
        asked = page.locator('#chatbot [data-testid="user"]').all_inner_texts()
        assert [t.strip() for t in asked] == questions[name]
        assert not any(q in page.locator("#chatbot").inner_text() for q in questions[other])
        # the follow-up was read against this session's own first question
        searched = page.locator('#sources-box .src-question[data-turn="1"] .src-meta').inner_text()
        assert f"follow-up to: {questions[name][0]}" in searched
    where = pages["alice"].locator("#chatbot .answer").first.inner_text()
    assert "Syria" in where or "Deir al-Zour" in where
    assert "Buccino" in pages["bob"].locator("#chatbot .answer").first.inner_text()
    shot(pages["alice"], "05-session-alice.png")
    shot(pages["bob"], "06-session-bob.png")


def test_settings_show_the_backend(open_page):
    page = open_page()
    page.get_by_role("tab", name="Settings").click()
    info = page.locator("#backend-info")
    info.wait_for()
    assert "offline extractive" in info.inner_text() and "MiniLM" in info.inner_text()
    assert page.locator("#mode").get_by_text("Offline").is_visible()
    shot(page, "07-settings.png")


def test_a_tab_can_switch_to_a_local_model_without_changing_other_tabs(open_page, scripted_llm):
    scripted_llm.reset()
    mine, other = open_page(), open_page()
    use_model(mine, scripted_llm.base_url, "local-model")
    assert "this tab only" in mine.locator("#backend-info").inner_text()
    assert mine.get_by_label(re.compile("LLM \\(local-model")).is_checked()
    shot(mine, "10-settings-model-switch.png")
    scripted_llm.script({"content": f"The strikes were in the province of Deir al-Zour {cite(2)}."})
    mine.get_by_role("tab", name="Chat").click()
    ask(mine, PROVINCE, 0)
    assert "LLM answer" in mine.locator('#sources-box .src-question[data-turn="0"] .src-meta').inner_text()
    sent = scripted_llm.requests()[-1]
    assert sent["body"]["model"] == "local-model"
    # the other tab still answers offline, with no model asked
    other.get_by_role("tab", name="Settings").click()
    assert "offline extractive" in other.locator("#backend-info").inner_text()
    assert other.locator("#mode input[type=radio]").count() == 1  # offline only
    other.get_by_role("tab", name="Chat").click()
    ask(other, PROVINCE, 0)
    assert "offline answer" in other.locator('#sources-box .src-question[data-turn="0"] .src-meta').inner_text()
    assert len(scripted_llm.requests()) == 1


# --- llm mode, against the scripted OpenAI-compatible server of the LLM tests --------------------------------
RECORD_STREAM = """() => {
  window.__seen = [];
  const chat = document.querySelector('#chatbot');
  new MutationObserver(() => {
    const bots = chat.querySelectorAll('[data-testid="bot"]');
    if (bots.length) window.__seen.push(bots[bots.length - 1].innerText);
  }).observe(chat, {subtree: true, childList: true, characterData: true});
}"""


@pytest.fixture(scope="module")
def scripted_llm():
    sys.path.insert(0, str(ROOT / "tests"))
    from openai_server import ScriptedServer

    server = ScriptedServer()
    yield server
    server.close()


LLM_KEY = "sk-test-ui-0123456789"
PASSWORD = "pa55word-Zq9"


def with_password(url: str) -> str:
    """The scripted server's URL with credentials in it, as a user might configure OPENAI_BASE_URL."""
    return url.replace("http://", f"http://ann:{PASSWORD}@")


@pytest.fixture(scope="module")
def llm_app(tmp_path_factory, seeded_index, scripted_llm):
    folder = tmp_path_factory.mktemp("ui-llm")
    shutil.copytree(seeded_index, folder / "index")
    running = start_app(folder, ASSISTANT_ANSWER_MODE="llm", OPENAI_BASE_URL=with_password(scripted_llm.base_url),
                        OPENAI_API_KEY=LLM_KEY, ASSISTANT_LLM_TIMEOUT="60")
    yield running
    running.stop()


def cite(paragraph: int) -> str:
    """The scripted server turns this into the marker its prompt gave that paragraph of the seed article."""
    return "{{cite:%s|%d}}" % (next(collect([SEEDS / SEED_DOC])).title, paragraph)


def test_llm_mode_streams_the_answer_and_marks_unverified_citations(open_page, llm_app, scripted_llm):
    scripted_llm.reset()
    right = f"The airstrikes were carried out in the eastern province of Deir al-Zour {cite(2)}."
    wrong = f"Col. Joe Buccino said the strikes were necessary to protect and defend US personnel {cite(1)}."
    scripted_llm.script({"content": f"{right} {wrong}", "chunk_delay": 0.1})
    page = open_page(llm_app.url)
    page.evaluate(RECORD_STREAM)
    ask(page, PROVINCE, 0)
    partial = {t for t in page.evaluate("window.__seen") if t.strip() and "Searching" not in t and "Sources:" not in t}
    assert len(partial) >= 2, "the answer appears piece by piece while the model writes it"
    latest = page.locator("#sources-box .src-latest")
    assert latest.locator('.src-card.unverified[data-paragraph="1"]').count() == 1
    assert "not verified" in latest.locator('.src-card[data-paragraph="1"] .badge').inner_text()
    assert latest.locator('.src-card[data-paragraph="2"]:not(.unverified) mark').inner_text().count("Deir al-Zour")
    answer = page.locator("#chatbot .answer").last
    assert answer.locator("a.cite.unverified").count() == 1 and answer.locator("a.cite").count() == 2
    assert "LLM answer" in page.locator('#sources-box .src-question[data-turn="0"] .src-meta').inner_text()
    shot(page, "08-llm-unverified-citation.png")

    # a follow-up: the model is given this session's conversation to rewrite it
    scripted_llm.script({"content": "Who directed the airstrikes in Deir al-Zour?"},
                        {"content": f"They were carried out under the direction of President Bidens {cite(2)}."})
    ask(page, "and who ordered them?", 1)
    condense = scripted_llm.requests()[-2]["body"]["messages"][-1]["content"]
    assert PROVINCE in condense and "and who ordered them?" in condense

    # the Settings tab shows the backend, and offline mode answers without the model
    page.get_by_role("tab", name="Settings").click()
    assert mask_url(with_password(scripted_llm.base_url)) in page.locator("#backend-info").inner_text()
    page.get_by_label("Offline (extractive, no key)").check()
    page.locator("#backend-info", has_text="offline extractive").wait_for()
    calls = len(scripted_llm.requests())
    page.get_by_role("tab", name="Chat").click()
    ask(page, "Who is the director of communications for US Central Command?", 2)
    assert "offline answer" in page.locator('#sources-box .src-question[data-turn="2"] .src-meta').inner_text()
    assert len(scripted_llm.requests()) == calls


def test_credentials_in_the_base_url_never_reach_the_page(open_page, llm_app, browser):
    page = open_page(llm_app.url)
    page.get_by_role("tab", name="Settings").click()
    typed = page.locator("#llm-base-url textarea, #llm-base-url input").first
    settings_text = page.locator("#backend-info").inner_text() + typed.get_attribute("placeholder")
    assert "ann:***@127.0.0.1" in settings_text and PASSWORD not in settings_text
    config = page.request.get(llm_app.url + "config")
    assert config.ok and "ann:***@" in config.text() and PASSWORD not in config.text()
    assert PASSWORD not in page.content() and PASSWORD not in llm_app.output()


def test_an_image_in_an_llm_reply_is_text_and_never_fetched(open_page, llm_app, scripted_llm, leak):
    scripted_llm.reset()
    scripted_llm.script({"content": f"The strikes were in Deir al-Zour {cite(2)}. ![x]({leak.url}/p.png?leak=3) "
                                    f"<img src={leak.url}/q.png?leak=4>", "chunk_delay": 0.05})
    page = open_page(llm_app.url)
    ask(page, PROVINCE, 0)
    answer = page.locator("#chatbot .answer").last.inner_text()
    assert f"![x]({leak.url}/p.png?leak=3)" in answer and f"<img src={leak.url}/q.png?leak=4>" in answer
    page.wait_for_timeout(1000)
    assert remote_images(page, leak.url) == [] and leak.hits == []
    shot(page, "11-llm-image-shown-as-text.png")


def test_a_typed_server_never_gets_the_configured_key(open_page, llm_app, scripted_llm):
    scripted_llm.reset()
    page = open_page(llm_app.url)
    typed = scripted_llm.base_url.replace("127.0.0.1", "localhost")  # another server, as far as the page knows
    use_model(page, typed, "local-model")
    scripted_llm.script({"content": f"Deir al-Zour {cite(2)}."})
    page.get_by_role("tab", name="Chat").click()
    ask(page, PROVINCE, 0)
    sent = scripted_llm.requests()[-1]
    assert sent["body"]["model"] == "local-model"
    assert LLM_KEY not in json.dumps(sent["headers"])


def test_the_sources_panel_holds_its_cards_and_the_documents_table_keeps_ids_whole(open_page, browser, app):
    """Issue 22, seen in a real browser: the Sources panel had a fixed height (a second card and "Earlier answers"
    spilled past its border); every card repeated the same document title; a document id wrapped mid-word. Also
    the answer span is marked inside its quote, and "Copy with sources" copies the answer with footnotes."""
    context = browser.new_context(viewport={"width": 1400, "height": 950})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=app.url.rstrip("/"))
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    page.goto(app.url, wait_until="load")
    page.wait_for_selector("#chat-input textarea")
    for turn, question in enumerate(["Who is the director of communications for US Central Command?",
                                     "What did Col. Joe Buccino say about the strikes?"]):
        ask(page, question, turn)
    box = page.locator("#sources-box").bounding_box()
    last = page.locator("#sources-box .src-earlier").last.bounding_box()
    assert last["y"] + last["height"] <= box["y"] + box["height"] + 1, (last, box)  # inside the border
    groups = page.locator("#sources-box .src-latest .src-doc-group")
    cards = page.locator("#sources-box .src-latest .src-card")
    docs = {cards.nth(i).get_attribute("data-doc") for i in range(cards.count())}
    assert groups.count() == len(docs) and page.locator("#sources-box .src-latest .src-title").count() == len(docs)
    assert cards.locator(".src-title").count() == 0  # the title once per document, not on every card
    assert page.locator("#sources-box .src-latest .answer-span").count() == 1
    page.locator("#sources-box .src-latest button.copy-markdown").click()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert "[^1]: " in copied and "¶" in copied, copied
    shot(page, "22-sources-panel.png")
    page.get_by_role("tab", name="Documents").click()
    cell = page.locator(f'#documents-table tr[data-doc="{SEED_DOC}"] td.doc-id')
    lines = page.evaluate("c => { const r = document.createRange(); r.selectNodeContents(c); "
                          "return new Set(Array.from(r.getClientRects()).map(x => Math.round(x.top))).size; }",
                          cell.element_handle())
    assert lines == 1, f"the id {SEED_DOC} wraps over {lines} lines"
    shot(page, "22-documents.png")
    context.close()
