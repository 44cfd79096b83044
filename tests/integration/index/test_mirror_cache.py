"""The saved mirror (`mirror-cache.json` in a folder index) speeds up a new process and never changes an answer:
whatever state the file is in (current, from before another process wrote, garbage, missing rows), each
`assistant ask` in a fresh process answers exactly as one that reads every row from Chroma."""

from __future__ import annotations

import json

from assistant.index.mirror_cache import FORMAT, decode_ids, encode_ids
from index_support import cli, write_corpus

# documents 1 and 3 change in version 2 of the corpus, 7 is added (keeper 75: its last paragraph)
ASKED = ["What did keeper 12 record?", "What did keeper 31 record?", "What did keeper 75 record?",
         "Which valley did the ferry cross?"]


def answers(index) -> list[tuple]:
    """What a user gets for each question, each from a new `assistant ask --json` process."""
    out = []
    for question in ASKED:
        done = cli("ask", "--json", question, index=index)
        assert done.returncode == 0, done.stderr
        got = json.loads(done.stdout)
        out.append((got["answer"], [(c["doc_id"], c["paragraph"]) for c in got["citations"]], got["confidence"]))
    return out


def from_the_store(index) -> list[tuple]:
    """The reference: the same questions with no saved mirror (every row read from Chroma)."""
    (index / "mirror-cache.json").unlink(missing_ok=True)
    reference = answers(index)
    assert (index / "mirror-cache.json").is_file()  # and the file is written again for the next process
    return reference


def test_a_saved_mirror_never_changes_an_answer(tmp_path):
    corpus, index = write_corpus(tmp_path / "corpus", 1), tmp_path / "index"
    assert cli("ingest", "--quiet", str(corpus), index=index).returncode == 0
    reference = from_the_store(index)
    assert answers(index) == reference  # a current file

    write_corpus(corpus, 2)  # another process changes 2 documents, deletes 1 and adds 1
    assert cli("ingest", "--quiet", str(corpus), index=index).returncode == 0
    stale = answers(index)  # the file is from before that write
    assert stale == from_the_store(index)
    assert stale != reference and any(c and c[0][0] == "doc7.txt" for _, c, _ in stale)  # the new document answers

    cache = index / "mirror-cache.json"
    header, *documents, trailer = [json.loads(line) for line in cache.read_text(encoding="utf-8").splitlines()]
    doc = next(d for d in documents if d["doc_id"] == "doc7.txt")
    for field in ("ids", "texts", "paragraph_of"):  # a document's last chunk lost from the file
        doc[field] = doc[field][:-1]
    lengths = decode_ids(doc["lengths"])
    ids = decode_ids(doc["term_ids"])
    doc["term_ids"], doc["lengths"] = encode_ids(ids[:len(ids) - lengths[-1]]), encode_ids(lengths[:-1])
    header["chunks"] -= 1
    cache.write_text("".join(json.dumps(x) + "\n" for x in [header, *documents, trailer]), encoding="utf-8")
    assert answers(index) == stale  # (its checksum no longer matches: the file is read from the store again)

    cache.write_text(f'{{"format": {FORMAT}, "chunks": 3, "df": {{"keeper": ', encoding="utf-8")
    assert answers(index) == stale  # a torn file is ignored
    assert json.loads(cache.read_text(encoding="utf-8").splitlines()[0])["format"] == FORMAT  # and written again
