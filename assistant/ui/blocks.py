"""The gradio page: chat with streamed, cited answers beside a sources panel; documents; settings; the /ask API.

Per-session data lives in `gr.State` (each browser tab has its own conversation); the Assistant and its index
are shared by everyone. Answers run concurrently (the embedder and index are thread-safe); writes to the
index (upload, remove) run one at a time.
"""

from __future__ import annotations

import logging

import gradio as gr

from assistant.errors import AssistantError
from assistant.models import Answer
from assistant.readers import SUPPORTED
from assistant.ui import render
from assistant.ui.uploads import forget_upload, ingest_uploads, uploads_dir

log = logging.getLogger(__name__)
ANSWER_CONCURRENCY = 8
PLACEHOLDER = ("**Ask a question about your documents.**<br>Every sentence of an answer cites the paragraph it "
               "comes from: click a marker to see that paragraph, with the supporting words highlighted.")


def llm_configured(settings) -> bool:
    return bool(settings.openai_api_key or settings.openai_base_url)


def backend_description(settings, mode: str) -> str:
    embedding = ("all-MiniLM-L6-v2 (ONNX int8, on this machine)" if settings.embedding == "minilm"
                 else settings.embedding)
    if mode == "llm":
        server = settings.openai_base_url or "api.openai.com"
        answering = f"LLM `{settings.llm_model}` at `{server}`, citations checked against the paragraphs"
    else:
        answering = "offline extractive: quotes the best sentences of the documents (no model download, no key)"
    index = f"Chroma server {settings.chroma_host}:{settings.chroma_port}" if settings.chroma_host else settings.index_dir
    return (f"#### Active backend\n**Answering:** {answering}  \n**Embeddings:** {embedding}  \n"
            f"**Index:** `{index}`")


def build_ui(assistant) -> gr.Blocks:
    settings = assistant.settings
    upload_folder = str(uploads_dir(settings))
    mode_choices = [("Offline (extractive, no key)", "offline")]
    if llm_configured(settings):
        mode_choices.append((f"LLM ({settings.llm_model})", "llm"))
    default_mode = settings.answer_mode if any(v == settings.answer_mode for _, v in mode_choices) else "offline"

    # --- handlers -----------------------------------------------------------------------------------------
    def respond(message: str, turns: list[dict], mode: str, top_k: float):
        question = (message or "").strip()
        if not question:
            gr.Warning("Type a question first.")
            yield gr.skip(), gr.skip(), gr.skip(), gr.skip()
            return
        turns = list(turns or [])
        shown = render.chat_messages(turns) + [{"role": "user", "content": render.esc(question)}]
        waiting = shown + [{"role": "assistant", "content": '<span class="muted">Searching the documents…</span>'}]
        yield "", waiting, turns, render.sources_panel(turns, pending=question)
        text, answer, error = "", None, None
        try:
            stream = assistant.stream(question, history=render.history(turns), top_k=int(top_k), mode=mode)
            for piece in stream:
                if isinstance(piece, Answer):
                    answer = piece
                    break
                text += str(piece)
                yield gr.skip(), shown + [{"role": "assistant", "content": render.esc(text)}], gr.skip(), gr.skip()
        except AssistantError as exc:
            error = str(exc)
        except Exception as exc:  # the page must survive anything the answerer throws
            log.exception("answering %r failed", question)
            error = f"Something went wrong while answering ({type(exc).__name__}: {exc})."
        if answer is None and error is None:
            error = "The answerer stopped without an answer."
        turn = {"question": question, "answer": answer.to_dict() if answer else None, "error": error}
        turns = turns + [turn]
        yield gr.skip(), render.chat_messages(turns), turns, render.sources_panel(turns)

    def new_chat():
        return [], [], render.sources_panel([])

    def documents_view():
        try:
            docs = assistant.documents()
        except AssistantError as exc:
            return f'<div class="error">{render.esc(exc)}</div>', gr.update(choices=[]), str(exc)
        choices = [(f"{d.title} ({d.doc_id})" if d.title != d.doc_id else d.doc_id, d.doc_id) for d in docs]
        paragraphs = sum(d.paragraphs for d in docs)
        status = f"{len(docs)} document{'s' if len(docs) != 1 else ''} · {paragraphs} paragraphs indexed"
        return (render.documents_table(docs, upload_folder), gr.update(choices=choices, value=None), status)

    def on_upload(files, progress=gr.Progress()):
        paths = [f if isinstance(f, str) else getattr(f, "name", str(f)) for f in (files or [])]

        def report(done: int, total: int, name: str) -> None:
            progress((done, total), desc=f"Indexing {name}" if name else "Done", unit="files")

        results = ingest_uploads(assistant, paths, report)
        if any(not r["ok"] for r in results):
            gr.Warning("Some files could not be indexed: see the list under the upload box.", duration=8)
        return (render.upload_results(results), None, *documents_view())

    def on_remove(doc_id: str | None):
        if not doc_id:
            gr.Warning("Choose a document to remove first.")
            return (gr.skip(),) * 4
        try:
            source = next((d.source for d in assistant.documents() if d.doc_id == doc_id), "")
            assistant.remove(doc_id)
            forget_upload(settings, source)
            message = f'<div class="muted">Removed <b>{render.esc(doc_id)}</b>.</div>'
        except AssistantError as exc:
            message = f'<div class="error">{render.esc(exc)}</div>'
        return (message, *documents_view())

    def ask(question: str) -> dict:
        """Answer one question from the indexed documents. Returns the JSON of `assistant ask --json`."""
        try:
            return assistant.ask(question).to_dict()
        except AssistantError as exc:
            raise gr.Error(str(exc)) from None

    # --- layout -------------------------------------------------------------------------------------------
    with gr.Blocks(title="Ask your documents", analytics_enabled=False) as demo:
        turns = gr.State([])
        with gr.Row(equal_height=True, elem_id="app-header-row"):
            gr.Markdown("# Ask your documents\nAnswers quote the documents and cite their paragraphs.",
                        elem_id="app-header")
            status = gr.Markdown("", elem_id="status-line")
        with gr.Tabs():
            with gr.Tab("Chat", id="chat"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3, min_width=380):
                        chatbot = gr.Chatbot(elem_id="chatbot", height=560, placeholder=PLACEHOLDER, label="Chat",
                                             show_label=False, buttons=["copy"], feedback_options=None,
                                             group_consecutive_messages=False)
                        with gr.Row():
                            box = gr.Textbox(placeholder="Ask about the documents…", show_label=False, lines=1,
                                             max_lines=6, scale=6, elem_id="chat-input", autofocus=True,
                                             submit_btn=False, container=False)
                            send = gr.Button("Ask", variant="primary", scale=1, min_width=80, elem_id="ask-button")
                            clear = gr.Button("New chat", variant="secondary", scale=1, min_width=110,
                                              elem_id="new-chat")
                    with gr.Column(scale=2, min_width=320):
                        gr.Markdown("### Sources", elem_id="sources-title")
                        sources = gr.HTML(render.sources_panel([]), elem_id="sources-box", js_on_load=None)
            with gr.Tab("Documents", id="documents") as documents_tab:
                with gr.Row(equal_height=False):
                    with gr.Column(scale=2):
                        files = gr.File(label="Add documents", file_count="multiple", type="filepath",
                                        elem_id="upload", height=170)
                        gr.Markdown(f"One or several files: {', '.join(SUPPORTED)}; up to "
                                    f"{settings.max_upload_mb:g} MB each. A file with the name of an indexed "
                                    "document replaces it.", elem_classes=["muted"])
                        results = gr.HTML("", elem_id="upload-results", js_on_load=None)
                    with gr.Column(scale=3):
                        docs_table = gr.HTML("", elem_id="documents-table", js_on_load=None)
                        with gr.Row():
                            doc_choice = gr.Dropdown([], label="Remove a document", scale=4, elem_id="remove-choice")
                            remove = gr.Button("Remove", variant="stop", scale=1, min_width=90, elem_id="remove-button")
                        removed = gr.HTML("", elem_id="remove-result", js_on_load=None)
            with gr.Tab("Settings", id="settings"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=1):
                        mode = gr.Radio(mode_choices, value=default_mode, label="Answer mode", elem_id="mode",
                                        info=None if llm_configured(settings) else
                                        "LLM mode appears here once OPENAI_API_KEY or OPENAI_BASE_URL is set.")
                        top_k = gr.Slider(1, 20, value=settings.top_k, step=1, elem_id="top-k",
                                          label="Paragraphs retrieved per question (top-k)",
                                          info="More paragraphs can find more; fewer keep answers focused.")
                        gr.Markdown("These settings apply to this browser tab only.", elem_classes=["muted"])
                    with gr.Column(scale=1):
                        backend = gr.Markdown(backend_description(settings, default_mode), elem_id="backend-info")

        # --- events -----------------------------------------------------------------------------------------
        # One listener for Enter and the button; a question sent while one is being answered waits for it
        # ("always_last"), so it sees the updated history instead of racing it.
        gr.on([box.submit, send.click], respond, inputs=[box, turns, mode, top_k],
              outputs=[box, chatbot, turns, sources], show_progress="hidden", trigger_mode="always_last",
              concurrency_limit=ANSWER_CONCURRENCY, concurrency_id="answers", api_name="chat",
              api_visibility="undocumented")
        clear.click(new_chat, outputs=[chatbot, turns, sources], api_visibility="private", queue=False)
        chatbot.clear(new_chat, outputs=[chatbot, turns, sources], api_visibility="private", queue=False)
        files.upload(on_upload, inputs=[files], outputs=[results, files, docs_table, doc_choice, status],
                     concurrency_id="index-write", concurrency_limit=1, api_visibility="private")
        remove.click(on_remove, inputs=[doc_choice], outputs=[removed, docs_table, doc_choice, status],
                     concurrency_id="index-write", concurrency_limit=1, api_visibility="private")
        mode.change(lambda m: backend_description(settings, m), inputs=[mode], outputs=[backend],
                    api_visibility="private", queue=False)
        for refresh in (demo.load, documents_tab.select):  # other sessions may have changed the documents
            refresh(documents_view, outputs=[docs_table, doc_choice, status], api_visibility="private")
        gr.api(ask, api_name="ask", concurrency_limit=ANSWER_CONCURRENCY, concurrency_id="answers")
    return demo
