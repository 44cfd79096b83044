"""A scripted OpenAI chat-completions server (stdlib only), run as its own process by the tests and benchmarks.

    python tests/openai_server.py [--port 0]      # prints "PORT <n>" on its first line, then serves

It speaks the real wire protocol (JSON replies, SSE streaming with `data: ...` events and `[DONE]`, usage
chunks when `stream_options.include_usage` is set, error bodies with status codes and headers) and plays back
replies that the caller queues:

    POST /_script    {"replies": [{...}, ...]}   append replies; each request takes the next one
    POST /_reset                                 forget queued replies and recorded requests
    GET  /_requests                              every chat request received: {"headers", "body"}

A reply is a dict, every key optional:
    content        the assistant text; "{{cite:TITLE|N}}" becomes the marker the prompt gave to paragraph N of
                   the document titled TITLE (found in the "[k] TITLE ¶N" source headers), or [99] if absent
    status         HTTP status (default 200); with >= 400 an OpenAI-style error body is sent
    error          the error message for such a body
    headers        extra response headers, e.g. {"Retry-After": "0"}
    hang           seconds to sleep before answering (a hang past the client's timeout)
    malformed      true: answer 200 with a body that is not what the protocol says
    html           true: answer 200 with an HTML page (a proxy's or a web server's), streaming or not
    chunk_delay    seconds between streamed chunks (default 0.01)
    hang_after     when streaming, sleep `hang` seconds after this many chunks instead of before answering
    usage          false: report no token usage
    finish_reason  default "stop"
With nothing queued, a request gets HTTP 500 "no scripted reply".
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STATE = {"replies": [], "requests": []}
LOCK = threading.Lock()
SOURCE_HEADER = re.compile(r"^\[(\d+)\] (.+) ¶(\d+)$", re.MULTILINE)


def resolve(content: str, messages: list[dict]) -> str:
    prompt = "\n".join(m.get("content", "") for m in messages if isinstance(m.get("content"), str))
    found = {(title, int(para)): int(n) for n, title, para in SOURCE_HEADER.findall(prompt)}

    def marker(match: re.Match) -> str:
        title, para = match.group(1).rsplit("|", 1)
        return f"[{found.get((title, int(para)), 99)}]"

    return re.sub(r"\{\{cite:(.+?)\}\}", marker, content)


def split_words(text: str) -> list[str]:
    return re.findall(r"\S+\s*|\s+", text) or [""]


class Handler(BaseHTTPRequestHandler):
    server_version = "ScriptedOpenAI/1.0"

    def log_message(self, *args) -> None:  # quiet
        pass

    def _json(self, status: int, payload, headers: dict | None = None) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, str(v))
        self.end_headers()
        self.wfile.write(body)

    def _body(self) -> dict:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b"{}"
        try:
            return json.loads(raw or b"{}")
        except json.JSONDecodeError:
            return {}

    def do_GET(self) -> None:  # noqa: N802
        if self.path == "/_requests":
            with LOCK:
                self._json(200, STATE["requests"])
        elif self.path.rstrip("/").endswith("/models"):
            self._json(200, {"object": "list", "data": [{"id": "scripted", "object": "model", "owned_by": "tests"}]})
        else:
            self._json(404, {"error": {"message": "not found"}})

    def do_POST(self) -> None:  # noqa: N802
        body = self._body()
        if self.path == "/_script":
            with LOCK:
                STATE["replies"].extend(body.get("replies", []))
            return self._json(200, {"queued": len(STATE["replies"])})
        if self.path == "/_reset":
            with LOCK:
                STATE["replies"].clear()
                STATE["requests"].clear()
            return self._json(200, {"ok": True})
        if not self.path.rstrip("/").endswith("/chat/completions"):
            return self._json(404, {"error": {"message": f"unknown path {self.path}"}})
        with LOCK:
            STATE["requests"].append({"headers": dict(self.headers.items()), "body": body})
            reply = STATE["replies"].pop(0) if STATE["replies"] else {"status": 500, "error": "no scripted reply"}
        try:
            self._reply(body, reply)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout): fine
            pass

    def _reply(self, request: dict, reply: dict) -> None:
        streaming = bool(request.get("stream"))
        if reply.get("hang") and "hang_after" not in reply:
            time.sleep(float(reply["hang"]))
        status = int(reply.get("status", 200))
        if status >= 400:
            error = {"error": {"message": reply.get("error", f"scripted error {status}"), "type": "scripted",
                               "code": status}}
            return self._json(status, error, reply.get("headers"))
        if reply.get("html"):
            page = b"<!DOCTYPE html><html><head><title>Welcome</title></head><body>It works!</body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)
            return
        content = resolve(reply.get("content", ""), request.get("messages", []))
        model = request.get("model", "scripted")
        messages = request.get("messages", [])
        prompt_tokens = sum(len(str(m.get("content", "")).split()) for m in messages) + 3
        completion_tokens = len(content.split())
        usage = {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                 "total_tokens": prompt_tokens + completion_tokens}
        finish = reply.get("finish_reason", "stop")
        if not streaming:
            if reply.get("malformed"):
                raw = b'{"id": "x", "choices": [ this is not json'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)
                return
            payload = {"id": "chatcmpl-scripted", "object": "chat.completion", "created": int(time.time()),
                       "model": model, "choices": [{"index": 0, "finish_reason": finish,
                                                    "message": {"role": "assistant", "content": content}}]}
            if reply.get("usage", True):
                payload["usage"] = usage
            return self._json(200, payload, reply.get("headers"))
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        for k, v in (reply.get("headers") or {}).items():
            self.send_header(k, str(v))
        self.end_headers()  # HTTP/1.0: the body ends when the connection closes

        def event(data) -> None:
            self.wfile.write(b"data: " + (data if isinstance(data, bytes) else json.dumps(data).encode()) + b"\n\n")
            self.wfile.flush()

        if reply.get("malformed"):
            event(b'{"choices": [{"delta": {"content": "half')
            event(b"[DONE]")
            return
        base = {"id": "chatcmpl-scripted", "object": "chat.completion.chunk", "created": int(time.time()),
                "model": model}
        event({**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""},
                                    "finish_reason": None}]})
        for i, piece in enumerate(split_words(content)):
            if "hang_after" in reply and i == int(reply["hang_after"]):
                time.sleep(float(reply.get("hang", 30)))
            event({**base, "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]})
            time.sleep(float(reply.get("chunk_delay", 0.01)))
        event({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]})
        if reply.get("usage", True) and (request.get("stream_options") or {}).get("include_usage"):
            event({**base, "choices": [], "usage": usage})
        event(b"[DONE]")


class ScriptedServer:
    """Start this script as a separate process on 127.0.0.1 and drive it (used by tests and benchmarks)."""

    def __init__(self) -> None:
        import subprocess
        from pathlib import Path

        self.process = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--port", "0"],
                                        stdout=subprocess.PIPE, text=True)
        line = self.process.stdout.readline()
        if not line.startswith("PORT "):
            self.process.kill()
            raise RuntimeError(f"the scripted server did not start: {line!r}")
        self.port = int(line.split()[1])
        self.base_url = f"http://127.0.0.1:{self.port}/v1"

    def _call(self, method: str, path: str, payload=None):
        import urllib.request

        data = json.dumps(payload).encode() if payload is not None else None
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never through a proxy
        with opener.open(request, timeout=10) as response:
            return json.loads(response.read())

    def script(self, *replies: dict) -> None:
        self._call("POST", "/_script", {"replies": list(replies)})

    def reset(self) -> None:
        self._call("POST", "/_reset", {})

    def requests(self) -> list[dict]:
        return self._call("GET", "/_requests")

    def close(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except Exception:  # noqa: BLE001
            self.process.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    server = ThreadingHTTPServer((args.host, args.port), Handler)
    server.daemon_threads = True
    print(f"PORT {server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
