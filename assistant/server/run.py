"""`assistant serve` and `python app.py`: open the index (indexing the corpus on a first start), then serve the
page, the API and the docs with uvicorn on one port.

"Running on local URL: ..." is printed once the server accepts connections (scripts and tests wait for it).
"""

from __future__ import annotations

import logging
import os
import socket
import sys
import tempfile
import threading
import time

from assistant.errors import AssistantError
from assistant.config.settings import Settings

log = logging.getLogger(__name__)
ALL_INTERFACES = ("0.0.0.0", "::", "")


def _warm_up(app_assistant) -> None:
    """Load the index mirror, BM25 and the model once, so the first person to ask does not wait for it."""
    try:
        app_assistant.ask("What are these documents about?", mode="offline")  # no LLM call, no cost
    except Exception:  # a warm-up failure is not an error: the first question will say what is wrong
        pass


def _listen(host: str, port: int) -> socket.socket:
    """Bind before starting uvicorn, so that a taken port is one clear message, not a traceback."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def _url(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ALL_INTERFACES else (f"[{host}]" if ":" in host else host)
    return f"http://{shown}:{port}/"


def _warnings(host: str, settings: Settings) -> list[str]:
    if host not in ALL_INTERFACES:
        return []
    found: list[str] = []
    if not settings.ui_auth:
        found.append("the page listens on all interfaces with no login; set ASSISTANT_UI_AUTH=user:password")
    if settings.api_key is None and not settings.ui_auth:
        found.append("the API (/v1) listens on all interfaces with no key; set ASSISTANT_API_KEY")
    return found


def _sweep_uploads(max_age_s: float) -> None:
    """Forever: delete uploads gradio received that no handler took (ui.uploads.discard_stale_incoming)."""
    from assistant.ingest.uploads import discard_stale_incoming

    while True:
        try:
            discard_stale_incoming(max_age_s)
        except Exception:  # noqa: BLE001 - a sweep that fails must not end the server
            log.warning("sweeping stale uploads failed", exc_info=True)
        time.sleep(min(60.0, max(max_age_s / 2, 1.0)))


def serve(host: str | None = None, port: int | None = None) -> int:
    import uvicorn

    from assistant import Assistant
    from assistant.server.app import create_app
    from assistant.ui import page_auth, server_address

    started = time.perf_counter()
    # gradio's upload folder, private to this server: the sweep of stale uploads must not touch another gradio
    # app's files (its default, <temp>/gradio, is shared by every gradio app of the machine)
    os.environ.setdefault("GRADIO_TEMP_DIR", tempfile.mkdtemp(prefix="assistant-uploads-"))
    try:
        settings = Settings.load()
        default_host, default_port = server_address(settings)
        host = default_host if host is None else host
        port = default_port if port is None else port
        page_auth(settings)  # a malformed ui_auth is an error before anything starts
        sock = _listen(host, port)  # a taken port too, before a first start spends minutes indexing
        app_assistant = Assistant(settings)
        if app_assistant.index.count() == 0:
            print(f"Indexing {settings.corpus_dir} (first start)…", flush=True)
        report = app_assistant.ensure_indexed(progress=True)
        if report is not None:
            print(f"Indexed {settings.corpus_dir}: {report.summary()}", flush=True)
            for warning in report.warnings:
                print(f"warning: {warning}", file=sys.stderr, flush=True)
        app = create_app(app_assistant)
    except (AssistantError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"error: cannot listen on {host}:{port} ({exc.strerror or exc})", file=sys.stderr)
        return 1
    for warning in _warnings(host, settings):
        print(f"warning: {warning}", file=sys.stderr)
    if settings.api_key is None and not settings.ui_auth and host not in ALL_INTERFACES:
        print(f"note: no API key and no page login are set, so anyone who can reach {host} may use this server; "
              "it listens there only. Set ASSISTANT_API_KEY before listening on a network address (--host).",
              file=sys.stderr)
    threading.Thread(target=_sweep_uploads, args=(settings.orphan_upload_minutes * 60,), daemon=True).start()
    threading.Thread(target=_warm_up, args=(app_assistant,), daemon=True).start()
    print(f"Ready in {time.perf_counter() - started:.1f} s", flush=True)
    url = _url(host, port)

    class Server(uvicorn.Server):
        async def startup(self, sockets=None) -> None:
            await super().startup(sockets=sockets)
            if not self.should_exit:
                print(f"Running on local URL:  {url}\nAPI: {url}v1 (docs: {url}docs)", flush=True)

    config = uvicorn.Config(app, log_level="warning", access_log=False, timeout_graceful_shutdown=5)
    Server(config).run(sockets=[sock])
    return 0
