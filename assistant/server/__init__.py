"""The server: one FastAPI application with the chat page at `/`, the REST and OpenAI-compatible API under `/v1`,
its docs at `/docs` and `GET /healthz` (app.py); `assistant serve` / `python app.py` run it (run.py).

Modules: app (assembly), rest (/v1 ask and documents), openai_api (/v1/models, /v1/chat/completions), schemas
(request bodies), security (CSP, upload cap, API access), errors (OpenAI-shaped errors), run (startup).
"""
