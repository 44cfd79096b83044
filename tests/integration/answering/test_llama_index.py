"""llama-index for real: our index under llama-index's own query engine, postprocessors, tools and agent, our
answerer as a query engine, and a llama-index LLM (OpenAILike, against the scripted server process) as the
answer model with our prompts, budget and citation check."""

from __future__ import annotations

import asyncio

import pytest
from llama_index.core.agent.workflow import FunctionAgent
from llama_index.core.base.llms.types import ToolCallBlock
from llama_index.core.llms import ChatMessage, MessageRole, MockLLM
from llama_index.core.llms.mock import MockFunctionCallingLLM
from llama_index.core.postprocessor import SimilarityPostprocessor
from llama_index.core.postprocessor.types import BaseNodePostprocessor
from llama_index.core.query_engine import RetrieverQueryEngine
from llama_index.core.schema import NodeWithScore
from llama_index.core.tools import QueryEngineTool, RetrieverTool
from llama_index.llms.openai_like import OpenAILike
from llm_support import *  # noqa: F403 - fixtures: scripted
from llm_support import KEY, cite

from assistant import Assistant

QUESTION = "In which province were the airstrikes carried out?"
PROVINCE = f"The airstrikes were carried out in the eastern province of Deir al-Zour {cite(2)}."


def test_retriever_nodes_carry_the_paragraph_and_where_it_is(seed_assistant):
    contexts = seed_assistant.retrieve(QUESTION, top_k=4)
    nodes = seed_assistant.as_retriever(top_k=4).retrieve(QUESTION)
    assert [n.node.id_ for n in nodes] == [f"{c.doc_id}#¶{c.paragraph}" for c in contexts]
    for node, context in zip(nodes, contexts):
        assert node.node.get_content() == context.text and node.score == pytest.approx(context.score)
        meta = node.node.metadata
        assert (meta["doc_id"], meta["title"], meta["paragraph"], meta["page"]) == \
            (context.doc_id, context.title, context.paragraph, None)
        assert meta["dense"] == pytest.approx(context.dense)


def test_llama_index_query_engine_over_our_retriever_with_a_postprocessor(seed_assistant):
    retriever = seed_assistant.as_retriever(top_k=5)
    scores = [n.score for n in retriever.retrieve(QUESTION)]
    cutoff = (scores[1] + scores[2]) / 2  # keeps exactly the two best paragraphs

    class MarkFirstTwo(BaseNodePostprocessor):
        """A custom postprocessor after the built-in one: sees only what SimilarityPostprocessor kept."""

        def _postprocess_nodes(self, nodes: list[NodeWithScore], query_bundle=None) -> list[NodeWithScore]:
            for node in nodes:
                node.node.metadata["seen_by"] = "MarkFirstTwo"
            return nodes

    engine = RetrieverQueryEngine.from_args(retriever, llm=MockLLM(), node_postprocessors=[
        SimilarityPostprocessor(similarity_cutoff=cutoff), MarkFirstTwo()])
    response = engine.query(QUESTION)
    assert [n.node.metadata["paragraph"] for n in response.source_nodes] == [2, 1]
    assert all(n.node.metadata["seen_by"] == "MarkFirstTwo" for n in response.source_nodes)
    # MockLLM echoes its prompt: llama-index's synthesizer put our two paragraphs (with title and ¶) in it
    text = str(response)
    assert "Deir al-Zour" in text and "paragraph: 2" in text and "title: The US military" in text
    assert "dense:" not in text  # scores are for code, not for the model's prompt
    kept = {n.node.node_id for n in response.source_nodes}
    dropped = [n for n in retriever.retrieve(QUESTION) if n.node.node_id not in kept]
    assert dropped and all(n.node.get_content() not in text for n in dropped)


def test_query_engine_source_nodes_are_the_checked_citations(seed_assistant):
    answer = seed_assistant.ask(QUESTION)
    response = seed_assistant.as_query_engine().query(QUESTION)
    assert response.response == answer.text and "Deir al-Zour" in response.response
    assert [(n.node.metadata["marker"], n.node.metadata["doc_id"], n.node.metadata["paragraph"],
             n.node.metadata["quote"], n.node.metadata["verified"]) for n in response.source_nodes] == \
        [(c.marker, c.doc_id, c.paragraph, c.quote, c.verified) for c in answer.citations]
    assert all(n.node.get_content() == c.text for n, c in zip(response.source_nodes, answer.citations))
    assert response.metadata["refused"] is False and response.metadata["mode"] == "offline"


def test_a_declined_question_has_no_source_nodes(seed_assistant):
    response = seed_assistant.as_query_engine().query("Who won the 1998 football world cup?")
    assert response.metadata["refused"] is True and response.source_nodes == []


def test_query_engine_in_llm_mode_gives_verified_citations(scripted, llm_assistant):
    scripted.script({"content": PROVINCE + f" Biden was in Sydney {cite(1)}."})
    response = llm_assistant().as_query_engine().query(QUESTION)
    assert response.metadata["mode"] == "llm"
    assert {n.node.metadata["paragraph"]: n.node.metadata["verified"] for n in response.source_nodes} == \
        {2: True, 1: False}


def test_an_agent_answers_through_our_query_engine_tool(seed_assistant):
    tool = QueryEngineTool.from_defaults(seed_assistant.as_query_engine(), name="documents",
                                         description="Answers questions from the documents, with citations.")

    def scripted_model(messages, **kwargs):  # calls the tool once, then reports what it returned
        results = [m for m in messages if m.role == MessageRole.TOOL]
        if results:
            return ChatMessage(role="assistant", content="From the documents: " + results[-1].content)
        return ChatMessage(role="assistant", blocks=[ToolCallBlock(tool_call_id="c1", tool_name="documents",
                                                                   tool_kwargs={"input": QUESTION})])

    agent = FunctionAgent(tools=[tool], llm=MockFunctionCallingLLM(response_generator=scripted_model))

    async def run():  # the agent is a workflow: it starts inside a running event loop
        return await agent.run(user_msg=QUESTION)

    result = asyncio.run(run())
    assert "Deir al-Zour" in str(result)
    output = result.tool_calls[0].tool_output.raw_output
    assert 2 in [n.node.metadata["paragraph"] for n in output.source_nodes]  # ¶2 names the province


def test_retriever_tool_returns_the_paragraphs(seed_assistant):
    tool = RetrieverTool.from_defaults(seed_assistant.as_retriever(top_k=2), name="find",
                                       description="Finds paragraphs about a question.")
    output = tool.call(QUESTION)
    assert "Deir al-Zour" in output.content and "paragraph: 2" in output.content


# --- a llama-index LLM as the answer model ---------------------------------------------------------------------
def _openai_like(server, **extra) -> OpenAILike:
    return OpenAILike(model="qwen2.5:0.5b", api_base=server.base_url, api_key=KEY, is_chat_model=True,
                      max_retries=0, timeout=10, **extra)


@pytest.fixture
def li_assistant(seeded_index, scripted):
    from conftest import SEEDS

    def make(**settings) -> Assistant:
        return Assistant(index_dir=seeded_index, corpus_dir=SEEDS, llm=_openai_like(scripted), **settings)

    return make


def test_a_llama_index_llm_answers_with_our_prompt_and_checked_citations(scripted, li_assistant):
    scripted.script({"content": PROVINCE + f" Biden was in Sydney {cite(1)}."})
    assistant = li_assistant()
    assert assistant.settings.answer_mode == "llm"  # llm= implies llm mode
    answer = assistant.ask(QUESTION)
    assert answer.mode == "llm" and "Deir al-Zour" in answer.text
    assert {c.paragraph: c.verified for c in answer.citations} == {2: True, 1: False}
    body = scripted.requests()[0]["body"]
    assert body["model"] == "qwen2.5:0.5b"
    system, user = body["messages"]
    assert system["content"] == assistant.prompts["system"].strip()
    assert "NOT_IN_SOURCES" in user["content"] and QUESTION in user["content"]
    assert answer.usage["model"] == "qwen2.5:0.5b" and answer.usage["sources_in_prompt"] == len(answer.contexts)
    assert answer.usage["prompt_tokens"] > 100


def test_a_llama_index_llm_streams(scripted, li_assistant):
    scripted.script({"content": PROVINCE, "chunk_delay": 0.005})
    items = list(li_assistant().stream(QUESTION))
    pieces, answer = items[:-1], items[-1]
    assert len(pieces) > 5 and "".join(pieces) == answer.text
    assert answer.mode == "llm" and answer.citations[0].verified is True
    assert scripted.requests()[0]["body"]["stream"] is True


def test_a_llama_index_llm_that_fails_falls_back_offline_with_a_note(scripted, li_assistant):
    scripted.script({"status": 500, "error": "boom"}, {"status": 401, "error": f"bad key {KEY}"})
    assistant = li_assistant()
    failed = assistant.ask(QUESTION)
    assert failed.mode == "offline" and failed.citations and "Deir al-Zour" in failed.text
    assert any("HTTP 500" in n and "Answered offline instead" in n for n in failed.notes)
    refused = assistant.ask(QUESTION)
    assert any("rejected the API key (HTTP 401): check the api_key of the llama-index OpenAILike" in n
               for n in refused.notes)
    assert KEY not in str(failed.to_dict()) + str(refused.to_dict())


def test_a_llama_index_llm_is_abandoned_at_the_deadline(scripted, li_assistant):
    import time

    scripted.script({"hang": 30, "content": PROVINCE})
    started = time.monotonic()
    answer = li_assistant(llm_deadline=1.5).ask(QUESTION)
    assert time.monotonic() - started < 10  # the LLM's own timeout is 10 s
    assert answer.mode == "offline"
    assert any("did not answer before the question's 1.5 s deadline" in n for n in answer.notes)


def test_mode_offline_overrides_the_llm(scripted, li_assistant):
    assert li_assistant(answer_mode="offline").ask(QUESTION).mode == "offline"
    assert li_assistant().ask(QUESTION, mode="offline").mode == "offline"
    assert scripted.requests() == []
