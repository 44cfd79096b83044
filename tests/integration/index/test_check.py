"""`assistant check [--repair]`: the document rows, the chunk rows and the vector index must agree. The repair
removes orphan rows, re-embeds a document whose rows are missing from its source, refills the vector copy, and
names what it cannot repair. Also: an index written before document rows existed is adopted on open."""

from __future__ import annotations

import shutil

import numpy as np

from index_support import QUESTIONS, cli, snapshot, write_corpus


def open_store(index):
    from assistant.config.settings import Settings
    from assistant.index.store import open_store

    return open_store(Settings(index_dir=index, corpus_dir=index.parent / "none"), "minilm")


def test_orphan_rows_of_an_interrupted_ingest(tmp_path):
    index = tmp_path / "index"
    corpus = write_corpus(tmp_path / "corpus", 1)
    assert cli("ingest", "--quiet", str(corpus), index=index, ingest_window="16", embed_batch_size="4",
               kill_after_batches=3).returncode < 0
    checked = cli("check", index=index)
    assert checked.returncode == 1 and "belong to no committed document version" in checked.stdout
    repaired = cli("check", "--repair", index=index)
    assert repaired.returncode == 0 and "repaired: removed" in repaired.stdout and "orphan" in repaired.stdout
    assert "is healthy" in cli("check", index=index).stdout


def test_missing_rows_are_re_embedded_from_the_source(make_assistant, tmp_path):
    corpus = write_corpus(tmp_path / "corpus", 1)
    a = make_assistant()
    a.ingest([corpus])
    before = snapshot(a)
    store = open_store(tmp_path / "index")
    with store.writing():
        store.delete([i for i in store.chunk_ids(["doc2.txt"]) if i.endswith(("::2::0", "::3::0"))])
    checked = cli("check", index=tmp_path / "index")
    assert checked.returncode == 1
    assert "document 'doc2.txt' has 6 of its 8 chunks (6 of 8 paragraphs)" in checked.stdout
    repaired = cli("check", "--repair", index=tmp_path / "index")
    assert repaired.returncode == 0 and "re-embedded 'doc2.txt'" in repaired.stdout
    assert snapshot(make_assistant()) == before


def test_what_cannot_be_repaired_is_named(make_assistant, tmp_path):
    corpus = write_corpus(tmp_path / "corpus", 1)
    make_assistant().ingest([corpus])
    store = open_store(tmp_path / "index")
    with store.writing():
        store.delete(store.chunk_ids(["doc2.txt"])[:2])
    (corpus / "doc2.txt").unlink()
    repaired = cli("check", "--repair", index=tmp_path / "index")
    assert repaired.returncode == 1
    assert "cannot repair: document 'doc2.txt' is missing chunks" in repaired.stdout
    assert "assistant remove 'doc2.txt'" in repaired.stdout
    assert cli("remove", "doc2.txt", index=tmp_path / "index").returncode == 0
    assert cli("check", index=tmp_path / "index").returncode == 0


def test_a_lost_vector_copy_is_refilled(make_assistant, tmp_path):
    corpus = write_corpus(tmp_path / "corpus", 1)
    a = make_assistant()
    a.ingest([corpus])
    before = snapshot(a)
    for leftover in (tmp_path / "index").glob("vectors.sqlite3*"):
        leftover.unlink()
    checked = cli("check", index=tmp_path / "index")
    assert checked.returncode == 1 and "vectors.sqlite3 lacks the vectors of" in checked.stdout
    assert cli("check", "--repair", index=tmp_path / "index").returncode == 0
    assert "is healthy" in cli("check", index=tmp_path / "index").stdout
    assert snapshot(make_assistant()) == before


def test_an_index_from_before_document_rows_is_adopted(make_assistant, tmp_path):
    """Written as the previous version did (a `head` chunk per document, no document rows), including the issue's
    crash: a newer version of one document stopped after 2 of its paragraphs."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    from assistant.index.embeddings import get_embedder
    from assistant.config.settings import Settings

    corpus = write_corpus(tmp_path / "corpus", 1)
    reference = make_assistant(index_dir=tmp_path / "reference")
    reference.ingest([corpus])
    rows = list(reference.index.store.chunks())
    vectors = get_embedder(Settings()).embed([r.text for r in rows])
    client = chromadb.PersistentClient(path=str(tmp_path / "legacy"), settings=ChromaSettings(anonymized_telemetry=False))
    old = client.create_collection("paragraphs", embedding_function=None, metadata={"embedding": "minilm", "revision": 3},
                                   configuration={"hnsw": {"space": "cosine"}})
    counts = {d.doc_id: d for d in reference.documents()}
    metas = []
    for r in rows:
        meta = dict(r.meta, head=r.meta["paragraph"] == 1 and r.meta["chunk"] == 0)
        if meta["head"]:
            meta.update(n_paragraphs=counts[meta["doc_id"]].paragraphs, source=counts[meta["doc_id"]].source)
        metas.append(meta)
    old.add(ids=[r.id for r in rows], embeddings=vectors, documents=[r.text for r in rows], metadatas=metas)
    half = [(f"doc3.txt::{'f' * 16}::{p}::0", f"A newer paragraph {p}.") for p in (1, 2)]
    old.add(ids=[i for i, _ in half], embeddings=np.ones((2, 384), dtype=np.float32) / np.sqrt(384),
            documents=[t for _, t in half], metadatas=[{"doc_id": "doc3.txt", "title": "Ledger 3", "paragraph": p,
                                                        "chunk": 0, "start": 0, "end": 5, "sha256": "f" * 64,
                                                        "head": p == 1, "n_paragraphs": 9, "source": "x"}
                                                       for p in (1, 2)])
    del old, client
    adopted = make_assistant(index_dir=tmp_path / "legacy")
    assert any("adopted 7 documents" in note for note in adopted.index.healed)
    assert snapshot(adopted)["documents"] == snapshot(reference)["documents"]
    assert adopted.ingest([corpus]).unchanged == sorted(counts)
    for question in QUESTIONS:
        assert adopted.ask(question).citations == reference.ask(question).citations
    assert "is healthy" in cli("check", index=tmp_path / "legacy").stdout
    shutil.rmtree(tmp_path / "reference")
