"""The Documents tab: what is indexed, uploads, and removing a document. Writes to the index (upload, remove) run
one at a time, under the same lock as the REST API's."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import gradio as gr

from assistant.errors import AssistantError
from assistant.ingest.readers import SUPPORTED
from assistant.ingest.uploads import forget_upload, ingest_uploads, uploads_dir
from assistant.text.wording import plural
from assistant.ui import render


@dataclass
class DocumentsTab:
    files: gr.File
    results: gr.HTML
    table: gr.HTML
    choice: gr.Dropdown
    remove: gr.Button
    removed: gr.HTML


def layout(settings) -> DocumentsTab:
    with gr.Row(equal_height=False):
        with gr.Column(scale=2):
            files = gr.File(label="Add documents", file_count="multiple", type="filepath", elem_id="upload",
                            height=170)
            gr.Markdown(f"One or several files: {', '.join(SUPPORTED)}; up to {settings.max_upload_mb:g} MB each. "
                        "A file with the name of an indexed document replaces it.", elem_classes=["muted"])
            results = gr.HTML("", elem_id="upload-results", js_on_load=None)
        with gr.Column(scale=3):
            table = gr.HTML("", elem_id="documents-table", js_on_load=None)
            with gr.Row():
                choice = gr.Dropdown([], label="Remove a document", scale=4, elem_id="remove-choice")
                remove = gr.Button("Remove", variant="stop", scale=1, min_width=90, elem_id="remove-button")
            removed = gr.HTML("", elem_id="remove-result", js_on_load=None)
    return DocumentsTab(files=files, results=results, table=table, choice=choice, remove=remove, removed=removed)


class Handlers:
    """What the tab's events do, on the shared Assistant."""

    def __init__(self, assistant, write_lock: threading.Lock) -> None:
        self.assistant = assistant
        self.write_lock = write_lock
        self.upload_folder = str(uploads_dir(assistant.settings))

    def view(self):
        """(the documents table, the remove choices, the status line)."""
        try:
            docs = self.assistant.documents()
        except AssistantError as exc:
            return render.message(str(exc), "error"), gr.update(choices=[]), str(exc)
        choices = [(f"{d.title} ({d.doc_id})" if d.title != d.doc_id else d.doc_id, d.doc_id) for d in docs]
        paragraphs = sum(d.paragraphs for d in docs)
        status = f"{plural(len(docs), 'document')} · {plural(paragraphs, 'paragraph')} indexed"
        return render.documents_table(docs, self.upload_folder), gr.update(choices=choices, value=None), status

    def upload(self, files, progress=gr.Progress()):
        paths = [f if isinstance(f, str) else getattr(f, "name", str(f)) for f in (files or [])]

        def report(done: int, total: int, name: str) -> None:
            progress((done, total), desc=f"Indexing {name}" if name else "Done", unit="files")

        with self.write_lock:
            results = ingest_uploads(self.assistant, paths, report)
        if any(not r["ok"] for r in results):
            gr.Warning("Some files could not be indexed: see the list under the upload box.", duration=8)
        return (render.upload_results(results), None, *self.view())

    def remove(self, doc_id: str | None):
        if not doc_id:
            gr.Warning("Choose a document to remove first.")
            return (gr.skip(),) * 4
        try:
            with self.write_lock:
                source = next((d.source for d in self.assistant.documents() if d.doc_id == doc_id), "")
                self.assistant.remove(doc_id)
                forget_upload(self.assistant.settings, source)
            message = render.message("Removed ", strong=doc_id, tail=".")
        except AssistantError as exc:
            message = render.message(str(exc), "error")
        return (message, *self.view())


def wire(tab: DocumentsTab, handlers: Handlers, status: gr.Markdown, refreshes: list) -> None:
    """`refreshes`: the events on which the list is read again (other sessions may have changed the documents)."""
    tab.files.upload(handlers.upload, inputs=[tab.files], outputs=[tab.results, tab.files, tab.table, tab.choice,
                                                                   status],
                     concurrency_id="index-write", concurrency_limit=1, api_visibility="private")
    tab.remove.click(handlers.remove, inputs=[tab.choice], outputs=[tab.removed, tab.table, tab.choice, status],
                     concurrency_id="index-write", concurrency_limit=1, api_visibility="private")
    for refresh in refreshes:
        refresh(handlers.view, outputs=[tab.table, tab.choice, status], api_visibility="private")
