"""The REST routes under /v1: ask, documents (list, upload, remove) and paragraphs with their neighbours.

Every route that does blocking work (answering, embedding, writing the index) is a plain `def`, which FastAPI
runs in its thread pool, or hands its work to that pool; the event loop only moves bytes, so one slow answer
never holds up another client. Writes go one at a time under the lock the page's uploads use too.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from itertools import chain
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Query, Request, UploadFile
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from assistant.types import Answer
from assistant.server.errors import ApiError, describe, error_body
from assistant.server.responses import (ERRORS, SSE, AnswerResponse, Deleted, DocumentList, ParagraphWindow,
                                        UploadResults)
from assistant.server.schemas import AskRequest
from assistant.server.security import api_access, paragraph_access
from assistant.ingest.uploads import display_name, forget_upload, ingest_uploads, safe_name, uploads_dir

router = APIRouter(prefix="/v1", responses=ERRORS)
MAX_CONTEXT = 5  # neighbours on each side a paragraph request may ask for


def _assistant(request: Request):
    return request.app.state.assistant


async def begin_stream(assistant, question: str, history: list | None, top_k: int | None,
                       mode: str | None) -> Iterator[str | Answer]:
    """Start an answer and run it to its first piece in the thread pool, so that a bad question or a broken
    index is an HTTP error (raised here) rather than an error inside a stream that has already said 200."""
    stream = assistant.stream(question, history=history, top_k=top_k, mode=mode)
    first = await run_in_threadpool(next, stream, None)
    return chain([] if first is None else [first], stream)


def sse(data: Any, event: str | None = None) -> str:
    """One server-sent event."""
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {json.dumps(data, ensure_ascii=False)}\n\n"


def stream_failed(exc: BaseException) -> dict:
    """The error body for a failure after the stream started (the status line has already been sent)."""
    status, code, message = describe(exc)
    return error_body(status, message, code)


def sse_response(events: Iterator[str]) -> StreamingResponse:
    # A sync iterator: Starlette pulls each event in its thread pool, so the answer's blocking steps stay off the
    # event loop. no-cache and X-Accel-Buffering keep proxies from holding the events back.
    return StreamingResponse(events, media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


@router.post("/ask", dependencies=[Depends(api_access)], summary="Answer a question, citing paragraphs",
             response_model=AnswerResponse, responses={200: SSE})
async def ask(body: AskRequest, request: Request):
    """Returns the JSON of `assistant ask --json`. With `stream: true`, server-sent events: `delta` events
    ({"text"}) as the answer is written, then one `answer` event with the final answer and its checked citations
    (its text is authoritative: the check may remove a marker), or an `error` event."""
    assistant = _assistant(request)
    history = [m.model_dump() for m in body.history or []] or None
    if not body.stream:
        answer = await run_in_threadpool(assistant.ask, body.question, history, body.top_k, body.mode)
        return answer.to_dict()
    pieces = await begin_stream(assistant, body.question, history, body.top_k, body.mode)

    def events() -> Iterator[str]:
        try:
            for piece in pieces:
                yield sse(piece.to_dict(), "answer") if isinstance(piece, Answer) else sse({"text": piece}, "delta")
        except Exception as exc:  # after the 200: report in the stream
            yield sse(stream_failed(exc), "error")

    return sse_response(events())


# --- documents -------------------------------------------------------------------------------------------
@router.get("/documents", dependencies=[Depends(api_access)], summary="List the indexed documents",
            response_model=DocumentList)
def list_documents(request: Request) -> dict:
    assistant = _assistant(request)
    uploaded = str(uploads_dir(assistant.settings))
    return {"object": "list", "data": [
        {"doc_id": d.doc_id, "title": d.title, "paragraphs": d.paragraphs, "sha256": d.sha256,
         "uploaded": str(d.source).startswith(uploaded)} for d in assistant.documents()]}


@router.post("/documents", dependencies=[Depends(api_access)], summary="Upload and index files",
             response_model=UploadResults)
def upload_documents(request: Request, files: Annotated[list[UploadFile], File(description="one or more files")]
                     ) -> dict:
    """Each file is checked (type, size limit `max_upload_mb`), stored under a safe name in uploads/ and
    indexed, exactly as an upload on the page; one bad file never stops the others. `results` has one entry per
    file: {"name", "ok", "message"}."""
    state = request.app.state
    with tempfile.TemporaryDirectory(prefix="assistant-upload-") as folder:
        paths, names = [], []
        for number, upload in enumerate(files):
            # The client's name is only shown: the file is written under a safe name, so `..`, a NUL byte or 300
            # characters are one file's problem at most, never the request's.
            names.append(display_name(upload.filename, number))
            target = Path(folder) / str(number) / safe_name(upload.filename or f"upload-{number + 1}")
            target.parent.mkdir()  # one folder per file: two files may share a name
            with target.open("wb") as out:
                shutil.copyfileobj(upload.file, out, 1 << 20)
            paths.append(str(target))
        with state.write_lock:
            results = ingest_uploads(state.assistant, paths, names=names)
    return {"object": "list", "results": results}


@router.delete("/documents/{doc_id:path}", dependencies=[Depends(api_access)], summary="Remove a document",
               response_model=Deleted)
def remove_document(doc_id: str, request: Request) -> dict:
    """Removes the document from the index (and its stored upload, if it was uploaded)."""
    state = request.app.state
    with state.write_lock:
        source = next((d.source for d in state.assistant.documents() if d.doc_id == doc_id), "")
        state.assistant.remove(doc_id)  # UnknownDocumentError -> 404
        forget_upload(state.assistant.settings, source)
    return {"id": doc_id, "object": "document", "deleted": True}


@router.get("/documents/{doc_id:path}/paragraphs/{number}", dependencies=[Depends(paragraph_access)],
            summary="A paragraph with its neighbours", response_model=ParagraphWindow)
def paragraph(doc_id: str, number: int, request: Request,
              context: Annotated[int, Query(ge=0, le=MAX_CONTEXT, description="neighbours on each side")] = 1
              ) -> dict:
    """Paragraph `number` (as cited: ¶n) of a document, with `context` paragraphs before and after it."""
    if number < 1:
        raise ApiError(400, "paragraph numbers start at 1", "invalid_request", "number")
    found = _assistant(request).paragraphs(doc_id, number, context)  # UnknownDocumentError -> 404
    cited = next(p for p in found if p.number == number)
    return {"doc_id": doc_id, "title": cited.title, "paragraph": number, "context": context,
            "paragraphs": [{"paragraph": p.number, "page": p.page, "text": p.text, "cited": p.number == number}
                           for p in found]}
