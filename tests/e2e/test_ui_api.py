"""The web app's API through gradio_client, against a real `python app.py` process (temp index, seed article)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import ROOT, SEED_DOC
from test_ui_server import start_app

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # gradio_client otherwise spends seconds on hub look-ups
from gradio_client import Client  # noqa: E402
from gradio_client.exceptions import AppError  # noqa: E402

PROVINCE = "In which eastern province were the airstrikes carried out?"  # ("In which province" reads "Syria": docs/benchmarks.md)


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    running = start_app(tmp_path_factory.mktemp("ui-api"))
    yield running
    running.stop()


def client(app) -> Client:
    return Client(app.url, verbose=False, download_files=False)


def cli_ask_json(question: str, index_dir) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ASSISTANT_", "OPENAI_"))}
    env.update({"ASSISTANT_INDEX_DIR": str(index_dir), "ASSISTANT_CORPUS_DIR": str(ROOT / "seeds")})
    proc = subprocess.run([sys.executable, "-m", "assistant.cli", "ask", "--json", question], capture_output=True,
                          text=True, env=env, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_ask_endpoint_returns_the_json_of_assistant_ask(app, seeded_index):
    result = client(app).predict(PROVINCE, api_name="/ask")
    assert result == cli_ask_json(PROVINCE, seeded_index)
    assert result["refused"] is False and "Deir al-Zour" in result["answer"]
    cited = {(c["doc_id"], c["paragraph"]) for c in result["citations"]}
    assert (SEED_DOC, 2) in cited


def test_ask_endpoint_takes_history_top_k_and_mode(app):
    history = [{"role": "user", "content": "Where were the airstrikes?"},
               {"role": "assistant", "content": "In the eastern province of Deir al-Zour [1]."}]
    result = client(app).predict("and who ordered them?", history, 2, "offline", api_name="/ask")
    assert "follow-up to: Where were the airstrikes?" in result["question"]
    assert len(result["contexts"]) == 2 and result["mode"] == "offline"


def test_ask_endpoint_is_the_only_documented_endpoint(app):
    endpoints = client(app).view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert list(endpoints) == ["/ask"]


def test_empty_question_is_an_error_message_not_a_crash(app):
    with pytest.raises(AppError, match="question is empty"):
        client(app).predict("   ", api_name="/ask")
    assert client(app).predict(PROVINCE, api_name="/ask")["refused"] is False  # the server is still fine


def test_concurrent_questions_are_all_answered(app):
    questions = {
        PROVINCE: 2,
        "Who is the director of communications for US Central Command?": 3,
        "What did the US airstrikes in Syria target?": 1,
        "Who ordered the assassination of Qasem Soleimani?": 8,
    }
    clients = [client(app) for _ in questions]
    with ThreadPoolExecutor(len(questions)) as pool:
        jobs = {q: pool.submit(c.predict, q, api_name="/ask") for q, c in zip(questions, clients)}
        results = {q: job.result(timeout=600) for q, job in jobs.items()}
    for question, paragraph in questions.items():
        assert results[question]["question"] == question
        assert paragraph in [c["paragraph"] for c in results[question]["citations"]], question


def _texts(messages: list[dict]) -> list[tuple[str, str]]:
    def text(content) -> str:
        if isinstance(content, list):
            return " ".join(part.get("text", "") for part in content if isinstance(part, dict))
        return str(content)
    return [(m["role"], text(m["content"])) for m in messages]


def test_two_concurrent_sessions_keep_their_histories_apart(app):
    alice, bob = client(app), client(app)  # each Client is its own session, like a browser tab
    first = {alice: "Where were the airstrikes?",
             bob: "Who is the director of communications for US Central Command?"}
    follow_up = {alice: "and who ordered them?", bob: "and what did he say?"}
    results = {}
    for questions in (first, follow_up):  # both sessions' questions are in flight at once
        with ThreadPoolExecutor(2) as pool:
            jobs = {c: pool.submit(c.predict, q, "offline", 5, api_name="/chat") for c, q in questions.items()}
            results = {c: job.result(timeout=600) for c, job in jobs.items()}
    for person, other in ((alice, bob), (bob, alice)):
        _box, messages, sources = results[person]
        chat = _texts(messages)
        assert [role for role, _ in chat] == ["user", "assistant", "user", "assistant"]
        assert [text for role, text in chat if role == "user"] == [first[person], follow_up[person]]
        assert all(first[other] not in text and follow_up[other] not in text for _, text in chat)
        # the follow-up was understood from this session's own history
        assert f"follow-up to: {first[person]}" in sources and first[other] not in sources
    where = _texts(results[alice][1])[1][1]
    assert ("Syria" in where or "Deir al-Zour" in where) and "Buccino" in _texts(results[bob][1])[1][1]
