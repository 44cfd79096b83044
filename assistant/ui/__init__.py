"""The web page: `build_ui(assistant)` makes the gradio page; `page_options(settings)` says how it is mounted on the
server (assistant/server/), which `python app.py` and `assistant serve` run.

Where the server listens: `ui_host` / `ui_port` when set in assistant.toml or ASSISTANT_UI_HOST / ASSISTANT_UI_PORT,
else gradio's own GRADIO_SERVER_NAME / GRADIO_SERVER_PORT, else 127.0.0.1:7860. It binds to all interfaces only
when one of those asks for it (0.0.0.0), and then warns if no login is configured (`ui_auth = "user:password"`).
"""

from __future__ import annotations

import hmac
import os

import assistant  # noqa: F401  (applies the offline environment before gradio is imported)
from assistant.config.settings import Settings
from assistant.ui.blocks import build_ui
from assistant.ui.static import CSS, head

__all__ = ["build_ui", "page_options", "server_address", "page_auth"]


def server_address(settings: Settings) -> tuple[str, int]:
    explicit = settings.model_fields_set
    host = settings.ui_host if "ui_host" in explicit else os.environ.get("GRADIO_SERVER_NAME") or settings.ui_host
    port = settings.ui_port if "ui_port" in explicit else int(os.environ.get("GRADIO_SERVER_PORT") or settings.ui_port)
    return host, port


def page_auth(settings: Settings):
    """Who may use the page (and gradio's own API and file routes under it, which gradio guards with the same
    login): `ui_auth`'s user and password; else, with an API key set, any user name and the key as the password
    (one notion of who may use this server); else nobody is asked (the server then binds loopback by default)."""
    if settings.ui_auth:
        user, sep, password = settings.ui_auth.partition(":")
        if not sep or not user or not password:
            raise ValueError("ui_auth must look like 'user:password' (ASSISTANT_UI_AUTH)")
        return user, password
    if settings.api_key is not None:
        key = settings.api_key.get_secret_value()

        def key_as_password(_user: str, password: str) -> bool:
            return hmac.compare_digest(password.encode(), key.encode())

        return key_as_password
    return None


def auth_message(settings: Settings) -> str:
    if not settings.ui_auth and settings.api_key is not None:
        return "Log in with the server's API key as the password (any user name)."
    return "Log in to ask questions about the documents."


def page_options(settings: Settings, page_key: str = "") -> dict:
    """Keyword arguments for `gr.mount_gradio_app()` from the settings (what `Blocks.launch()` used to take)."""
    import gradio as gr

    host, port = server_address(settings)
    return dict(
        server_name=host, server_port=port, auth=page_auth(settings),
        auth_message=auth_message(settings),
        max_file_size=int(settings.max_upload_mb * 1_048_576),
        # System fonts: the web fonts inside the gradio wheel are partial subsets (some letters fall back to
        # another font), and nothing may be fetched from outside this server.
        theme=gr.themes.Default(primary_hue="indigo", neutral_hue="slate",
                                font=["system-ui", "Segoe UI", "Roboto", "Helvetica Neue", "Arial", "sans-serif"],
                                font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace"]),
        css=CSS, head=head(page_key),
        footer_links=["api", "settings"], enable_monitoring=False, run_history=False, mcp_server=False,
        ssr_mode=False, pwa=False, show_error=True,
    )

