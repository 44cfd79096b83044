"""Hostile files, measured: time and peak memory (RSS) of `assistant ingest` (a real process, a fresh index) on a
folder holding one hostile file and one good file, and of reading a large text file alone.

    python benchmarks/hostile_files.py            # results in benchmarks/results/hostile_files.json
    python benchmarks/hostile_files.py --before DIR   # the package in DIR: results in hostile_files_before.json

`--before DIR` measures the `assistant` package found in DIR instead of this checkout's (make one with
`mkdir DIR && git archive COMMIT assistant | tar -x -C DIR`), for before/after figures of the same cases.

Needs no dataset: every file is built here (tests/hostile_files.py). The zip bomb is the one of the issue: a
~1 MB .docx whose word/document.xml expands to 300 MB. Before the limits (commit f6e6dde), the CLI reached
10.8 GB on it (issue 10); reading a 40 MB-XML bomb alone took 56.5 s and 723 MB and gave 551,880 paragraphs,
which would then all have been embedded.

Issue 20's cases: a .docx whose main part is renamed (word/document.bin; 150 MB of XML that compresses only 4 to 1,
so no ratio check fires; before: 3.2 GB), and text with no line break at all (before: 1.5 GB for 5 MB through the
CLI, 12.3 GB after 4 minutes for 50 MB with no chunk embedded): 5 MB through the CLI, 49 MB read and chunked alone
(embedding 50,000 chunks would take an hour here).

PDFs: a deflate bomb (a 1 MB content stream inflating to 1 GB of spaces) through the CLI, and a text-heavy PDF
(PDF_PAGES pages, about 8 MB of text) read alone with `max_text_mb` set to PDF_TEXT_LIMIT_MB, to show that the
reader stops at the limit instead of holding the whole text (before: 2.2 GB for the bomb, which was indexed).
pdfminer lays out some 20-60 KB of text a second on 2 shared cores, so the PDF is kept small: a PDF of the size of
the 50 MB text file would take 15-40 minutes to read.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT, machine, rss_mb, start_server, table, write_result

sys.path.insert(0, str(ROOT / "tests"))
from hostile_files import (
    BAD_XML,
    LAUGHS,
    damaged_pdf,
    deflate_bomb_pdf,
    docx_with_document_xml,
    docx_with_renamed_main_part,
    run_length_bomb_pdf,
    text_pdf,
    zip_bomb_docx,
)

READ_AND_CHUNK = ("import sys; from pathlib import Path; from assistant.ingest.readers import collect; "
                  "from assistant.ingest.readers.limits import Limits; from assistant.settings import Settings; "
                  "from assistant.index.embeddings import get_embedder; from assistant.ingest.chunking import encode_chunks; "
                  "s = Settings(); d = list(collect([Path(sys.argv[1])], Limits.from_settings(s)))[0]; "
                  "e = get_embedder(s); n = sum(len(encode_chunks(d.paragraphs[i:i + 256], e)) "
                  "for i in range(0, len(d.paragraphs), 256)); "
                  "print(f'{len(d.paragraphs)} paragraphs (longest {max(len(p.text) for p in d.paragraphs):,} chars), "
                  "{n} chunks')")
GOOD = "Harbour report\n\nThe harbour of Kelvara was dredged in 1999 by the Marigold company.\n"
TEXT_MB = 50
PDF_PAGES = 1_500  # about 8.1 MB of extracted text
PDF_TEXT_LIMIT_MB = 2
READ_ONE = ("import sys; from pathlib import Path; from assistant.ingest.readers import Skipped, collect; "
            "from assistant.ingest.readers.limits import Limits; from assistant.settings import Settings; "
            "d = list(collect([Path(sys.argv[1])], Limits.from_settings(Settings())))[0]; "
            "print(d.reason if isinstance(d, Skipped) else f'{len(d.paragraphs)} paragraphs, {len(d.text):,} chars')")


ONE_LINE_MB = 5  # ingested whole (about 5,000 chunks); the 50 MB one is read and chunked only (below)


def one_line_text(path: Path, megabytes: float) -> Path:
    """A text file of `megabytes` MB with no line break at all."""
    sentence = "The harbour of Kelvara was dredged again this year, the council said on Monday. "
    with path.open("w", encoding="utf-8") as fh:
        while fh.tell() < megabytes * 1_048_576:
            fh.write(sentence * 100)
    return path


def measured(args: list[str], env: dict[str, str], cwd: Path = ROOT) -> tuple[float, float, int, str, str]:
    """(seconds, peak RSS in MB, exit code, stderr, stdout) of one child process."""
    started = time.perf_counter()
    proc = subprocess.Popen(args, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    return seconds, usage.ru_maxrss / 1024, proc.returncode, proc.stderr.read(), proc.stdout.read()


def server_uploads(tmp: Path, env: dict[str, str], cwd: Path) -> dict:
    """Issue 20: a large hostile upload through `POST /v1/documents` of a real `assistant serve`, and the
    server's memory before, at its peak, and after (does it return to near its idle memory?)."""
    import httpx

    folder = tmp / "server"
    folder.mkdir()
    (folder / "good.txt").write_text(GOOD, encoding="utf-8")
    proc, url = start_server(folder, {**env, "ASSISTANT_CORPUS_DIR": str(folder), "ASSISTANT_MAX_UPLOAD_MB": "64"},
                             cwd)
    results = {}
    try:
        with httpx.Client(base_url=url, timeout=1800) as http:
            question = {"question": "When was the harbour of Kelvara dredged?"}
            http.post("/v1/ask", json=question).raise_for_status()
            idle = rss_mb(proc.pid)
            cases = {"renamed main part .docx (150 MB of XML)":
                         lambda: docx_with_renamed_main_part(folder / "renamed.docx", xml_mb=150),
                     "one-line .txt (2 MB, no line breaks)": lambda: one_line_text(folder / "one-line.txt", 2)}
            for name, make in cases.items():
                path = make()
                started = time.perf_counter()
                reply = http.post("/v1/documents", files=[("files", (path.name, path.read_bytes()))])
                seconds = time.perf_counter() - started
                http.post("/v1/ask", json=question).raise_for_status()
                time.sleep(2)
                results[f"server upload: {name}"] = {
                    "file_mb": round(path.stat().st_size / 1_048_576, 2), "seconds": round(seconds, 2),
                    "server_idle_rss_mb": round(idle), "server_peak_rss_mb": round(rss_mb(proc.pid, "VmHWM")),
                    "server_rss_after_mb": round(rss_mb(proc.pid)), "status": reply.status_code,
                    "reply": reply.text[:300]}
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, metavar="DIR", help="measure the assistant package in DIR")
    parser.add_argument("--only", metavar="WORDS", help="only the CLI cases whose name holds WORDS (e.g. 'run-length'); "
                        "the other cases keep their last results in the file")
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ASSISTANT_", "OPENAI_"))}
    cwd = args.before.resolve() if args.before else ROOT  # `python -m` looks in its working folder first
    rows, results = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        makers = {"zip bomb .docx (300 MB of XML)": lambda p: zip_bomb_docx(p / "bomb.docx", 300),
                  "entity-expansion .docx": lambda p: docx_with_document_xml(p / "laughs.docx", LAUGHS),
                  "malformed-XML .docx": lambda p: docx_with_document_xml(p / "bad.docx", BAD_XML),
                  "damaged .pdf": lambda p: damaged_pdf(p / "damaged.pdf"),
                  "deflate-bomb .pdf (1 GB of spaces)": lambda p: deflate_bomb_pdf(p / "bomb.pdf", 1024),
                  "run-length bomb .pdf (256 MB of spaces)": lambda p: run_length_bomb_pdf(p / "runs.pdf", 256),
                  "renamed main part .docx (150 MB of XML in word/document.bin)":
                      lambda p: docx_with_renamed_main_part(p / "renamed.docx", xml_mb=150),
                  f"one-line .txt ({ONE_LINE_MB} MB, no line breaks)": lambda p: one_line_text(p / "one-line.txt",
                                                                                                 ONE_LINE_MB)}
        for n, (name, make) in enumerate(makers.items()):
            if args.only and args.only not in name:
                continue
            folder = tmp / f"case{n}"
            folder.mkdir()
            hostile = make(folder)
            (folder / "good.txt").write_text(GOOD, encoding="utf-8")
            env.update(ASSISTANT_INDEX_DIR=str(tmp / f"index{n}"), ASSISTANT_CORPUS_DIR=str(tmp / "none"))
            seconds, rss, code, err, _ = measured([sys.executable, "-m", "assistant.cli", "ingest", str(folder),
                                                   "--quiet"], env, cwd)
            reason = next((line.split(": ", 1)[1] for line in err.splitlines() if line.startswith("skipped")),
                          "(not skipped: indexed)")
            results[name] = {"file_mb": round(hostile.stat().st_size / 1_048_576, 2), "seconds": round(seconds, 2),
                             "peak_rss_mb": round(rss), "exit_code": code, "reason": reason}
            rows.append([name, f"{hostile.stat().st_size / 1_048_576:.1f} MB", f"{seconds:.1f} s", f"{rss:.0f} MB",
                         code, reason[:70]])
        if not args.only:  # the reader-only cases
            big = tmp / "big.txt"
            with big.open("w", encoding="utf-8") as fh:
                paragraph = "The harbour of Kelvara was dredged again this year, the council said on Monday. " * 4
                while fh.tell() < TEXT_MB * 1_048_576:
                    fh.write(paragraph + "\n\n")
            seconds, rss, _, _, _ = measured([sys.executable, "-c", READ_ONE, str(big)],
                                             {**env, "ASSISTANT_MAX_TEXT_MB": str(TEXT_MB + 1)}, cwd)
            results[f"reading a {TEXT_MB} MB text file (reader only)"] = {"seconds": round(seconds, 2),
                                                                           "peak_rss_mb": round(rss)}
            rows.append([f"{TEXT_MB} MB .txt, reader only", f"{TEXT_MB} MB", f"{seconds:.1f} s", f"{rss:.0f} MB", "", ""])
            one_line = one_line_text(tmp / "one-line-50.txt", TEXT_MB - 1)
            seconds, rss, _, _, out = measured([sys.executable, "-c", READ_AND_CHUNK, str(one_line)],
                                               {**env, "ASSISTANT_MAX_TEXT_MB": str(TEXT_MB + 1)}, cwd)
            name = f"one-line .txt, {TEXT_MB - 1} MB (reader and chunker only)"
            results[name] = {"seconds": round(seconds, 2), "peak_rss_mb": round(rss), "outcome": out.strip()}
            rows.append([name, f"{TEXT_MB - 1} MB", f"{seconds:.1f} s", f"{rss:.0f} MB", "", out.strip()[:70]])
            pdf = text_pdf(tmp / "text-heavy.pdf", PDF_PAGES)
            seconds, rss, code, err, out = measured([sys.executable, "-c", READ_ONE, str(pdf)],
                                                    {**env, "ASSISTANT_MAX_TEXT_MB": str(PDF_TEXT_LIMIT_MB)}, cwd)
            name = f"text-heavy .pdf, {PDF_PAGES:,} pages, max_text_mb={PDF_TEXT_LIMIT_MB} (reader only)"
            results[name] = {"file_mb": round(pdf.stat().st_size / 1_048_576, 2), "seconds": round(seconds, 2),
                             "peak_rss_mb": round(rss), "exit_code": code, "outcome": out.strip() or err[-300:]}
            rows.append([name, f"{pdf.stat().st_size / 1_048_576:.1f} MB", f"{seconds:.1f} s", f"{rss:.0f} MB", code,
                         (out.strip() or err.strip())[:70]])
        if not args.only or "server" in args.only:
            for name, r in server_uploads(tmp, env, cwd).items():
                results[name] = r
                rows.append([name, f"{r['file_mb']:.1f} MB", f"{r['seconds']:.1f} s",
                             f"{r['server_idle_rss_mb']} -> {r['server_peak_rss_mb']} -> {r['server_rss_after_mb']} MB",
                             r["status"], r["reply"][:70]])
    print(table(["file (beside a good one)", "on disk", "CLI ingest", "peak RSS", "exit", "reason"], rows))
    name = "hostile_files_before" if args.before else "hostile_files"
    package = {"package": str(args.before)} if args.before else {}
    if args.only and (earlier := ROOT / "benchmarks" / "results" / f"{name}.json").exists():
        results = {**json.loads(earlier.read_text())["results"], **results}  # the other cases as last measured
    print(f"written: {write_result(name, {**package, 'machine': machine(), 'results': results})}")


if __name__ == "__main__":
    main()
