"""Question answering over documents, with every statement citing the paragraph it comes from."""

from assistant import _offline

_offline.apply()  # before chromadb, onnxruntime, tiktoken or gradio are imported

from assistant.core import Assistant  # noqa: E402
from assistant.models import Answer, Citation, Context, DocumentInfo, IngestReport  # noqa: E402
from assistant.settings import Settings  # noqa: E402

__all__ = ["Assistant", "Answer", "Citation", "Context", "DocumentInfo", "IngestReport", "Settings"]
