"""The gradio page: chat with streamed, cited answers beside a sources panel; documents; settings; the /ask API.

Per-session data lives in `gr.State` (each browser tab has its own conversation and its own model choice); the
Assistant and its index are shared by everyone. Answers run concurrently (the embedder and index are
thread-safe); writes to the index (upload, remove) run one at a time, under the same lock as the REST API's.

The chat shows HTML built from templates (render.py) with gradio's Markdown rendering turned off: nothing a
document or a model writes can make the browser fetch anything.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from urllib.parse import urlsplit

import gradio as gr
from pydantic import ValidationError

from assistant.errors import AssistantError
from assistant.config.masking import mask_url
from assistant.types import Answer
from assistant.ingest.readers import SUPPORTED
from assistant.ui import render
from assistant.ingest.uploads import forget_upload, ingest_uploads, uploads_dir
from assistant.text.wording import plural

log = logging.getLogger(__name__)
ANSWER_CONCURRENCY = 8
SESSION_MODELS_KEPT = 16  # LLM clients kept for the models typed into Settings tabs
PLACEHOLDER = ("**Ask a question about your documents.**<br>Every sentence of an answer cites the paragraph it "
               "comes from: click a marker to see that paragraph, with the supporting words highlighted.")
OFFLINE_CHOICE = ("Offline (extractive, no key)", "offline")


def llm_configured(settings) -> bool:
    return bool(settings.openai_api_key or settings.openai_base_url)


def backend_description(settings, mode: str, choice: dict | None = None) -> str:
    """The Settings tab's "Active backend" box for a tab in `mode`, with the tab's own model `choice` if any.
    Every URL is shown through mask_url: a password in OPENAI_BASE_URL never reaches the page."""
    embedding = ("all-MiniLM-L6-v2 (ONNX int8, on this machine)" if settings.embedding == "minilm"
                 else settings.embedding)
    index = (f"Chroma server {mask_url(settings.chroma_host)}:{settings.chroma_port}" if settings.chroma_host
             else str(settings.index_dir))
    llm = None
    if mode == "llm":
        base_url = (choice or {}).get("base_url") or settings.openai_base_url
        llm = {"model": (choice or {}).get("model") or settings.llm_model,
               "server": mask_url(base_url) if base_url else "api.openai.com", "session": bool(choice)}
    return render.backend(embedding, index, llm)


def check_base_url(url: str) -> str | None:
    """Why a typed base URL cannot be used, or None when it can."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "That is not a URL."
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "Type the server's base URL, e.g. http://localhost:11434/v1 for Ollama."
    if parts.username or parts.password:
        return "Leave credentials out of the URL: a key comes only from the server's environment."
    return None


def build_ui(assistant, write_lock: threading.Lock | None = None) -> gr.Blocks:
    settings = assistant.settings
    write_lock = write_lock or threading.Lock()
    upload_folder = str(uploads_dir(settings))
    mode_choices = [OFFLINE_CHOICE]
    if llm_configured(settings):
        mode_choices.append((f"LLM ({settings.llm_model})", "llm"))
    default_mode = settings.answer_mode if any(v == settings.answer_mode for _, v in mode_choices) else "offline"
    session_models: OrderedDict[tuple, object] = OrderedDict()
    session_models_lock = threading.Lock()

    def answerer(mode: str, choice: dict | None):
        """The Assistant a tab answers with: the shared one, or a view of it that talks to the tab's own model.
        The API key from the environment goes only to the configured server, never to a typed one."""
        if mode != "llm" or not choice:
            return assistant
        base_url = choice.get("base_url") or settings.openai_base_url
        key = (base_url, choice["model"])
        with session_models_lock:
            view = session_models.get(key)
            if view is None:
                same_server = base_url == settings.openai_base_url
                view = assistant.using(openai_base_url=base_url, llm_model=choice["model"],
                                       openai_api_key=settings.openai_api_key if same_server else None)
                session_models[key] = view
                while len(session_models) > SESSION_MODELS_KEPT:
                    session_models.popitem(last=False)
            session_models.move_to_end(key)
            return view

    # --- handlers -----------------------------------------------------------------------------------------
    def respond(message: str, turns: list[dict], mode: str, top_k: float, choice: dict | None):
        question = (message or "").strip()
        if not question:
            gr.Warning("Type a question first.")
            yield gr.skip(), gr.skip(), gr.skip(), gr.skip()
            return
        turns = list(turns or [])
        shown = render.chat_messages(turns) + [{"role": "user", "content": render.chat_text(question)}]
        waiting = shown + [{"role": "assistant", "content": render.chat_text("Searching the documents…", "waiting")}]
        yield "", waiting, turns, render.sources_panel(turns, pending=question)
        text, answer, error = "", None, None
        try:
            stream = answerer(mode, choice).stream(question, history=render.history(turns), top_k=int(top_k),
                                                   mode=mode)
            for piece in stream:
                if isinstance(piece, Answer):
                    answer = piece
                    break
                text += str(piece)
                partial = shown + [{"role": "assistant", "content": render.chat_text(text, "partial")}]
                yield gr.skip(), partial, gr.skip(), gr.skip()
        except AssistantError as exc:
            error = str(exc)
        except Exception as exc:  # the page must survive anything the answerer throws
            log.exception("answering a question failed")
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
            return render.message(str(exc), "error"), gr.update(choices=[]), str(exc)
        choices = [(f"{d.title} ({d.doc_id})" if d.title != d.doc_id else d.doc_id, d.doc_id) for d in docs]
        paragraphs = sum(d.paragraphs for d in docs)
        status = f"{plural(len(docs), 'document')} · {plural(paragraphs, 'paragraph')} indexed"
        return (render.documents_table(docs, upload_folder), gr.update(choices=choices, value=None), status)

    def on_upload(files, progress=gr.Progress()):
        paths = [f if isinstance(f, str) else getattr(f, "name", str(f)) for f in (files or [])]

        def report(done: int, total: int, name: str) -> None:
            progress((done, total), desc=f"Indexing {name}" if name else "Done", unit="files")

        with write_lock:
            results = ingest_uploads(assistant, paths, report)
        if any(not r["ok"] for r in results):
            gr.Warning("Some files could not be indexed: see the list under the upload box.", duration=8)
        return (render.upload_results(results), None, *documents_view())

    def on_remove(doc_id: str | None):
        if not doc_id:
            gr.Warning("Choose a document to remove first.")
            return (gr.skip(),) * 4
        try:
            with write_lock:
                source = next((d.source for d in assistant.documents() if d.doc_id == doc_id), "")
                assistant.remove(doc_id)
                forget_upload(settings, source)
            message = render.message("Removed ", strong=doc_id, tail=".")
        except AssistantError as exc:
            message = render.message(str(exc), "error")
        return (message, *documents_view())

    def use_model(base_url: str, model: str, mode_now: str, choice: dict | None):
        """Switch this tab to LLM mode with a typed server and model (nothing changes for other tabs)."""
        base_url, model = (base_url or "").strip(), (model or "").strip()
        problem = None if not base_url else check_base_url(base_url)
        if not base_url and not llm_configured(settings):
            problem = "Type the server's base URL, e.g. http://localhost:11434/v1 for Ollama."
        if not model:
            problem = problem or "Type the model's name, e.g. llama3.1."
        if problem:
            return (render.message(problem, "error"), gr.skip(), choice,
                    backend_description(settings, mode_now, choice))
        choice = {"base_url": base_url or None, "model": model}
        label = f"LLM ({model} at {mask_url(base_url)})" if base_url else f"LLM ({model})"
        return (render.message("This tab now answers with ", strong=model, tail="."),
                gr.update(choices=[OFFLINE_CHOICE, (label, "llm")], value="llm"), choice,
                backend_description(settings, "llm", choice))

    def ask(question: str, history: list[dict] | None = None, top_k: int | None = None,
            mode: str | None = None) -> dict:
        """Answer one question from the indexed documents (a follow-up when `history` is given, as
        [{"role", "content"}]). Returns the JSON of `assistant ask --json`."""
        try:
            return assistant.ask(question, history=history or None, top_k=int(top_k) if top_k else None,
                                 mode=mode or None).to_dict()
        except AssistantError as exc:
            raise gr.Error(str(exc)) from None

    # --- layout -------------------------------------------------------------------------------------------
    with gr.Blocks(title="Ask your documents", analytics_enabled=False) as demo:
        turns = gr.State([])
        model_choice = gr.State(None)  # {"base_url", "model"} typed in this tab's Settings, else None
        with gr.Row(equal_height=True, elem_id="app-header-row"):
            gr.Markdown("# Ask your documents\nAnswers quote the documents and cite their paragraphs.",
                        elem_id="app-header")
            status = gr.Markdown("", elem_id="status-line")
        with gr.Tabs():
            with gr.Tab("Chat", id="chat"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3, min_width=380):
                        # render_markdown=False: messages are our escaped HTML; Markdown in a document or a
                        # reply (an image URL, which the browser would fetch) stays text.
                        chatbot = gr.Chatbot(elem_id="chatbot", height=560, placeholder=PLACEHOLDER, label="Chat",
                                             show_label=False, buttons=["copy"], feedback_options=None,
                                             group_consecutive_messages=False, render_markdown=False,
                                             latex_delimiters=[], sanitize_html=True)
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
                                        "LLM mode appears here once OPENAI_API_KEY or OPENAI_BASE_URL is set, "
                                        "or once you choose a model below.")
                        top_k = gr.Slider(1, 20, value=settings.top_k, step=1, elem_id="top-k",
                                          label="Paragraphs retrieved per question (top-k)",
                                          info="More paragraphs can find more; fewer keep answers focused.")
                        gr.Markdown("These settings apply to this browser tab only.", elem_classes=["muted"])
                    with gr.Column(scale=1):
                        backend = gr.HTML(backend_description(settings, default_mode), elem_id="backend-info",
                                          js_on_load=None)
                        with gr.Group(elem_id="model-switch"):
                            base_url = gr.Textbox(label="LLM server (OpenAI-compatible base URL)",
                                                  elem_id="llm-base-url",
                                                  placeholder=mask_url(settings.openai_base_url)
                                                  or "http://localhost:11434/v1")
                            model_name = gr.Textbox(label="Model", value=settings.llm_model, elem_id="llm-model")
                            use = gr.Button("Use this model in this tab", elem_id="llm-use")
                        gr.Markdown("For Ollama, llama.cpp, vLLM or LM Studio. The key in OPENAI_API_KEY is sent "
                                    "only to the configured server (OPENAI_BASE_URL); a server typed here gets no "
                                    "key.", elem_classes=["muted"])
                        switched = gr.HTML("", elem_id="llm-switch-result", js_on_load=None)

        # --- events -----------------------------------------------------------------------------------------
        # One listener for Enter and the button; a question sent while one is being answered waits for it
        # ("always_last"), so it sees the updated history instead of racing it.
        gr.on([box.submit, send.click], respond, inputs=[box, turns, mode, top_k, model_choice],
              outputs=[box, chatbot, turns, sources], show_progress="hidden", trigger_mode="always_last",
              concurrency_limit=ANSWER_CONCURRENCY, concurrency_id="answers", api_name="chat",
              api_visibility="undocumented")
        clear.click(new_chat, outputs=[chatbot, turns, sources], api_visibility="private", queue=False)
        chatbot.clear(new_chat, outputs=[chatbot, turns, sources], api_visibility="private", queue=False)
        files.upload(on_upload, inputs=[files], outputs=[results, files, docs_table, doc_choice, status],
                     concurrency_id="index-write", concurrency_limit=1, api_visibility="private")
        remove.click(on_remove, inputs=[doc_choice], outputs=[removed, docs_table, doc_choice, status],
                     concurrency_id="index-write", concurrency_limit=1, api_visibility="private")
        mode.change(lambda m, c: backend_description(settings, m, c), inputs=[mode, model_choice],
                    outputs=[backend], api_visibility="private", queue=False)
        use.click(use_model, inputs=[base_url, model_name, mode, model_choice],
                  outputs=[switched, mode, model_choice, backend], api_visibility="private", queue=False)
        for refresh in (demo.load, documents_tab.select):  # other sessions may have changed the documents
            refresh(documents_view, outputs=[docs_table, doc_choice, status], api_visibility="private")
        gr.api(ask, api_name="ask", concurrency_limit=ANSWER_CONCURRENCY, concurrency_id="answers")
    return demo
