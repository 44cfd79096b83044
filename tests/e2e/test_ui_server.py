"""`python app.py` as a user starts it: a real process on a free loopback port, a temp index, the seed corpus.

Also the helper the other UI and server test modules use to start the server (`start_app`): `python app.py`
by default, `assistant serve` with command=SERVE; both run the same FastAPI server (page, /v1, /docs).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from conftest import ROOT, SEEDS, free_port

START_LIMIT = 300  # seconds before a start that never finishes is reported (a hang guard, not a speed check)
APP = ["app.py"]
SERVE = ["-m", "assistant.cli", "serve"]


@dataclass
class App:
    url: str
    port: int
    proc: subprocess.Popen
    log: Path
    folder: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(30)


def start_app(folder: Path, command: list[str] = APP, **env_extra: str) -> App:
    """Run `python app.py` (or `command`) with its index in `folder` and wait until it serves; the log is
    folder/app.log. Environment: the seed corpus, a free port, and `env_extra` on top."""
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("ASSISTANT_", "OPENAI_", "GRADIO_SERVER_"))}
    env.update({"ASSISTANT_INDEX_DIR": str(folder / "index"), "ASSISTANT_CORPUS_DIR": str(SEEDS),
                "GRADIO_SERVER_PORT": str(port), "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False",
                "PYTHONUNBUFFERED": "1"})
    env.update(env_extra)
    log = folder / "app.log"
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, *command], cwd=ROOT, env=env, stdout=out,
                                stderr=subprocess.STDOUT)
    app = App("", port, proc, log, folder)
    deadline = time.monotonic() + START_LIMIT
    while True:
        text = app.output()
        found = re.search(r"Running on local URL:\s+(\S+)", text)
        if found:
            app.url = found.group(1).rstrip("/") + "/"
            return app
        if proc.poll() is not None:
            raise RuntimeError(f"{' '.join(command)} exited with code {proc.returncode}:\n{text}")
        if time.monotonic() > deadline:
            app.stop()
            raise RuntimeError(f"{' '.join(command)} did not start within {START_LIMIT} s:\n{text}")
        time.sleep(0.2)


def listening_addresses(port: int) -> set[str]:
    """Local addresses of the TCP sockets listening on `port` (Linux /proc/net/tcp and tcp6)."""
    found = set()
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        path = Path(name)
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            address, port_hex = fields[1].rsplit(":", 1)
            if int(port_hex, 16) == port and fields[3] == "0A":  # 0A: LISTEN
                found.add(address)
    return found


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    running = start_app(tmp_path_factory.mktemp("ui-server"))
    yield running
    running.stop()


def test_first_start_indexes_the_seeds_and_serves_the_page_on_loopback(app):
    assert app.url == f"http://127.0.0.1:{app.port}/", "GRADIO_SERVER_PORT is honoured, host defaults to loopback"
    assert "Indexing" in app.output() and "1 added" in app.output()
    with urllib.request.urlopen(app.url, timeout=60) as response:
        page = response.read().decode()
    assert response.status == 200 and "Ask your documents" in page
    if Path("/proc/net/tcp").exists():
        assert listening_addresses(app.port) == {"0100007F"}, "binds 127.0.0.1 only, never all interfaces"


def test_page_references_nothing_outside_the_server(app):
    with urllib.request.urlopen(app.url, timeout=60) as response:
        page = response.read().decode()
    external = [u for u in re.findall(r'(?:src|href)=["\'](https?://[^"\']+)', page)
                if not u.startswith(("http://127.0.0.1", "http://localhost"))]
    assert external == []


def test_second_start_reuses_the_index(app):
    app.stop()  # one writer per index folder
    again = start_app(app.folder)
    try:
        assert "Indexing" not in again.output()
    finally:
        again.stop()


def test_login_required_when_ui_auth_is_set(tmp_path, seeded_index):
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from gradio_client import Client

    shutil.copytree(seeded_index, tmp_path / "index")  # already indexed: no seed ingest on start
    locked = start_app(tmp_path, ASSISTANT_UI_AUTH="ann:s3cret")
    try:
        with pytest.raises(ValueError, match="credentials were not provided"):
            Client(locked.url, verbose=False)
        with pytest.raises(ValueError, match="Could not login"):
            Client(locked.url, auth=("ann", "wrong"), verbose=False)
        answer = Client(locked.url, auth=("ann", "s3cret"), verbose=False).predict(
            "In which province were the airstrikes carried out?", api_name="/ask")
        assert "Deir al-Zour" in answer["answer"]
        # no API key, so /v1 is closed: it would otherwise be a way around the login
        refused = httpx.get(locked.url + "v1/documents", timeout=60)
        assert refused.status_code == 401 and refused.json()["error"]["code"] == "api_key_required"
        config = httpx.get(locked.url + "config", timeout=60)
        assert config.status_code == 401 and "assistant-page-key" not in config.text  # the page key stays inside
    finally:
        locked.stop()


def test_serve_takes_host_and_port_and_says_when_the_port_is_taken(tmp_path, seeded_index):
    shutil.copytree(seeded_index, tmp_path / "index")
    port = free_port()
    served = start_app(tmp_path, SERVE + ["--host", "127.0.0.1", "--port", str(port)])
    try:
        assert served.url == f"http://127.0.0.1:{port}/"  # --port wins over GRADIO_SERVER_PORT
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ASSISTANT_", "OPENAI_"))}
        env.update(ASSISTANT_INDEX_DIR=str(tmp_path / "index"), HF_HUB_OFFLINE="1")
        second = subprocess.run([sys.executable, *SERVE, "--port", str(port)], cwd=ROOT, env=env, text=True,
                                capture_output=True, timeout=START_LIMIT)
        assert second.returncode == 1 and f"cannot listen on 127.0.0.1:{port}" in second.stderr
        assert "Traceback" not in second.stderr
    finally:
        served.stop()
