"""`mask_url`: the one way a URL setting is shown to anyone (Settings tab, /config, notes, errors, logs).

A URL setting may carry credentials: `OPENAI_BASE_URL=http://user:pass@host/v1`, a Chroma host with a login, a
query string such as `?api_key=...`. Wherever such a value is displayed it goes through `mask_url`, which keeps
what a person needs to recognise the server (scheme, host, port, path) and replaces every secret with `***`.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MASK = "***"
SECRET_PARAMS = re.compile(r"key|token|secret|pass|auth|sig|credential", re.IGNORECASE)


def mask_url(url: str | None) -> str:
    """`http://ann:s3cret@host:8080/v1?api_key=x&v=1` -> `http://ann:***@host:8080/v1?api_key=***&v=1`.

    A user name alone is masked too (some servers take the key as the user name). Text that is not a URL with a
    scheme (e.g. a bare Chroma host name) is returned with any `user:password@` prefix masked."""
    if not url:
        return ""
    text = str(url).strip()
    if "://" not in text:
        return re.sub(r"^[^@/]*@", MASK + "@", text)
    try:
        parts = urlsplit(text)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:  # an unparseable URL: show only its scheme
        return text.split("://", 1)[0] + "://" + MASK
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = host + (f":{port}" if port else "")
    if parts.username is not None or parts.password is not None:
        netloc = (f"{parts.username}:{MASK}" if parts.password is not None else MASK) + "@" + netloc
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(k, MASK if SECRET_PARAMS.search(k) else v) for k, v in pairs], safe="*")
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


URL_IN_TEXT = re.compile(r"\b[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>()]+")


def mask_urls(text: str) -> str:
    """Free text (an error message, a log line) with every URL in it masked."""
    return URL_IN_TEXT.sub(lambda m: mask_url(m.group(0)), str(text))
