"""The Settings tab: answer mode, top-k, the active backend, and a model of the tab's own (an OpenAI-compatible
server typed here). Everything set here applies to this browser tab only."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import gradio as gr

from assistant.config.masking import mask_url
from assistant.ui import render

OFFLINE_CHOICE = ("Offline (extractive, no key)", "offline")


def llm_configured(settings) -> bool:
    return bool(settings.openai_api_key or settings.openai_base_url)


def mode_choices(settings) -> tuple[list[tuple[str, str]], str]:
    """(the answer modes offered, the one selected at first)."""
    choices = [OFFLINE_CHOICE]
    if llm_configured(settings):
        choices.append((f"LLM ({settings.llm_model})", "llm"))
    default = settings.answer_mode if any(v == settings.answer_mode for _, v in choices) else "offline"
    return choices, default


def backend_description(settings, mode: str, choice: dict | None = None) -> str:
    """The "Active backend" box for a tab in `mode`, with the tab's own model `choice` if any. Every URL is shown
    through mask_url: a password in OPENAI_BASE_URL never reaches the page."""
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


@dataclass
class SettingsTab:
    mode: gr.Radio
    top_k: gr.Slider
    backend: gr.HTML
    base_url: gr.Textbox
    model_name: gr.Textbox
    use: gr.Button
    switched: gr.HTML


def layout(settings) -> SettingsTab:
    choices, default = mode_choices(settings)
    with gr.Row(equal_height=False):
        with gr.Column(scale=1):
            mode = gr.Radio(choices, value=default, label="Answer mode", elem_id="mode",
                            info=None if llm_configured(settings) else
                            "LLM mode appears here once OPENAI_API_KEY or OPENAI_BASE_URL is set, or once you "
                            "choose a model below.")
            top_k = gr.Slider(1, 20, value=settings.top_k, step=1, elem_id="top-k",
                              label="Paragraphs retrieved per question (top-k)",
                              info="More paragraphs can find more; fewer keep answers focused.")
            gr.Markdown("These settings apply to this browser tab only.", elem_classes=["muted"])
        with gr.Column(scale=1):
            backend = gr.HTML(backend_description(settings, default), elem_id="backend-info", js_on_load=None)
            with gr.Group(elem_id="model-switch"):
                base_url = gr.Textbox(label="LLM server (OpenAI-compatible base URL)", elem_id="llm-base-url",
                                      placeholder=mask_url(settings.openai_base_url) or "http://localhost:11434/v1")
                model_name = gr.Textbox(label="Model", value=settings.llm_model, elem_id="llm-model")
                use = gr.Button("Use this model in this tab", elem_id="llm-use")
            gr.Markdown("For Ollama, llama.cpp, vLLM or LM Studio. The key in OPENAI_API_KEY is sent only to the "
                        "configured server (OPENAI_BASE_URL); a server typed here gets no key.",
                        elem_classes=["muted"])
            switched = gr.HTML("", elem_id="llm-switch-result", js_on_load=None)
    return SettingsTab(mode=mode, top_k=top_k, backend=backend, base_url=base_url, model_name=model_name, use=use,
                       switched=switched)


def model_switcher(settings):
    """The handler that switches a tab to LLM mode with a typed server and model (other tabs are unchanged)."""

    def use_model(base_url: str, model: str, mode_now: str, choice: dict | None):
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

    return use_model


def wire(tab: SettingsTab, settings, model_choice: gr.State) -> None:
    tab.mode.change(lambda m, c: backend_description(settings, m, c), inputs=[tab.mode, model_choice],
                    outputs=[tab.backend], api_visibility="private", queue=False)
    tab.use.click(model_switcher(settings), inputs=[tab.base_url, tab.model_name, tab.mode, model_choice],
                  outputs=[tab.switched, tab.mode, model_choice, tab.backend], api_visibility="private", queue=False)
