"""The mirror and its lexical statistics saved beside a folder index (`mirror-cache.json`), so that a new process
(every `assistant ask` is one) starts from them instead of reading every row from Chroma and tokenising it again.

Why it cannot make the index lie: the saved mirror is only ever a *previous* mirror (assistant/index/mirror.py). A new
process lists the committed documents from the store as always, reuses a saved document only when its content
hash and its number of chunks match the committed ones (a document's rows never change while its hash stays),
and reads every other document from the store. A saved file from any earlier revision or from another process is
therefore at worst useless; one that is torn, damaged or edited fails its checksum and is not used at all, then
written again.

Written after a process had to read or tokenise something the file did not hold, in a background thread so the
answer is not held up (at 30,000 chunks the file is 23 MB), one document at a time; to a temporary name first,
then renamed, so a crash or a second process never leaves a torn file in its place. On a Chroma server there is no
index folder and no file: every process reads the rows.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import threading
from collections import Counter
from pathlib import Path

import numpy as np

from assistant.index.memory import give_back
from assistant.index.mirror import Lexicon, Mirror, assemble
from assistant.types import Paragraph

log = logging.getLogger(__name__)
FILE_NAME = "mirror-cache.json"
FORMAT = 3  # 3: BM25 tokens as ids of the header's vocabulary (base64 int32s)
ABOUT = "assistant's copy of the index's chunks and their tokens, to start faster (assistant/index/mirror_cache.py); safe to delete"
_writing = threading.Lock()
_threads: list[threading.Thread] = []


def load(folder: Path) -> tuple[Mirror, Lexicon] | None:
    """The saved mirror (as a previous one: revision -1, never current) and a lexicon with its tokens and counts,
    or None when there is no usable file."""
    try:
        with open(Path(folder) / FILE_NAME, "rb") as file:
            *lines, trailer = file.read().splitlines(keepends=True)
        digest = hashlib.sha256()
        for line in lines:
            digest.update(line)
        if not lines or json.loads(trailer).get("sha256") != digest.hexdigest():
            raise ValueError("its checksum does not match (a torn, damaged or edited file)")
        header = json.loads(lines[0])
        if header.get("format") != FORMAT:
            return None
        return _restore(header, [json.loads(line) for line in lines[1:]])
    except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:  # a bad base64 is a ValueError
        log.debug("mirror cache in %s not used: %s", folder, exc)
        return None


def _restore(header: dict, documents: list[dict]) -> tuple[Mirror, Lexicon]:
    lexicon = Lexicon()
    words = header["vocabulary"]
    lexicon.vocabulary = {word: n for n, word in enumerate(words)}

    def parts():
        for doc in sorted(documents, key=lambda d: d["doc_id"]):
            doc_id, sha = doc["doc_id"], doc["sha"]
            ids, lengths = decode_ids(doc["term_ids"]), decode_ids(doc["lengths"])
            if not (len(doc["ids"]) == len(doc["texts"]) == len(doc["paragraph_of"]) == len(lengths)):
                raise ValueError(f"{doc_id}: lists of different lengths")
            if int(lengths.sum()) != len(ids) or (len(ids) and not 0 <= int(ids.min()) <= int(ids.max()) < len(words)):
                raise ValueError(f"{doc_id}: term ids that do not fit")
            lexicon.terms[(doc_id, sha)] = (ids, lengths)
            yield (doc_id, sha, doc["ids"], doc["texts"], [(doc_id, int(n)) for n in doc["paragraph_of"]],
                   [Paragraph(doc_id=doc_id, title=title, number=int(number), text=text, start=int(begin),
                              end=int(end), page=page)
                    for number, title, text, begin, end, page in doc["paragraphs"]])

    lexicon.mirror = assemble(parts())  # revision -1: a previous mirror, never the current one
    if header["chunks"] != len(lexicon.mirror.ids):
        raise ValueError(f"{len(lexicon.mirror.ids)} chunks saved, the header says {header['chunks']}")
    lexicon.df = Counter(header["df"])
    return lexicon.mirror, lexicon


def encode_ids(numbers: np.ndarray) -> str:
    """int32s as base64 of their little-endian bytes: a third of the memory of a JSON list of ints when read."""
    return base64.b64encode(numbers.astype("<i4").tobytes()).decode("ascii")


def decode_ids(text: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text, validate=True), dtype="<i4").astype(np.int32)


def save_later(folder: Path, mirror: Mirror, lexicon: Lexicon) -> threading.Thread:
    """Write the file for `mirror` in a background thread (not a daemon: a CLI process finishes writing before it
    exits). `lexicon` must be up to date with `mirror`; what it holds now is what is written."""
    terms = {doc_id: lexicon.terms[(doc_id, mirror.shas[doc_id])] for doc_id in mirror.spans}
    thread = threading.Thread(target=_save, args=(Path(folder), mirror, terms, list(lexicon.vocabulary),
                                                  Counter(lexicon.df)), name="mirror-cache")
    thread.start()
    _threads[:] = [t for t in _threads if t.is_alive()] + [thread]
    return thread


def wait() -> None:
    """Until the files being written are written (a benchmark timing the next process's start)."""
    for thread in list(_threads):
        thread.join()


def _save(folder: Path, mirror: Mirror, terms: dict[str, tuple[np.ndarray, np.ndarray]], vocabulary: list[str],
          df: Counter) -> None:
    """One line of JSON for the header (format, chunk count, IDF counts, BM25 vocabulary), then one per document, written one at a
    time so the file never exists whole in memory, then the SHA-256 of all those lines: a file that is torn,
    damaged or edited by hand is not used at all."""
    target = folder / FILE_NAME
    partial = folder / f"{FILE_NAME}.{os.getpid()}.{threading.get_ident()}.tmp"
    digest = hashlib.sha256()

    def write(file, record: dict) -> None:
        line = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
        digest.update(line)
        file.write(line)

    with _writing:
        try:
            with open(partial, "wb") as file:
                write(file, {"format": FORMAT, "about": ABOUT, "chunks": len(mirror.ids), "df": df,
                             "vocabulary": vocabulary})
                for doc_id in sorted(mirror.spans):
                    begin, end = mirror.spans[doc_id]
                    keys = mirror.keys[begin:end]
                    write(file, {
                        "doc_id": doc_id, "sha": mirror.shas[doc_id], "ids": mirror.ids[begin:end],
                        "texts": mirror.texts[begin:end], "paragraph_of": [n for _, n in keys],
                        "term_ids": encode_ids(terms[doc_id][0]), "lengths": encode_ids(terms[doc_id][1]),
                        "paragraphs": [[p.number, p.title, p.text, p.start, p.end, p.page]
                                       for p in (mirror.paragraphs[k] for k in dict.fromkeys(keys))]})
                file.write((json.dumps({"sha256": digest.hexdigest()}) + "\n").encode("utf-8"))
            os.replace(partial, target)
        except OSError as exc:  # a read-only folder, a full disk: the next process reads the rows, as before
            log.debug("mirror cache not written to %s: %s", folder, exc)
            partial.unlink(missing_ok=True)
    give_back()
