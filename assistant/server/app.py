"""`create_app(assistant)`: the one FastAPI application. The chat page (gradio) is mounted at `/`, the REST and
OpenAI-compatible API lives under `/v1`, its documentation at `/docs` (Swagger UI served from this server, no
CDN), and `GET /healthz` says whether the index can be read.
"""

from __future__ import annotations

import threading
from pathlib import Path

import fastapi_offline
import gradio as gr
from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from assistant.errors import AssistantError
from assistant.server import errors, openai_api, rest
from assistant.server.responses import Health
from assistant.server.security import SecurityHeaders, UploadedFilesGuard, UploadLimit, new_page_key
from assistant.ui import build_ui, page_options

DOCS_ASSETS = Path(fastapi_offline.__file__).parent / "static"  # Swagger UI 5, shipped in the wheel
MAX_FILES_PER_UPLOAD = 20
DESCRIPTION = """Answers from your documents, every claim cited to its paragraph.

- `POST /v1/ask`: the JSON of `assistant ask --json` (or server-sent events with `stream: true`).
- `POST /v1/chat/completions`: OpenAI-compatible (model `assistant`); citations in a top-level `citations` array.
- `/v1/documents`: list, upload (multipart), remove; a paragraph with its neighbours.

With `ASSISTANT_API_KEY` set, send `Authorization: Bearer <key>`. Errors have OpenAI's shape."""


def create_app(assistant, write_lock: threading.Lock | None = None) -> FastAPI:
    settings = assistant.settings
    app = FastAPI(title="assistant", version="1", description=DESCRIPTION, docs_url=None, redoc_url=None)
    app.state.assistant = assistant
    app.state.settings = settings
    app.state.write_lock = write_lock or threading.Lock()
    app.state.page_key = new_page_key()
    errors.install(app)
    app.add_middleware(UploadLimit, limit=int(settings.max_upload_mb * 1_048_576) * MAX_FILES_PER_UPLOAD + (1 << 20))
    app.add_middleware(UploadedFilesGuard)
    app.add_middleware(SecurityHeaders)  # added last: outermost, so every response carries the CSP

    app.mount("/docs-assets", StaticFiles(directory=DOCS_ASSETS), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url=app.openapi_url, title="assistant API",
                                   swagger_js_url="/docs-assets/swagger-ui-bundle.js",
                                   swagger_css_url="/docs-assets/swagger-ui.css",
                                   swagger_favicon_url="/docs-assets/favicon.png",
                                   swagger_ui_parameters={"validatorUrl": None})

    @app.get("/healthz", summary="Whether the server can read its index", response_model=Health,
             response_model_exclude_none=True, responses={503: {"model": Health}})
    async def healthz():
        try:
            documents = len(await run_in_threadpool(assistant.documents))
        except AssistantError as exc:
            return JSONResponse({"status": "error", "message": str(exc)}, status_code=503)
        return {"status": "ok", "documents": documents}

    app.include_router(rest.router, tags=["documents and questions"])
    app.include_router(openai_api.router, tags=["OpenAI-compatible"])

    page = build_ui(assistant, app.state.write_lock)
    page.queue(default_concurrency_limit=4)
    return gr.mount_gradio_app(app, page, path="/", **page_options(settings, app.state.page_key))
