"""OpenAI-compatible routes: GET /v1/models and POST /v1/chat/completions, so any OpenAI SDK or chat front end
(Open WebUI, LibreChat, ...) pointed at this server gets cited answers.

The answer text carries the citation markers ([1], [2]); the citations themselves travel in a top-level
`citations` array, as search-grounded chat APIs do: [{"marker", "doc_id", "title", "paragraph", "page", "quote",
"verified"}]. Streaming sends the text as `chat.completion.chunk` deltas; the last chunk (finish_reason "stop")
carries `citations` and `answer`, the checked answer text, which differs from the streamed text only when the
check removed a marker or the model server failed mid-answer and the answer was given offline instead.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from assistant.answering.generative.budget import count_tokens, encoding_for
from assistant.answering.generative.llms.base import Deadline, LLMError
from assistant.types import Answer
from assistant.server import side_tasks
from assistant.server.errors import ApiError
from assistant.server.rest import begin_stream, sse, sse_response, stream_failed
from assistant.server.responses import ERRORS, SSE, ChatCompletion, ModelList
from assistant.server.schemas import ChatRequest, text_of
from assistant.server.security import api_access

router = APIRouter(prefix="/v1", responses=ERRORS)
MODEL = "assistant"
STARTED = int(time.time())


@router.get("/models", dependencies=[Depends(api_access)], summary="The models this server answers as",
            response_model=ModelList)
def models() -> dict:
    return {"object": "list", "data": [{"id": MODEL, "object": "model", "created": STARTED,
                                        "owned_by": "assistant"}]}


def citations_of(answer: Answer) -> list[dict]:
    return [{"marker": c.marker, "doc_id": c.doc_id, "title": c.title, "paragraph": c.paragraph, "page": c.page,
             "quote": c.quote, "verified": c.verified} for c in answer.citations]


def extras_of(answer: Answer) -> dict:
    """What an OpenAI client does not expect but a careful reader wants: citations, whether the documents
    declined, notes, and the answer's support when the answerer reports it."""
    data = answer.to_dict()
    extras = {"citations": citations_of(answer), "refused": answer.refused, "notes": answer.notes}
    extras.update({k: data[k] for k in ("confidence", "support", "uncovered") if k in data})
    return extras


def usage_of(answer: Answer) -> dict:
    prompt = int(answer.usage.get("prompt_tokens") or 0)
    completion = int(answer.usage.get("completion_tokens") or 0)
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def _side_task(assistant, task: side_tasks.SideTask, body: ChatRequest) -> str:
    """The task's JSON: from the LLM when one is configured (the prompt as the client wrote it), else offline."""
    mode = body.mode or assistant.settings.answer_mode
    if mode == "llm":
        try:
            chat = assistant.chat_model()
            messages = [{"role": m.role, "content": text_of(m)} for m in body.messages if m.role in
                        ("system", "user", "assistant")]
            return chat.complete(messages, assistant.settings.llm_max_answer_tokens,
                                 Deadline(assistant.settings.llm_deadline_seconds).at()).text
        except LLMError:
            pass  # no LLM after all, or it failed: the offline answer is still in the shape asked for
    return side_tasks.answer(task, assistant)


def _task_reply(head: dict, text: str, body: ChatRequest, prompt: str):
    encoding = encoding_for("gpt-4o-mini")
    prompt_tokens, completion_tokens = count_tokens(prompt, encoding), count_tokens(text, encoding)
    usage = {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
             "total_tokens": prompt_tokens + completion_tokens}
    if not body.stream:
        return {**head, "object": "chat.completion", "usage": usage,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop",
                             "logprobs": None}]}
    chunk = {**head, "object": "chat.completion.chunk"}

    def events() -> Iterator[str]:
        for delta, finish in (({"role": "assistant", "content": ""}, None), ({"content": text}, None), ({}, "stop")):
            yield sse({**chunk, "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}]})
        if (body.stream_options or {}).get("include_usage"):
            yield sse({**chunk, "choices": [], "usage": usage})
        yield "data: [DONE]\n\n"

    return sse_response(events())


def _question_and_history(body: ChatRequest) -> tuple[str, list[dict]]:
    if body.model != MODEL:
        raise ApiError(404, f"The model '{body.model}' does not exist: this server answers as '{MODEL}'.",
                       "model_not_found", "model")
    last = body.messages[-1]
    if last.role != "user":
        raise ApiError(400, "The last message must be the user's question.", "invalid_request", "messages")
    history = [{"role": m.role, "content": text_of(m)} for m in body.messages[:-1] if m.role in ("user", "assistant")]
    return text_of(last), history


@router.post("/chat/completions", dependencies=[Depends(api_access)], summary="OpenAI-compatible chat",
             response_model=ChatCompletion, response_model_exclude_unset=True, responses={200: SSE})
async def chat_completions(body: ChatRequest, request: Request):
    question, history = _question_and_history(body)
    assistant = request.app.state.assistant
    completion_id = f"chatcmpl-{uuid.uuid4().hex}"
    created = int(time.time())
    head = {"id": completion_id, "created": created, "model": MODEL, "system_fingerprint": None}
    task = side_tasks.recognise(question)
    if task is not None:  # a client's own prompt (a chat title, tags, ...): answered as the task it is
        text = await run_in_threadpool(_side_task, assistant, task, body)
        return _task_reply(head, text, body, question)
    if not body.stream:
        answer = await run_in_threadpool(assistant.ask, question, history or None, body.top_k, body.mode)
        return {**head, "object": "chat.completion",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": answer.text},
                             "finish_reason": "stop", "logprobs": None}],
                "usage": usage_of(answer), **extras_of(answer)}
    pieces = await begin_stream(assistant, question, history or None, body.top_k, body.mode)
    include_usage = bool((body.stream_options or {}).get("include_usage"))
    chunk = {**head, "object": "chat.completion.chunk"}

    def delta(content: dict, finish: str | None = None) -> dict:
        return {**chunk, "choices": [{"index": 0, "delta": content, "finish_reason": finish, "logprobs": None}]}

    def events() -> Iterator[str]:
        yield sse(delta({"role": "assistant", "content": ""}))
        try:
            for piece in pieces:
                if isinstance(piece, Answer):
                    yield sse({**delta({}, "stop"), "answer": piece.text, **extras_of(piece)})
                    if include_usage:
                        yield sse({**chunk, "choices": [], "usage": usage_of(piece)})
                else:
                    yield sse(delta({"content": piece}))
        except Exception as exc:  # after the 200: OpenAI clients raise on an `error` event
            yield sse(stream_failed(exc))
        yield "data: [DONE]\n\n"

    return sse_response(events())

