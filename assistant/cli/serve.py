"""`assistant serve [--host H] [--port P]`: the chat page, the REST/OpenAI-compatible API and its docs on one
port (the same server as `python app.py`)."""

from __future__ import annotations


def cmd_serve(args) -> int:
    from assistant.server.run import serve

    return serve(args.host, args.port)


def add_parsers(sub) -> None:
    p = sub.add_parser("serve", help="serve the chat page and the API (/v1, docs at /docs)")
    p.add_argument("--host", help="address to bind (default: ui_host, 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default: ui_port, 7860)")
    p.set_defaults(func=cmd_serve)
