"""The mirror and its lexical statistics saved beside a folder index (`mirror-cache.json`), so that a new process
(every `assistant ask` is one) starts from them instead of reading every row from Chroma and tokenising it again.

Why it cannot make the index lie: the saved mirror is only ever a *previous* mirror (assistant/mirror.py). A new
process lists the committed documents from the store as always, reuses a saved document only when its content
hash and its number of chunks match the committed ones (a document's rows never change while its hash stays),
and reads every other document from the store. A saved file from any earlier revision, from another process, or
half-written is therefore at worst useless: a file that does not parse is ignored and written again.

Written after a process had to read or tokenise something the file did not hold, in a background thread so the
answer is not held up (at 30,000 chunks the file is some 60 MB and takes about a second to write); to a temporary
name first, then renamed, so a crash or a second process never leaves a torn file. On a Chroma server there is no
index folder and no file: every process reads the rows.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections import Counter
from pathlib import Path

from assistant.mirror import DocumentTerms, Lexicon, Mirror
from assistant.models import Paragraph

log = logging.getLogger(__name__)
FILE_NAME = "mirror-cache.json"
FORMAT = 1
_writing = threading.Lock()
_threads: list[threading.Thread] = []


def load(folder: Path) -> tuple[Mirror, Lexicon] | None:
    """The saved mirror (as a previous one: revision -1, never current) and a lexicon seeded with its terms, or
    None when there is no usable file."""
    try:
        saved = json.loads((Path(folder) / FILE_NAME).read_text(encoding="utf-8"))
        if saved.get("format") != FORMAT:
            return None
        return _restore(saved["documents"])
    except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
        log.debug("mirror cache in %s not used: %s", folder, exc)
        return None


def _restore(documents: list[dict]) -> tuple[Mirror, Lexicon]:
    ids: list[str] = []
    texts: list[str] = []
    keys: list[tuple[str, int]] = []
    paragraphs: dict[tuple[str, int], Paragraph] = {}
    shas: dict[str, str] = {}
    spans: dict[str, tuple[int, int]] = {}
    terms: dict[tuple[str, str], DocumentTerms] = {}
    for doc in sorted(documents, key=lambda d: d["doc_id"]):
        doc_id, sha, start = doc["doc_id"], doc["sha"], len(ids)
        if not (len(doc["ids"]) == len(doc["texts"]) == len(doc["paragraph_of"]) == len(doc["tokens"])):
            raise ValueError(f"{doc_id}: lists of different lengths")
        ids += doc["ids"]
        texts += doc["texts"]
        keys += [(doc_id, int(n)) for n in doc["paragraph_of"]]
        for number, title, text, begin, end, page in doc["paragraphs"]:
            paragraphs[(doc_id, int(number))] = Paragraph(doc_id, title, int(number), text, int(begin), int(end), page)
        shas[doc_id], spans[doc_id] = sha, (start, len(ids))
        terms[(doc_id, sha)] = DocumentTerms([t.split() for t in doc["tokens"]], Counter(doc["df"]))
    mirror = Mirror(-1, ids, texts, keys, paragraphs, "", {}, shas, spans)
    lexicon = Lexicon()
    lexicon.seed(mirror, terms)
    return mirror, lexicon


def save_later(folder: Path, mirror: Mirror, lexicon: Lexicon) -> threading.Thread:
    """Write the file for `mirror` in a background thread (not a daemon: a CLI process finishes writing before it
    exits). `lexicon` must be up to date with `mirror`; its entries are taken now."""
    documents = [(doc_id, mirror.shas[doc_id], mirror.spans[doc_id], lexicon.terms_of(doc_id, mirror.shas[doc_id]))
                 for doc_id in sorted(mirror.spans)]
    thread = threading.Thread(target=_save, args=(Path(folder), mirror, documents), name="mirror-cache")
    thread.start()
    _threads[:] = [t for t in _threads if t.is_alive()] + [thread]
    return thread


def wait() -> None:
    """Until the files being written are written (a benchmark timing the next process's start)."""
    for thread in list(_threads):
        thread.join()


def _save(folder: Path, mirror: Mirror, documents: list) -> None:
    saved = {"format": FORMAT, "about": "assistant's copy of the index's chunks and their tokens, to start faster "
             "(assistant/mirror_cache.py); safe to delete", "documents": []}
    for doc_id, sha, (begin, end), terms in documents:
        keys = mirror.keys[begin:end]
        saved["documents"].append({
            "doc_id": doc_id, "sha": sha, "ids": mirror.ids[begin:end], "texts": mirror.texts[begin:end],
            "paragraph_of": [n for _, n in keys], "tokens": [" ".join(t) for t in terms.bm25_tokens], "df": terms.df,
            "paragraphs": [[p.number, p.title, p.text, p.start, p.end, p.page]
                           for p in (mirror.paragraphs[k] for k in dict.fromkeys(keys))]})
    target = folder / FILE_NAME
    partial = folder / f"{FILE_NAME}.{os.getpid()}.{threading.get_ident()}.tmp"
    with _writing:
        try:
            partial.write_text(json.dumps(saved, ensure_ascii=False), encoding="utf-8")
            os.replace(partial, target)
        except OSError as exc:  # a read-only folder, a full disk: the next process reads the rows, as before
            log.debug("mirror cache not written to %s: %s", folder, exc)
            partial.unlink(missing_ok=True)
