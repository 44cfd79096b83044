"""The Chat tab: the conversation with streamed, cited answers beside the sources panel."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import gradio as gr

from assistant.errors import AssistantError
from assistant.types import Answer
from assistant.ui import render

log = logging.getLogger(__name__)
ANSWER_CONCURRENCY = 8
PLACEHOLDER = ("**Ask a question about your documents.**<br>Every sentence of an answer cites the paragraph it "
               "comes from: click a marker to see that paragraph, with the supporting words highlighted.")


@dataclass
class ChatTab:
    chatbot: gr.Chatbot
    box: gr.Textbox
    send: gr.Button
    clear: gr.Button
    sources: gr.HTML


def layout() -> ChatTab:
    with gr.Row(equal_height=False):
        with gr.Column(scale=3, min_width=380):
            # render_markdown=False: messages are our escaped HTML; Markdown in a document or a reply (an image
            # URL, which the browser would fetch) stays text.
            chatbot = gr.Chatbot(elem_id="chatbot", height=560, placeholder=PLACEHOLDER, label="Chat",
                                 show_label=False, buttons=["copy"], feedback_options=None,
                                 group_consecutive_messages=False, render_markdown=False, latex_delimiters=[],
                                 sanitize_html=True)
            with gr.Row():
                box = gr.Textbox(placeholder="Ask about the documents…", show_label=False, lines=1, max_lines=6,
                                 scale=6, elem_id="chat-input", autofocus=True, submit_btn=False, container=False)
                send = gr.Button("Ask", variant="primary", scale=1, min_width=80, elem_id="ask-button")
                clear = gr.Button("New chat", variant="secondary", scale=1, min_width=110, elem_id="new-chat")
        with gr.Column(scale=2, min_width=320):
            gr.Markdown("### Sources", elem_id="sources-title")
            sources = gr.HTML(render.sources_panel([]), elem_id="sources-box", js_on_load=None)
    return ChatTab(chatbot=chatbot, box=box, send=send, clear=clear, sources=sources)


def responder(answerer: Callable[[str, dict | None], object]):
    """The handler for a question: it streams the answer into the chat, then shows it with its sources.
    `answerer(mode, choice)` is the Assistant this tab answers with (session_models.py)."""

    def respond(message: str, turns: list[dict], mode: str, top_k: float, choice: dict | None):
        question = (message or "").strip()
        if not question:
            gr.Warning("Type a question first.")
            yield gr.skip(), gr.skip(), gr.skip(), gr.skip()
            return
        turns = list(turns or [])
        shown = render.chat_messages(turns) + [{"role": "user", "content": render.chat_text(question)}]
        waiting = shown + [{"role": "assistant", "content": render.chat_text("Searching the documents…", "waiting")}]
        yield "", waiting, turns, render.sources_panel(turns, pending=question)
        text, answer, error = "", None, None
        try:
            stream = answerer(mode, choice).stream(question, history=render.history(turns), top_k=int(top_k),
                                                   mode=mode)
            for piece in stream:
                if isinstance(piece, Answer):
                    answer = piece
                    break
                text += str(piece)
                partial = shown + [{"role": "assistant", "content": render.chat_text(text, "partial")}]
                yield gr.skip(), partial, gr.skip(), gr.skip()
        except AssistantError as exc:
            error = str(exc)
        except Exception as exc:  # the page must survive anything the answerer throws
            log.exception("answering a question failed")
            error = f"Something went wrong while answering ({type(exc).__name__}: {exc})."
        if answer is None and error is None:
            error = "The answerer stopped without an answer."
        turn = {"question": question, "answer": answer.to_dict() if answer else None, "error": error}
        turns = turns + [turn]
        yield gr.skip(), render.chat_messages(turns), turns, render.sources_panel(turns)

    return respond


def new_chat():
    return [], [], render.sources_panel([])


def wire(tab: ChatTab, respond, turns: gr.State, mode: gr.Radio, top_k: gr.Slider, model_choice: gr.State) -> None:
    # One listener for Enter and the button; a question sent while one is being answered waits for it
    # ("always_last"), so it sees the updated history instead of racing it.
    gr.on([tab.box.submit, tab.send.click], respond, inputs=[tab.box, turns, mode, top_k, model_choice],
          outputs=[tab.box, tab.chatbot, turns, tab.sources], show_progress="hidden", trigger_mode="always_last",
          concurrency_limit=ANSWER_CONCURRENCY, concurrency_id="answers", api_name="chat",
          api_visibility="undocumented")
    tab.clear.click(new_chat, outputs=[tab.chatbot, turns, tab.sources], api_visibility="private", queue=False)
    tab.chatbot.clear(new_chat, outputs=[tab.chatbot, turns, tab.sources], api_visibility="private", queue=False)
