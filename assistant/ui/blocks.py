"""The gradio page: the header and three tabs (chat_tab.py, documents_tab.py, settings_tab.py), wired together,
and the /ask API.

Per-session data lives in `gr.State` (each browser tab has its own conversation and its own model choice); the
Assistant and its index are shared by everyone. Answers run concurrently (the embedder and index are
thread-safe); writes to the index (upload, remove) run one at a time.

The chat shows HTML built from templates (render.py) with gradio's Markdown rendering turned off: nothing a
document or a model writes can make the browser fetch anything.
"""

from __future__ import annotations

import threading

import gradio as gr

from assistant.errors import AssistantError
from assistant.ui import chat_tab, documents_tab, settings_tab
from assistant.ui.session_models import SessionModels


def api_ask(assistant):
    """The page's `ask` API (gradio_client): one question, the JSON of `assistant ask --json`."""

    def ask(question: str, history: list[dict] | None = None, top_k: int | None = None,
            mode: str | None = None) -> dict:
        """Answer one question from the indexed documents (a follow-up when `history` is given, as
        [{"role", "content"}]). Returns the JSON of `assistant ask --json`."""
        try:
            return assistant.ask(question, history=history or None, top_k=int(top_k) if top_k else None,
                                 mode=mode or None).to_dict()
        except AssistantError as exc:
            raise gr.Error(str(exc)) from None

    return ask


def build_ui(assistant, write_lock: threading.Lock | None = None) -> gr.Blocks:
    settings = assistant.settings
    models = SessionModels(assistant)
    documents = documents_tab.Handlers(assistant, write_lock or threading.Lock())
    with gr.Blocks(title="Ask your documents", analytics_enabled=False) as page:
        turns = gr.State([])
        model_choice = gr.State(None)  # {"base_url", "model"} typed in this tab's Settings, else None
        with gr.Row(equal_height=True, elem_id="app-header-row"):
            gr.Markdown("# Ask your documents\nAnswers quote the documents and cite their paragraphs.",
                        elem_id="app-header")
            status = gr.Markdown("", elem_id="status-line")
        with gr.Tabs():
            with gr.Tab("Chat", id="chat"):
                chat = chat_tab.layout()
            with gr.Tab("Documents", id="documents") as documents_page:
                docs = documents_tab.layout(settings)
            with gr.Tab("Settings", id="settings"):
                options = settings_tab.layout(settings)
        chat_tab.wire(chat, chat_tab.responder(models.answerer), turns, options.mode, options.top_k, model_choice)
        documents_tab.wire(docs, documents, status, [page.load, documents_page.select])
        settings_tab.wire(options, settings, model_choice)
        gr.api(api_ask(assistant), api_name="ask", concurrency_limit=chat_tab.ANSWER_CONCURRENCY,
               concurrency_id="answers")
    return page
