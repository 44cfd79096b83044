"""Scale-out path: the same code against a real `chroma run` server on 127.0.0.1."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import SEED_DOC, SEEDS, free_port


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory):
    chroma = Path(sys.executable).parent / "chroma"
    assert chroma.exists(), "the chromadb package installs the `chroma` command"
    port = free_port()
    data = tmp_path_factory.mktemp("chroma-server")
    proc = subprocess.Popen([str(chroma), "run", "--path", str(data), "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            assert proc.poll() is None, "chroma run exited early"
            time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("chroma run did not start listening within 60 s")
    yield port
    proc.terminate()
    proc.wait(timeout=30)


def test_ingest_and_ask_through_a_chroma_server(make_assistant, chroma_server, tmp_path):
    a = make_assistant(chroma_host="127.0.0.1", chroma_port=chroma_server, collection="server-test")
    report = a.ingest([SEEDS])
    assert report.added == [SEED_DOC] and report.paragraphs == 19
    assert not (tmp_path / "index").exists()  # nothing written to the local folder in server mode
    assert a.ingest([SEEDS]).unchanged == [SEED_DOC]
    answer = a.ask("Who ordered the assassination of Qasem Soleimani?")
    assert not answer.refused and (answer.citations[0].doc_id, answer.citations[0].paragraph) == (SEED_DOC, 8)
    # a second client (another process or machine) sees the same index
    other = make_assistant(chroma_host="127.0.0.1", chroma_port=chroma_server, collection="server-test",
                           index_dir=tmp_path / "elsewhere")
    assert [(d.doc_id, d.paragraphs) for d in other.documents()] == [(SEED_DOC, 19)]
    other.remove(SEED_DOC)
    assert a.documents() == []
    assert a.retrieve("Soleimani") == []  # the first client notices the other's write


def test_unreachable_server_is_a_clear_error(make_assistant):
    from assistant.errors import IndexDamagedError

    with pytest.raises(IndexDamagedError, match="Chroma server"):
        make_assistant(chroma_host="127.0.0.1", chroma_port=free_port()).documents()
