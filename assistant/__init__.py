"""Question answering over documents, with every statement citing the paragraph it comes from."""

from assistant import _offline

_offline.apply()  # before chromadb, onnxruntime, tiktoken or gradio are imported

from assistant.api import Assistant  # noqa: E402
from assistant.types import Answer, Citation, Context, DocumentInfo, IngestReport  # noqa: E402
from assistant.config.settings import Settings  # noqa: E402

__all__ = ["Assistant", "Answer", "Citation", "Context", "DocumentInfo", "IngestReport", "Settings"]
