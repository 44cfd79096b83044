"""The web UI: `build_ui(assistant)` makes the gradio page, `main()` is `python app.py`.

Where it listens: `ui_host` / `ui_port` when set in assistant.toml or ASSISTANT_UI_HOST / ASSISTANT_UI_PORT, else
gradio's own GRADIO_SERVER_NAME / GRADIO_SERVER_PORT, else 127.0.0.1:7860. It binds to all interfaces only when
one of those asks for it (0.0.0.0), and then warns if no login is configured (`ui_auth = "user:password"`).
"""

from __future__ import annotations

import os
import sys
import threading
import time

import assistant  # noqa: F401  (applies the offline environment before gradio is imported)
from assistant.errors import AssistantError
from assistant.settings import Settings
from assistant.ui.blocks import build_ui
from assistant.ui.static import CSS, HEAD

__all__ = ["build_ui", "launch_options", "main"]


def _server_address(settings: Settings) -> tuple[str, int]:
    explicit = settings.model_fields_set
    host = settings.ui_host if "ui_host" in explicit else os.environ.get("GRADIO_SERVER_NAME") or settings.ui_host
    port = settings.ui_port if "ui_port" in explicit else int(os.environ.get("GRADIO_SERVER_PORT") or settings.ui_port)
    return host, port


def _auth(settings: Settings) -> tuple[str, str] | None:
    if not settings.ui_auth:
        return None
    user, sep, password = settings.ui_auth.partition(":")
    if not sep or not user or not password:
        raise ValueError("ui_auth must look like 'user:password' (ASSISTANT_UI_AUTH)")
    return user, password


def launch_options(settings: Settings) -> dict:
    """Keyword arguments for `Blocks.launch()` from the settings."""
    import gradio as gr

    host, port = _server_address(settings)
    return dict(
        server_name=host, server_port=port, auth=_auth(settings),
        auth_message="Log in to ask questions about the documents.",
        max_file_size=int(settings.max_upload_mb * 1_048_576),
        # System fonts: the web fonts inside the gradio wheel are partial subsets (some letters fall back to
        # another font), and nothing may be fetched from outside this server.
        theme=gr.themes.Default(primary_hue="indigo", neutral_hue="slate",
                                font=["system-ui", "Segoe UI", "Roboto", "Helvetica Neue", "Arial", "sans-serif"],
                                font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace"]),
        css=CSS, head=HEAD,
        footer_links=["api", "settings"], enable_monitoring=False, run_history=False, mcp_server=False,
        ssr_mode=False, pwa=False, share=False, show_error=True, inbrowser=False,
    )


def _warm_up(app_assistant) -> None:
    """Load the index mirror, BM25 and the model once, so the first person to ask does not wait for it."""
    try:
        app_assistant.ask("What are these documents about?", mode="offline")  # no LLM call, no cost
    except Exception:  # a warm-up failure is not an error: the first question will say what is wrong
        pass


def main(argv: list[str] | None = None) -> int:
    from assistant import Assistant

    started = time.perf_counter()
    try:
        settings = Settings.load()
        options = launch_options(settings)
        app_assistant = Assistant(settings)
        if app_assistant.index.count() == 0:
            print(f"Indexing {settings.corpus_dir} (first start)…", flush=True)
        report = app_assistant.ensure_indexed(progress=True)
        if report is not None:
            print(f"Indexed {settings.corpus_dir}: {report.summary()}", flush=True)
    except (AssistantError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if options["server_name"] in ("0.0.0.0", "::") and not options["auth"]:
        print("warning: the UI listens on all interfaces with no login; set ASSISTANT_UI_AUTH=user:password",
              file=sys.stderr)
    threading.Thread(target=_warm_up, args=(app_assistant,), daemon=True).start()
    demo = build_ui(app_assistant)
    demo.queue(default_concurrency_limit=4)
    print(f"Ready in {time.perf_counter() - started:.1f} s", flush=True)
    demo.launch(**options)
    return 0
