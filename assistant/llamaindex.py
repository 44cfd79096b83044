"""llama-index adapters: the paragraph index as a llama-index retriever, the cited answerer as a query engine.

Why: llama-index users build query engines, rerank with node postprocessors and give tools to agents; these two
classes let them do that over our index and answers without a second index.

- `AssistantRetriever` (`Assistant.as_retriever(top_k)`) is a `BaseRetriever`. Each `NodeWithScore` holds a
  `TextNode` whose id is `"<doc_id>#¶<n>"` (stable across runs), whose text is the whole paragraph, and whose
  metadata has `doc_id`, `title`, `paragraph`, `page` (None outside PDFs) and the two retrievers' scores
  (`dense`: cosine similarity, `bm25`). `score` is the fused reciprocal-rank score, which orders the paragraphs
  of one question; use metadata["dense"] for a similarity threshold that means the same across questions.
- `AssistantQueryEngine` (`Assistant.as_query_engine()`) is a `CustomQueryEngine`. Its `Response.response` is
  our answer text (markers included) and its `source_nodes` are our checked citations, in marker order: the
  cited paragraph as above plus `marker`, `quote` and `verified` in the metadata, and the citation's score.
  `Response.metadata` has `refused`, `mode`, `notes`, `unsupported`, `question` and `usage`.

Our own retrieval and answering run unchanged underneath (no llama-index in the hot path): the retriever only
adds building the nodes (benchmarks/llamaindex_overhead.py measures it).
"""

from __future__ import annotations

from typing import Any

from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.base.response.schema import Response
from llama_index.core.query_engine import CustomQueryEngine
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode

from assistant.types import Answer, Citation, Context

# Scores are for ranking code, not for an LLM reading the node (they would be noise in its prompt).
_HIDDEN = ["dense", "bm25", "quote", "verified", "marker"]


def node_id(doc_id: str, paragraph: int) -> str:
    """The stable node id of a paragraph: `doc_id#¶n`."""
    return f"{doc_id}#¶{paragraph}"


def paragraph_node(item: Context | Citation, score: float, **extra: Any) -> NodeWithScore:
    """A retrieved paragraph or a citation as a llama-index node."""
    metadata = {"doc_id": item.doc_id, "title": item.title, "paragraph": item.paragraph, "page": item.page, **extra}
    hidden = _HIDDEN + (["page"] if item.page is None else [])
    node = TextNode(id_=node_id(item.doc_id, item.paragraph), text=item.text, metadata=metadata,
                    excluded_llm_metadata_keys=hidden, excluded_embed_metadata_keys=hidden)
    return NodeWithScore(node=node, score=score)


def citation_nodes(answer: Answer) -> list[NodeWithScore]:
    """An answer's checked citations as source nodes, in marker order."""
    return [paragraph_node(c, c.score, marker=c.marker, quote=c.quote, verified=c.verified)
            for c in answer.citations]


class AssistantRetriever(BaseRetriever):
    """A llama-index retriever over the assistant's hybrid (dense + BM25) paragraph retrieval."""

    def __init__(self, assistant, top_k: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.assistant = assistant
        self.top_k = top_k

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        contexts = self.assistant.retrieve(query_bundle.query_str, top_k=self.top_k)
        return [paragraph_node(c, c.score, dense=c.dense, bm25=c.bm25) for c in contexts]


class AssistantQueryEngine(CustomQueryEngine):
    """A llama-index query engine whose answers are the assistant's, with checked citations as source nodes."""

    assistant: Any
    top_k: int | None = None
    mode: str | None = None  # 'offline' or 'llm'; None: the assistant's answer_mode

    def custom_query(self, query_str: str) -> Response:
        answer = self.assistant.ask(query_str, top_k=self.top_k, mode=self.mode)
        return Response(response=answer.text, source_nodes=citation_nodes(answer),
                        metadata={"refused": answer.refused, "mode": answer.mode, "notes": answer.notes,
                                  "unsupported": answer.unsupported, "question": answer.question,
                                  "usage": answer.usage})
