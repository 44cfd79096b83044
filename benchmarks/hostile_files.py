"""Hostile files, measured: time and peak memory (RSS) of `assistant ingest` (a real process, a fresh index) on a
folder holding one hostile file and one good file, and of reading a large text file alone.

    python benchmarks/hostile_files.py            # results in benchmarks/results/hostile_files.json

Needs no dataset: every file is built here (tests/hostile_files.py). The zip bomb is the one of the issue: a
~1 MB .docx whose word/document.xml expands to 300 MB. Before the limits (commit f6e6dde), the CLI reached
10.8 GB on it (issue 10); reading a 40 MB-XML bomb alone took 56.5 s and 723 MB and gave 551,880 paragraphs,
which would then all have been embedded.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT, machine, table, write_result

sys.path.insert(0, str(ROOT / "tests"))
from hostile_files import BAD_XML, LAUGHS, damaged_pdf, docx_with_document_xml, zip_bomb_docx  # noqa: E402

GOOD = "Harbour report\n\nThe harbour of Kelvara was dredged in 1999 by the Marigold company.\n"
TEXT_MB = 50


def measured(args: list[str], env: dict[str, str]) -> tuple[float, float, int, str]:
    """(seconds, peak RSS in MB, exit code, stderr) of one child process."""
    started = time.perf_counter()
    proc = subprocess.Popen(args, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    return seconds, usage.ru_maxrss / 1024, proc.returncode, proc.stderr.read()


def main() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ASSISTANT_", "OPENAI_"))}
    rows, results = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        makers = {"zip bomb .docx (300 MB of XML)": lambda p: zip_bomb_docx(p / "bomb.docx", 300),
                  "entity-expansion .docx": lambda p: docx_with_document_xml(p / "laughs.docx", LAUGHS),
                  "malformed-XML .docx": lambda p: docx_with_document_xml(p / "bad.docx", BAD_XML),
                  "damaged .pdf": lambda p: damaged_pdf(p / "damaged.pdf")}
        for n, (name, make) in enumerate(makers.items()):
            folder = tmp / f"case{n}"
            folder.mkdir()
            hostile = make(folder)
            (folder / "good.txt").write_text(GOOD, encoding="utf-8")
            env.update(ASSISTANT_INDEX_DIR=str(tmp / f"index{n}"), ASSISTANT_CORPUS_DIR=str(tmp / "none"))
            seconds, rss, code, err = measured([sys.executable, "-m", "assistant.cli", "ingest", str(folder),
                                                "--quiet"], env)
            reason = next((line.split(": ", 1)[1] for line in err.splitlines() if line.startswith("skipped")), "")
            results[name] = {"file_mb": round(hostile.stat().st_size / 1_048_576, 2), "seconds": round(seconds, 2),
                             "peak_rss_mb": round(rss), "exit_code": code, "reason": reason}
            rows.append([name, f"{hostile.stat().st_size / 1_048_576:.1f} MB", f"{seconds:.1f} s", f"{rss:.0f} MB",
                         code, reason[:70]])
        big = tmp / "big.txt"
        with big.open("w", encoding="utf-8") as fh:
            paragraph = "The harbour of Kelvara was dredged again this year, the council said on Monday. " * 4
            while fh.tell() < TEXT_MB * 1_048_576:
                fh.write(paragraph + "\n\n")
        code = ("import sys; from pathlib import Path; from assistant.readers import collect; "
                "d = list(collect([Path(sys.argv[1])]))[0]; print(len(d.paragraphs))")
        seconds, rss, _, _ = measured([sys.executable, "-c", code, str(big)], env)
        results[f"reading a {TEXT_MB} MB text file (reader only)"] = {"seconds": round(seconds, 2),
                                                                       "peak_rss_mb": round(rss)}
        rows.append([f"{TEXT_MB} MB .txt, reader only", f"{TEXT_MB} MB", f"{seconds:.1f} s", f"{rss:.0f} MB", "", ""])
    print(table(["file (beside a good one)", "on disk", "CLI ingest", "peak RSS", "exit", "reason"], rows))
    print(f"written: {write_result('hostile_files', {'machine': machine(), 'results': results})}")


if __name__ == "__main__":
    main()
