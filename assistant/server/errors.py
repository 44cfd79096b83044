"""Errors of the REST API in OpenAI's shape, so every OpenAI client shows them as it shows OpenAI's own:

    {"error": {"message": "...", "type": "invalid_request_error", "param": null, "code": null}}

An AssistantError keeps its message (it is written for users); anything unexpected is logged with its traceback
and answered with a short message that names the exception type, never the traceback.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from assistant.errors import (AssistantError, EmbeddingMismatchError, IndexDamagedError, IndexLockedError,
                              QuestionError, UnknownDocumentError)

log = logging.getLogger(__name__)
ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
               404: "not_found_error", 409: "conflict_error", 413: "invalid_request_error",
               422: "invalid_request_error", 503: "service_unavailable_error"}


def error_body(status: int, message: str, code: str | None = None, param: str | None = None) -> dict:
    return {"error": {"message": message, "type": ERROR_TYPES.get(status, "server_error"), "param": param,
                      "code": code}}


def api_error(status: int, message: str, code: str | None = None, param: str | None = None,
              headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(error_body(status, message, code, param), status_code=status, headers=headers)


class ApiError(Exception):
    """Raised inside a route to answer with an OpenAI-shaped error."""

    def __init__(self, status: int, message: str, code: str | None = None, param: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.code, self.param, self.headers = status, message, code, param, headers


def status_of(exc: AssistantError) -> tuple[int, str]:
    """The HTTP status and error code for one of our errors."""
    if isinstance(exc, QuestionError):
        return 400, "invalid_question"
    if isinstance(exc, UnknownDocumentError):
        return 404, "unknown_document"
    if isinstance(exc, IndexLockedError):
        return 409, "index_locked"
    if isinstance(exc, (IndexDamagedError, EmbeddingMismatchError)):
        return 503, "index_unusable"
    return 503, "unavailable"


def describe(exc: BaseException) -> tuple[int, str, str]:
    """(status, code, message) for any exception a route let through."""
    if isinstance(exc, AssistantError):
        status, code = status_of(exc)
        return status, code, str(exc)
    if isinstance(exc, ValidationError):
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        return 400, "invalid_value", f"invalid value ({problems})"
    log.error("request failed", exc_info=exc)
    return 500, "internal_error", f"The server failed while answering ({type(exc).__name__}); see its log."


def install(app: FastAPI) -> None:
    """OpenAI-shaped errors for the routes of `app` (the mounted page keeps gradio's own)."""

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError):
        return api_error(exc.status, exc.message, exc.code, exc.param, exc.headers)

    @app.exception_handler(StarletteHTTPException)  # FastAPI raises Starlette's own for a body it cannot parse
    async def _http_error(request: Request, exc: StarletteHTTPException):
        cause = exc.__cause__
        if exc.status_code == 400 and isinstance(cause, UnicodeDecodeError):
            return api_error(400, "the request body is not valid JSON (it is not UTF-8 text)", "invalid_json")
        if exc.status_code == 400 and isinstance(cause, RecursionError):
            return api_error(400, "the request body is not valid JSON we accept (it is nested too deeply)",
                             "invalid_json")
        if exc.status_code == 400 and cause is not None:
            return api_error(400, f"the request body could not be read ({type(cause).__name__})", "invalid_body")
        return api_error(exc.status_code, str(exc.detail), headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {}
        if first.get("type") == "json_invalid":  # its location is a character offset, not a field
            reason = (first.get("ctx") or {}).get("error", "")
            return api_error(400, f"the request body is not valid JSON ({reason} at character {first['loc'][-1]})"
                             if reason else "the request body is not valid JSON", "invalid_json")
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        message = f"{where}: {first.get('msg', 'invalid request')}" if where else first.get("msg", "invalid request")
        return api_error(400, message, "invalid_request", where or None)

    @app.exception_handler(AssistantError)
    async def _ours(request: Request, exc: AssistantError):
        status, code, message = describe(exc)
        return api_error(status, message, code)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        status, code, message = describe(exc)
        return api_error(status, message, code)
