"""What keeps the server's pages and API safe: a Content-Security-Policy on every response, a cap on upload
bodies, and who may call /v1.

The policy lets a page load and connect only to this server. Gradio's page needs inline scripts and styles (its
index.html sets its config in inline <script> tags, components style themselves inline), 'unsafe-eval' (gradio
6's gr.HTML renders its template through Handlebars and `Function()`: without it the sources panel stays empty)
and blob: workers; nothing else is allowed, and no remote host ever is. So even if some text slipped through as an <img>, the
browser would refuse to fetch it.

Who may call /v1:
- `ASSISTANT_API_KEY` set: `Authorization: Bearer <key>`.
- no API key, and the page has no login: anyone who can reach the server (it binds 127.0.0.1 by default).
- no API key, but the page requires a login (`ui_auth`): nobody, since an open /v1 would bypass the login.
The page's own "more context" requests carry the page key (random per start, handed out only inside the page,
past its login) and may only read paragraphs. Requests that change the index and come from another web origin
(a browser on some other site posting a form to this server) are refused.

Who may use the page and gradio's own routes under it (/gradio_api/...: its API, uploads, files, queue): the
page's login, which gradio checks on each of them. With `ui_auth` that is its user and password; with only an API
key, the key is the password (`ui.page_auth`). So one key closes the whole server. Files gradio received as
uploads are never served back (`UploadedFilesGuard`), and those no handler took are deleted after
`orphan_upload_minutes` (`ui.uploads.discard_stale_incoming`).
"""

from __future__ import annotations

import hmac
import json
import secrets
from urllib.parse import urlsplit

from fastapi import Request

from assistant.server.errors import ApiError, error_body

CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self' 'unsafe-inline' 'unsafe-eval'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "media-src 'self' data: blob:",
    "connect-src 'self'",
    "worker-src 'self' blob:",
    "frame-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'self'",
])
HEADERS = [(b"content-security-policy", CSP.encode()), (b"x-content-type-options", b"nosniff"),
           (b"referrer-policy", b"no-referrer")]


class SecurityHeaders:
    """ASGI middleware: the CSP (and no-referrer, nosniff) on every HTTP response, the mounted page's included.

    Pure ASGI rather than BaseHTTPMiddleware, so streamed answers (server-sent events) pass through untouched."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [h for h in HEADERS if h[0] not in present]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class UploadedFilesGuard:
    """ASGI middleware: gradio serves every file in its upload folder at /gradio_api/file=<path>. The page never
    shows an uploaded file back, and an upload sent straight to /gradio_api/upload that no handler took would
    otherwise stay downloadable by anyone with its path: such requests are refused (403), login or not."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and self._uploaded_file(scope.get("path", "")):
            body = json.dumps(error_body(403, "uploaded files are not served", "forbidden")).encode()
            await send({"type": "http.response.start", "status": 403,
                        "headers": [(b"content-type", b"application/json"),
                                    (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)

    @staticmethod
    def _uploaded_file(path: str) -> bool:
        from pathlib import Path
        from urllib.parse import unquote

        from assistant.ingest.uploads import gradio_upload_folder

        for prefix in ("/gradio_api/file=", "/gradio_api/file/", "/file=", "/file/"):
            if path.startswith(prefix):
                folder = gradio_upload_folder()
                try:
                    target = Path(unquote(path[len(prefix):])).resolve()
                except (OSError, ValueError):
                    return True
                return folder is not None and (target == folder or folder in target.parents)
        return False


class _TooLarge(Exception):
    pass


class UploadLimit:
    """ASGI middleware: a POST to /v1/documents may not send more than `limit` bytes in all (the files are
    spooled to disk before the route sees them, so the cap has to act while the body arrives)."""

    def __init__(self, app, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"].rstrip("/") != "/v1/documents":
            return await self.app(scope, receive, send)
        length = dict(scope.get("headers", [])).get(b"content-length")
        if length and length.isdigit() and int(length) > self.limit:
            return await self._refuse(send)
        received = 0

        async def counted():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise _TooLarge
            return message

        try:
            await self.app(scope, counted, send)
        except _TooLarge:
            await self._refuse(send)

    async def _refuse(self, send) -> None:
        body = json.dumps(error_body(413, f"the upload is larger than {self.limit / 1_048_576:.0f} MB in all; "
                                          "send fewer or smaller files", "upload_too_large")).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})


def new_page_key() -> str:
    return secrets.token_urlsafe(24)


def _bearer(request: Request) -> str | None:
    scheme, _, token = (request.headers.get("authorization") or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def _refuse(message: str, code: str = "invalid_api_key") -> ApiError:
    return ApiError(401, message, code, headers={"WWW-Authenticate": "Bearer"})


def check_access(request: Request, page_may_read: bool = False) -> None:
    """Raise a 401/403 ApiError unless this request may use the route (see the module docstring)."""
    state = request.app.state
    settings = state.settings
    token = _bearer(request)
    if page_may_read and token and _same(token, state.page_key):
        return
    if settings.api_key is not None:
        if token is None:
            raise _refuse("This API needs a key: send `Authorization: Bearer <ASSISTANT_API_KEY>`.")
        if not _same(token, settings.api_key.get_secret_value()):
            raise _refuse("Incorrect API key provided.")
    elif settings.ui_auth:
        raise _refuse("The page of this server requires a login, so its API is closed: set ASSISTANT_API_KEY "
                      "on the server and send it as `Authorization: Bearer <key>`.", "api_key_required")
    if request.method not in ("GET", "HEAD", "OPTIONS") and _cross_origin(request):
        raise ApiError(403, "Requests sent by a page of another web site are refused.",
                       "cross_origin")


def _cross_origin(request: Request) -> bool:
    """A browser request sent by a page of another origin (it carries Origin, or Sec-Fetch-Site)."""
    site = request.headers.get("sec-fetch-site")
    if site and site not in ("same-origin", "none"):
        return True
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        return bool(origin)
    return urlsplit(origin).netloc.lower() != (request.headers.get("host") or "").lower()


def api_access(request: Request) -> None:
    """FastAPI dependency for /v1 routes."""
    check_access(request)


def paragraph_access(request: Request) -> None:
    """FastAPI dependency for reading paragraphs: the page's own key is accepted too."""
    check_access(request, page_may_read=True)
