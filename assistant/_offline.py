"""Environment defaults that keep every dependency offline and quiet.

Imported first by `assistant/__init__.py`, before tiktoken, chromadb, gradio or onnxruntime are imported,
because several of them read these variables at import time. `setdefault` lets a user's own value win.
"""

import os
from pathlib import Path


def _llama_index_tiktoken_cache() -> str | None:
    """llama-index-core ships cl100k_base and o200k_base; point tiktoken there so it never downloads."""
    import importlib.util

    spec = importlib.util.find_spec("llama_index.core")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(list(spec.submodule_search_locations)[0]) / "_static" / "tiktoken_cache"
    return str(folder) if folder.is_dir() else None


OFFLINE_DEFAULTS = {
    "GRADIO_ANALYTICS_ENABLED": "False",
    "HF_HUB_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "ANONYMIZED_TELEMETRY": "False",
    "ORT_DISABLE_TELEMETRY": "1",
    "NO_PROXY": "127.0.0.1,localhost",
    "TOKENIZERS_PARALLELISM": "false",
}


def apply() -> None:
    for name, value in OFFLINE_DEFAULTS.items():
        os.environ.setdefault(name, value)
    cache = _llama_index_tiktoken_cache()
    if cache:
        os.environ.setdefault("TIKTOKEN_CACHE_DIR", cache)
