"""The REST and OpenAI-compatible API of `assistant serve`, over HTTP (httpx and the official `openai` SDK), against
a real server process on a temp index of the seed article plus a document in a subfolder (its id has a '/')."""

from __future__ import annotations

import json
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from openai import AuthenticationError, BadRequestError, NotFoundError, OpenAI

from conftest import SEED_DOC, SEEDS
from test_ui_server import SERVE, start_app

from assistant import Assistant

PROVINCE = "In which eastern province were the airstrikes carried out?"  # ("In which province" reads "Syria": docs/benchmarks.md)
STATION = ("Marigold Station\n\n"
           "The base sits on the island of Kelvara, in the northern sea, and studies its volcanic rocks.\n\n"
           "Marigold Station was founded in 1987 by the geologist Hanna Voss.\n\n"
           "Today twelve scientists live there during the summer months.\n")
NESTED = "reports/marigold.txt"
TIMEOUT = 300  # a hang guard on a loaded 2-core machine, not a speed requirement


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("server-corpus")
    shutil.copy(SEEDS / SEED_DOC, folder / SEED_DOC)
    (folder / "reports").mkdir()
    (folder / NESTED).write_text(STATION, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def server(tmp_path_factory, corpus):
    running = start_app(tmp_path_factory.mktemp("server-api"), SERVE, ASSISTANT_CORPUS_DIR=str(corpus),
                        ASSISTANT_MAX_UPLOAD_MB="0.05")
    yield running
    running.stop()


@pytest.fixture(scope="module")
def http(server):
    with httpx.Client(base_url=server.url, timeout=TIMEOUT) as client:
        yield client


def http_ask(server, question: str) -> dict:
    with httpx.Client(base_url=server.url, timeout=TIMEOUT) as http:
        return http.post("/v1/ask", json={"question": question}).json()


def openai_client(server, key: str = "unused") -> OpenAI:
    return OpenAI(base_url=server.url + "v1", api_key=key, timeout=TIMEOUT, max_retries=0)


def events(response: httpx.Response) -> list[tuple[str, object]]:
    """(event name, decoded data) of a server-sent-events body; unnamed events are 'message'."""
    found, name = [], "message"
    for line in response.iter_lines():
        if line.startswith("event: "):
            name = line[len("event: "):]
        elif line.startswith("data: "):
            data = line[len("data: "):]
            found.append((name, data if data == "[DONE]" else json.loads(data)))
            name = "message"
    return found


def assert_openai_error(response: httpx.Response, status: int, words: str) -> dict:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) >= {"message", "type", "param", "code"} and words in error["message"]
    return error


# --- the server ---------------------------------------------------------------------------------------------
def test_docs_describe_what_every_route_returns(server, http):
    """Every route of the API names its response model, so /docs shows the shape of what comes back (and errors
    in OpenAI's shape); the streamed routes also say they answer with server-sent events."""
    schema = http.get("/openapi.json").json()
    routes = [(path, method, op) for path, ops in schema["paths"].items() for method, op in ops.items()]
    assert len(routes) >= 8
    for path, method, op in routes:
        ok = op["responses"]["200"]["content"]["application/json"]["schema"]
        assert "$ref" in ok, f"{method.upper()} {path} documents no response model"
        if path.startswith("/v1/"):
            assert op["responses"]["404"]["content"]["application/json"]["schema"]["$ref"].endswith("ErrorResponse")
    streamed = {path for path, method, op in routes if "text/event-stream" in op["responses"]["200"]["content"]}
    assert streamed == {"/v1/ask", "/v1/chat/completions"}
    answer = schema["components"]["schemas"]["AnswerResponse"]["properties"]
    assert {"answer", "refused", "citations", "confidence", "span"} <= set(answer)


def test_serve_binds_loopback_and_serves_page_docs_health_with_a_csp_everywhere(server, http):
    assert server.url == f"http://127.0.0.1:{server.port}/" and f"API: {server.url}v1" in server.output()
    assert http.get("/healthz").json() == {"status": "ok", "documents": 2}
    page = http.get("/")
    assert page.status_code == 200 and "Ask your documents" in page.text
    docs = http.get("/docs")
    assert "/docs-assets/swagger-ui-bundle.js" in docs.text and "cdn" not in docs.text.lower()
    assert http.get("/docs-assets/swagger-ui-bundle.js").status_code == 200
    assert {"/v1/ask", "/v1/chat/completions", "/v1/models", "/v1/documents"} <= set(http.get("/openapi.json")
                                                                                      .json()["paths"])
    for path in ("/", "/config", "/docs", "/healthz", "/v1/models", "/v1/nowhere"):
        policy = http.get(path).headers["content-security-policy"]
        assert "default-src 'self'" in policy and "img-src 'self' data: blob:" in policy
        assert "connect-src 'self'" in policy and "http" not in policy  # no remote origin is ever allowed


# --- /v1/ask ------------------------------------------------------------------------------------------------
def test_ask_returns_the_json_of_assistant_ask(http, corpus, tmp_path):
    result = http.post("/v1/ask", json={"question": PROVINCE}).json()
    same = Assistant(index_dir=tmp_path / "index", corpus_dir=corpus)
    same.ensure_indexed()  # as the server did on its first start
    expected = same.ask(PROVINCE).to_dict()
    assert result == expected  # the same object `assistant ask --json` prints (Answer.to_dict)
    assert "Deir al-Zour" in result["answer"] and (SEED_DOC, 2) in {(c["doc_id"], c["paragraph"])
                                                                   for c in result["citations"]}


def test_ask_takes_history_top_k_and_mode(http):
    history = [{"role": "user", "content": "Where were the airstrikes?"},
               {"role": "assistant", "content": "In the eastern province of Deir al-Zour [1]."}]
    result = http.post("/v1/ask", json={"question": "and who ordered them?", "history": history, "top_k": 2,
                                        "mode": "offline"}).json()
    assert "follow-up to: Where were the airstrikes?" in result["question"]  # read against the history
    assert len(result["contexts"]) == 2 and result["mode"] == "offline"


def test_ask_streams_deltas_then_the_checked_answer(http):
    with http.stream("POST", "/v1/ask", json={"question": PROVINCE, "stream": True}) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        received = events(response)
    names = [name for name, _ in received]
    assert names[-1] == "answer" and set(names[:-1]) == {"delta"}
    streamed = "".join(data["text"] for name, data in received if name == "delta")
    final = received[-1][1]
    assert streamed.strip() == final["answer"].strip() and final["citations"][0]["paragraph"] == 2


def test_bad_requests_get_openai_shaped_errors(http):
    assert_openai_error(http.post("/v1/ask", json={"question": "   "}), 400, "question is empty")
    assert_openai_error(http.post("/v1/ask", json={"question": "x", "top_k": 0}), 400, "top_k")
    not_json = assert_openai_error(http.post("/v1/ask", content=b"{not json",
                                             headers={"content-type": "application/json"}), 400, "not valid JSON")
    assert not_json["param"] is None and not_json["code"] == "invalid_json"
    assert_openai_error(http.post("/v1/ask", json={"question": "x", "mode": "magic"}), 400, "mode")
    assert http.post("/v1/ask", json={"question": PROVINCE}).status_code == 200  # and the server is fine


# --- OpenAI-compatible ----------------------------------------------------------------------------------------
def test_openai_sdk_lists_the_model_and_gets_a_cited_answer_with_history(server):
    client = openai_client(server)
    assert [m.id for m in client.models.list()] == ["assistant"]
    completion = client.chat.completions.create(model="assistant", messages=[
        {"role": "system", "content": "You are helpful."},
        {"role": "user", "content": "Who is the director of communications for US Central Command?"},
        {"role": "assistant", "content": "Col. Joe Buccino [1]."},
        {"role": "user", "content": "and what did he say?"}])
    text = completion.choices[0].message.content
    assert completion.choices[0].finish_reason == "stop" and "[1]" in text
    citations = completion.citations  # the top-level extension field, as the SDK exposes it
    assert citations and set(citations[0]) == {"marker", "doc_id", "title", "paragraph", "page", "quote", "verified"}
    cited = {c["paragraph"] for c in citations}
    assert 3 in cited and "necessary to protect" in " ".join(c["quote"] for c in citations)


def test_openai_sdk_streams_and_the_last_chunk_carries_the_citations(server):
    stream = openai_client(server).chat.completions.create(
        model="assistant", messages=[{"role": "user", "content": PROVINCE}], stream=True,
        stream_options={"include_usage": True})
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    last = [c for c in chunks if c.choices][-1]
    assert last.choices[0].finish_reason == "stop" and "Deir al-Zour" in text
    assert last.model_extra["citations"][0]["paragraph"] == 2 and last.model_extra["answer"].strip() == text.strip()
    assert chunks[-1].usage is not None  # include_usage: a final chunk with usage and no choices
    contents = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    assert len(contents) >= 2, contents  # issue 22: the offline answer grows piece by piece (span, sentences)
    usage = chunks[-1].usage
    assert usage.prompt_tokens > len(PROVINCE.split()) and usage.completion_tokens > 5  # issue 22: was 0 / 0
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens


def test_offline_answers_report_token_usage_counted_with_tiktoken(server):
    """Issue 22: `usage` was 0/0/0 offline; clients show it and meter by it. The question and the paragraphs read
    are the prompt, the answer the completion (the tokenizer the answer names: gpt-4o-mini's o200k_base)."""
    import tiktoken

    reply = openai_client(server).chat.completions.create(model="assistant",
                                                          messages=[{"role": "user", "content": PROVINCE}])
    encoding = tiktoken.get_encoding(http_ask(server, PROVINCE)["usage"]["tokenizer"])
    assert reply.usage.completion_tokens == len(encoding.encode(reply.choices[0].message.content))
    asked = server_answer = http_ask(server, PROVINCE)
    read = len(encoding.encode(PROVINCE)) + sum(len(encoding.encode(c["text"])) for c in asked["contexts"])
    assert reply.usage.prompt_tokens == read and server_answer["usage"]["prompt_tokens"] == read
    assert reply.usage.total_tokens == reply.usage.prompt_tokens + reply.usage.completion_tokens


def test_openai_sdk_errors(server):
    client = openai_client(server)
    with pytest.raises(NotFoundError, match="model_not_found"):
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": PROVINCE}])
    with pytest.raises(BadRequestError, match="question is empty"):
        client.chat.completions.create(model="assistant", messages=[{"role": "user", "content": " "}])
    with pytest.raises(BadRequestError, match="last message"):
        client.chat.completions.create(model="assistant", messages=[{"role": "assistant", "content": "hi"}])


def test_ten_concurrent_clients_are_all_served(server):
    questions = {PROVINCE: 2, "Who is the director of communications for US Central Command?": 3,
                 "What did the US airstrikes in Syria target?": 1, "Who founded Marigold Station?": 3,
                 "How many scientists live at Marigold Station?": 4}

    def one(number: int) -> tuple[str, set[int]]:
        question = list(questions)[number % len(questions)]
        if number % 2:  # half through the OpenAI SDK, half through /v1/ask with streaming
            reply = openai_client(server).chat.completions.create(
                model="assistant", messages=[{"role": "user", "content": question}])
            return question, {c["paragraph"] for c in reply.citations}
        with httpx.Client(base_url=server.url, timeout=TIMEOUT) as http:
            with http.stream("POST", "/v1/ask", json={"question": question, "stream": True}) as response:
                final = events(response)[-1][1]
            return question, {c["paragraph"] for c in final["citations"]}

    with ThreadPoolExecutor(10) as pool:
        results = list(pool.map(one, range(10)))
    assert len(results) == 10
    for question, paragraphs in results:
        assert questions[question] in paragraphs, question


# --- documents ---------------------------------------------------------------------------------------------
def test_list_upload_ask_and_delete_documents(server, http, tmp_path):
    listed = {d["doc_id"]: d for d in http.get("/v1/documents").json()["data"]}
    assert set(listed) == {SEED_DOC, NESTED} and listed[NESTED]["paragraphs"] == 4
    files = [("files", ("lighthouse notes.txt", "Lighthouse\n\nThe lighthouse keeper is Ada Brun.\n", "text/plain")),
             ("files", ("broken.pdf", b"%PDF-1.4 not really a pdf", "application/pdf")),
             ("files", ("table.xyz", b"a,b", "application/octet-stream")),
             ("files", ("big.txt", b"word " * 20_000, "text/plain"))]  # 100 KB; the limit is 0.05 MB
    results = {r["name"]: r for r in http.post("/v1/documents", files=files).json()["results"]}
    assert results["lighthouse notes.txt"]["ok"] and "2 paragraphs" in results["lighthouse notes.txt"]["message"]
    assert not results["broken.pdf"]["ok"] and "PDF" in results["broken.pdf"]["message"]
    assert "not a supported file type" in results["table.xyz"]["message"]
    assert "too large" in results["big.txt"]["message"]
    uploads = server.folder / "uploads"
    assert sorted(p.name for p in uploads.iterdir()) == ["lighthouse_notes.txt"]
    answer = http.post("/v1/ask", json={"question": "Who is the lighthouse keeper?"}).json()
    assert "Ada Brun" in answer["answer"] and answer["citations"][0]["doc_id"] == "lighthouse_notes.txt"
    assert http.get("/v1/documents").json()["data"][1]["uploaded"] is True

    assert http.delete("/v1/documents/lighthouse_notes.txt").json() == {
        "id": "lighthouse_notes.txt", "object": "document", "deleted": True}
    assert not (uploads / "lighthouse_notes.txt").exists()
    assert_openai_error(http.delete("/v1/documents/lighthouse_notes.txt"), 404, "no indexed document")
    assert "lighthouse_notes.txt" not in {d["doc_id"] for d in http.get("/v1/documents").json()["data"]}


def test_upload_limits_and_requests_from_other_sites(http):
    assert_openai_error(http.post("/v1/documents", files=[("files", ("huge.txt", b"x" * 3_000_000))]), 413,
                        "larger than")  # the body cap (20 files' worth) acts while the body arrives
    assert_openai_error(http.post("/v1/documents", files=[("files", ("a.txt", b"Hello."))],
                                  headers={"Origin": "http://evil.example"}), 403, "another web site")
    assert_openai_error(http.post("/v1/documents", files=[]), 400, "files")


def test_a_paragraph_with_its_neighbours_even_when_the_id_has_a_slash(http):
    body = http.get(f"/v1/documents/{NESTED}/paragraphs/3", params={"context": 1}).json()
    assert body["doc_id"] == NESTED and body["title"] == "Marigold Station" and body["paragraph"] == 3
    assert [(p["paragraph"], p["cited"]) for p in body["paragraphs"]] == [(2, False), (3, True), (4, False)]
    assert body["paragraphs"][1]["text"] == "Marigold Station was founded in 1987 by the geologist Hanna Voss."
    edge = http.get(f"/v1/documents/{NESTED.replace('/', '%2F')}/paragraphs/1?context=2").json()
    assert [p["paragraph"] for p in edge["paragraphs"]] == [1, 2, 3]
    assert_openai_error(http.get(f"/v1/documents/{NESTED}/paragraphs/9"), 404, "no paragraph 9")
    assert_openai_error(http.get("/v1/documents/nope.txt/paragraphs/1"), 404, "no indexed document")
    assert_openai_error(http.get(f"/v1/documents/{NESTED}/paragraphs/1?context=50"), 400, "context")


# --- auth ---------------------------------------------------------------------------------------------------
KEY = "sk-assistant-test-0123456789"


@pytest.fixture(scope="module")
def locked(tmp_path_factory, seeded_index):
    folder = tmp_path_factory.mktemp("server-key")
    shutil.copytree(seeded_index, folder / "index")
    running = start_app(folder, SERVE, ASSISTANT_API_KEY=KEY)
    yield running
    running.stop()


def test_api_key_is_required_when_set(locked):
    with httpx.Client(base_url=locked.url, timeout=TIMEOUT) as http:
        error = assert_openai_error(http.get("/v1/documents"), 401, "needs a key")
        assert error["code"] == "invalid_api_key"
        assert_openai_error(http.post("/v1/ask", json={"question": PROVINCE},
                                      headers={"Authorization": "Bearer wrong"}), 401, "Incorrect API key")
        ok = http.post("/v1/ask", json={"question": PROVINCE}, headers={"Authorization": f"Bearer {KEY}"})
        assert ok.status_code == 200 and "Deir al-Zour" in ok.json()["answer"]
        assert http.get("/healthz").status_code == 200 and http.get("/").status_code == 200  # page: its own login
        assert http.get("/config").status_code == 401  # the page's config, past its login only
        assert http.post("/login", data={"username": "anyone", "password": KEY}).status_code == 200
        # the page's own key (in the page's <head>) may read paragraphs, and nothing else
        page_key = http.get("/config").json()["head"].split('name="assistant-page-key" content="')[1].split('"')[0]
        page = {"Authorization": f"Bearer {page_key}"}
        assert http.get(f"/v1/documents/{SEED_DOC}/paragraphs/2", headers=page).status_code == 200
        assert http.get("/v1/documents", headers=page).status_code == 401
    with pytest.raises(AuthenticationError):
        openai_client(locked, "wrong").models.list()
    reply = openai_client(locked, KEY).chat.completions.create(
        model="assistant", messages=[{"role": "user", "content": PROVINCE}])
    assert reply.citations[0]["paragraph"] == 2
    assert KEY not in locked.output()


# --- LLM mode, against the scripted OpenAI-compatible server ------------------------------------------------
@pytest.fixture(scope="module")
def llm_server(tmp_path_factory, seeded_index):
    from llm_support import TITLE  # noqa: F401  (the scripted server resolves citations by the seed's title)
    from openai_server import ScriptedServer

    scripted = ScriptedServer()
    folder = tmp_path_factory.mktemp("server-llm")
    shutil.copytree(seeded_index, folder / "index")
    running = start_app(folder, SERVE, ASSISTANT_ANSWER_MODE="llm", OPENAI_BASE_URL=scripted.base_url,
                        OPENAI_API_KEY="sk-test-server-0123456789", ASSISTANT_LLM_TIMEOUT="60")
    yield running, scripted
    running.stop()
    scripted.close()


def test_llm_answers_through_the_openai_api_carry_checked_citations(llm_server):
    from llm_support import cite

    running, scripted = llm_server
    scripted.reset()
    right = f"The airstrikes were carried out in the eastern province of Deir al-Zour {cite(2)}."
    wrong = f"Col. Joe Buccino said the strikes were necessary to protect US personnel {cite(1)}."
    scripted.script({"content": f"{right} {wrong}", "chunk_delay": 0.02})
    stream = openai_client(running).chat.completions.create(
        model="assistant", messages=[{"role": "user", "content": PROVINCE}], stream=True)
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert len([c for c in chunks if c.choices and c.choices[0].delta.content]) > 3  # streamed as written
    citations = {c["paragraph"]: c for c in chunks[-1].model_extra["citations"]}
    assert "[1]" in text and "[2]" in text
    assert citations[2]["verified"] is True and citations[1]["verified"] is False  # the check ran
    # a follow-up with history: the model is asked to rewrite it with this conversation
    scripted.script({"content": "Who ordered the airstrikes in Deir al-Zour?"},
                    {"content": f"President Bidens directed them {cite(2)}."})
    reply = openai_client(running).chat.completions.create(model="assistant", messages=[
        {"role": "user", "content": PROVINCE}, {"role": "assistant", "content": text},
        {"role": "user", "content": "and who ordered them?"}])
    condense = scripted.requests()[-2]["body"]["messages"][-1]["content"]
    assert PROVINCE in condense and "and who ordered them?" in condense
    assert "Bidens" in reply.choices[0].message.content and reply.citations[0]["paragraph"] == 2
    assert reply.usage.prompt_tokens > 0


def test_hostile_upload_names_get_a_clear_result_each_and_the_batch_goes_on(server, http):
    """Issue 20: the names `..`, one with a NUL byte and one of 300 characters each gave HTTP 500 and a traceback;
    now each file gets its own result and the good file of the batch is indexed."""
    good = "Ferries\n\nThe ferry to Odde leaves at dawn.\n"
    files = [("files", ("..", b"dot dot", "text/plain")),
             ("files", ("nul\x00name.txt", b"Nul\n\nA name with a NUL byte.\n", "text/plain")),
             ("files", ("x" * 300 + ".txt", b"Long\n\nA very long name.\n", "text/plain")),
             ("files", ("ferries.txt", good, "text/plain"))]
    before = {d["doc_id"] for d in http.get("/v1/documents").json()["data"]}
    response = http.post("/v1/documents", files=files)
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert len(results) == 4 and all(r["message"] for r in results)
    assert results[0]["name"] == ".." and not results[0]["ok"] and "file type" in results[0]["message"]
    assert results[3]["ok"] and "\x00" not in json.dumps(results) and len(results[2]["name"]) <= 130
    assert "ferry" in http.post("/v1/ask", json={"question": "When does the ferry to Odde leave?"}).json()["answer"]
    for doc_id in {d["doc_id"] for d in http.get("/v1/documents").json()["data"]} - before:  # leave the index as found
        assert http.delete(f"/v1/documents/{doc_id}").status_code == 200


def test_unparseable_bodies_get_an_openai_shaped_error(http):
    """A body that is not UTF-8, and JSON nested 100,000 deep, got FastAPI's own error shape."""
    headers = {"Content-Type": "application/json"}
    assert_openai_error(http.post("/v1/ask", content=b'{"question": "\xff\xfe caf\xe9"}', headers=headers), 400,
                        "JSON")
    deep = b"[" * 100_000 + b"]" * 100_000
    assert_openai_error(http.post("/v1/ask", content=deep, headers=headers), 400, "JSON")
    assert_openai_error(http.post("/v1/chat/completions", content=deep, headers=headers), 400, "JSON")


def gradio_requests(config: dict, uploaded: str) -> list[tuple[str, str, dict]]:
    """(method, path, httpx keyword arguments) for each of the page's gradio routes that reads or changes the
    index: every event handler its config lists (through the queue, and by name where it has one), uploads,
    files, the API description and the config itself."""
    calls = [("GET", "/config", {}), ("GET", "/gradio_api/info", {}), ("GET", "/gradio_api/queue/data?session_hash=s", {}),
             ("POST", "/gradio_api/upload", {"files": [("files", ("note.txt", b"A note.", "text/plain"))]}),
             ("GET", f"/gradio_api/file={uploaded}", {})]
    for dependency in config["dependencies"]:
        calls.append(("POST", "/gradio_api/queue/join", {"json": {"fn_index": dependency["id"], "data": [],
                                                                   "session_hash": "s", "event_data": None}}))
        if dependency.get("api_name"):
            calls.append(("POST", f"/gradio_api/call/{dependency['api_name']}", {"json": {"data": []}}))
    return calls


def test_one_key_closes_every_gradio_route_of_the_page_too(locked):
    """Issue 20: with ASSISTANT_API_KEY set, /v1 refused without it, but the page's own gradio API answered
    questions, indexed uploads and removed documents for anyone. Every route the running page's config lists is
    now refused without credentials, and works after the login (the key as its password)."""
    with httpx.Client(base_url=locked.url, timeout=TIMEOUT) as inside, \
            httpx.Client(base_url=locked.url, timeout=TIMEOUT) as outside:
        assert inside.post("/login", data={"username": "me", "password": "wrong"}).status_code == 400
        assert inside.post("/login", data={"username": "me", "password": KEY}).status_code == 200
        config = inside.get("/config").json()
        assert len(config["dependencies"]) > 5  # ask, upload, remove, ...: the page's event handlers
        uploaded = inside.post("/gradio_api/upload", files=[("files", ("n.txt", b"Note.", "text/plain"))]).json()[0]
        calls = gradio_requests(config, uploaded)
        for method, path, kwargs in calls:
            refused = outside.request(method, path, **kwargs)
            assert refused.status_code in (401, 403), (method, path, refused.status_code, refused.text[:200])
        for method, path, kwargs in calls:  # with the login the same requests get through (or are refused for
            with inside.stream(method, path, **kwargs) as allowed:  # another reason than credentials)
                assert allowed.status_code != 401, (method, path)
        # an upload gradio holds is never served back, even past the login
        assert inside.get(f"/gradio_api/file={uploaded}").status_code == 403


def test_an_upload_no_handler_took_is_deleted(tmp_path_factory, seeded_index):
    folder = tmp_path_factory.mktemp("server-orphans")
    shutil.copytree(seeded_index, folder / "index")
    running = start_app(folder, SERVE, ASSISTANT_ORPHAN_UPLOAD_MINUTES="0.02",
                        GRADIO_TEMP_DIR=str(folder / "gradio-uploads"))
    try:
        with httpx.Client(base_url=running.url, timeout=TIMEOUT) as http:
            uploaded = http.post("/gradio_api/upload", files=[("files", ("n.txt", b"Note.", "text/plain"))]).json()[0]
            assert Path(uploaded).is_file() and (folder / "gradio-uploads") in Path(uploaded).parents
            assert http.get(f"/gradio_api/file={uploaded}").status_code == 403
            deadline = time.monotonic() + 30
            while Path(uploaded).exists() and time.monotonic() < deadline:
                time.sleep(0.5)
            assert not Path(uploaded).exists()
    finally:
        running.stop()
    assert "note: no API key and no page login are set" in running.output()


# Open WebUI's own task prompts (its DEFAULT_*_PROMPT_TEMPLATE, open_webui/config.py), with the chat history
# filled in as it fills it: "USER: ..." / "ASSISTANT: ..." lines.
OPEN_WEBUI_TITLE = """### Task:
Generate a concise, 3-5 word title with an emoji summarizing the chat history.
### Guidelines:
- The title should clearly represent the main theme or subject of the conversation.
- Use emojis that enhance understanding of the topic, but avoid quotation marks or special formatting.
- Write the title in the chat's primary language; default to English if multilingual.
- Prioritize accuracy over excessive creativity; keep it clear and simple.
- Your entire response must consist solely of the JSON object, without any introductory or concluding text.
- The output must be a single, raw JSON object, without any markdown code fences or other encapsulating text.
- Ensure no conversational text, affirmations, or explanations precede or follow the raw JSON output, as this will cause direct parsing failure.
### Output:
JSON format: { "title": "your concise title here" }
### Examples:
- { "title": "📉 Stock Market Trends" },
- { "title": "🍪 Perfect Chocolate Chip Recipe" },
- { "title": "Evolution of Music Streaming" },
- { "title": "Remote Work Productivity Tips" },
- { "title": "Artificial Intelligence in Healthcare" },
- { "title": "🎮 Video Game Development Insights" }
### Chat History:
<chat_history>
{history}
</chat_history>"""
OPEN_WEBUI_TAGS = """### Task:
Generate 1-3 broad tags categorizing the main themes of the chat history, along with 1-3 more specific subtopic tags.

### Guidelines:
- Start with high-level domains (e.g. Science, Technology, Philosophy, Arts, Politics, Business, Health, Sports, Entertainment, Education)
- Consider including relevant subfields/subdomains if they are strongly represented throughout the conversation
- If content is too short (less than 3 messages) or too diverse, use only ["General"]
- Use the chat's primary language; default to English if multilingual
- Prioritize accuracy over specificity

### Output:
JSON format: { "tags": ["tag1", "tag2", "tag3"] }

### Chat History:
<chat_history>
{history}
</chat_history>"""
OPEN_WEBUI_FOLLOW_UPS = """### Task:
Suggest 3-5 relevant follow-up questions or prompts that the user might naturally ask next in this conversation as a **user**, based on the chat history, to help continue or deepen the discussion.
### Guidelines:
- Write all follow-up questions from the user’s point of view, directed to the assistant.
- Make questions concise, clear, and directly related to the discussed topic(s).
- Only suggest follow-ups that make sense given the chat content and do not repeat what was already covered.
- If the conversation is very short or not specific, suggest more general (but relevant) follow-ups the user might ask.
- Use the conversation's primary language; default to English if multilingual.
- Response must be a JSON array of strings, no extra text or formatting.
### Output:
JSON format: { "follow_ups": ["Question 1?", "Question 2?", "Question 3?"] }
### Chat History:
<chat_history>
{history}
</chat_history>"""
OPEN_WEBUI_QUERIES = """### Task:
Analyze the chat history to determine the necessity of generating search queries, in the given language. By default, **prioritize generating 1-3 broad and relevant search queries** unless it is absolutely certain that no additional information is required. The aim is to retrieve comprehensive, updated, and valuable information even with minimal uncertainty. If no search is unequivocally needed, return an empty list.

### Guidelines:
- Respond **EXCLUSIVELY** with a JSON object. Any form of extra commentary, explanation, or additional text is strictly prohibited.
- When generating search queries, respond in the format: { "queries": ["query1", "query2"] }, ensuring each query is distinct, concise, and relevant to the topic.
- If and only if it is entirely certain that no useful results can be retrieved by a search, return: { "queries": [] }.

### Chat History:
<chat_history>
{history}
</chat_history>"""


def task_reply(server, template: str, history: str) -> dict:
    reply = openai_client(server).chat.completions.create(
        model="assistant", messages=[{"role": "user", "content": template.replace("{history}", history)}])
    text = reply.choices[0].message.content
    assert "do not say" not in text and reply.usage.total_tokens > 0, text
    return json.loads(text)


def test_open_webui_side_tasks_are_answered_as_tasks(server):
    """Issue 22: Open WebUI's title, tags, follow-up and query prompts were answered "The documents do not say",
    so every chat in it was titled that way."""
    first = f"USER: {PROVINCE}\nASSISTANT: In the eastern province of Deir al-Zour [1]."
    title = task_reply(server, OPEN_WEBUI_TITLE, first)["title"]
    assert 1 <= len(title.split()) <= 5 and "Airstrikes" in title and "Province" in title, title
    tags = task_reply(server, OPEN_WEBUI_TAGS, first)["tags"]
    assert tags and all(isinstance(t, str) and t for t in tags) and "Syria" in tags, tags
    follow = task_reply(server, OPEN_WEBUI_FOLLOW_UPS, first)["follow_ups"]
    assert follow and all(q.endswith("?") for q in follow), follow
    asked = task_reply(server, OPEN_WEBUI_QUERIES, f"{first}\nUSER: and who ordered them?")["queries"]
    assert asked and "ordered them" in asked[0].lower() and "airstrikes" in asked[0].lower(), asked
