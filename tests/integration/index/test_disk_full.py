"""A full disk is named as a full disk: the index is not called damaged, reads go on, and an ingest run again after
space is freed ends where a clean one would (issue 20). The index lives on a small tmpfs mounted for the test in a
private mount namespace (`unshare`), so nothing outside the test sees it."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys

import pytest

from conftest import ROOT

FACT = "The beacon of Tarsk is lit every night at nine by the keeper, Ada Brun."
WORDS = ("harbour ledger quay ferry tide lantern granite survey parish mill orchard barley kiln cooper weir "
         "causeway beacon shoal marsh heron tannery smithy wharf dredger pilot chandler sluice").split()


def script(folder, small, big) -> str:
    cli = f"{sys.executable} -m assistant.cli"
    steps = [("small", f"ingest {small}"), ("fill", f"ingest {big}"), ("docs", "docs"),
             ("ask", "ask 'When is the beacon of Tarsk lit?'"), ("check", "check")]
    lines = [f"mount -t tmpfs -o size=12m tmpfs {folder}", f"cd {folder}"]
    for name, args in steps:
        lines.append(f"echo '=== {name}'; {cli} {args} 2>&1; echo \"=== rc $?\"")
    lines.append(f"mount -o remount,size=400m {folder}")
    for name, args in (("again", f"ingest {big}"), ("check again", "check"), ("docs again", "docs")):
        lines.append(f"echo '=== {name}'; {cli} {args} 2>&1; echo \"=== rc $?\"")
    return "\n".join(lines)


def sections(output: str) -> dict[str, tuple[str, int]]:
    found, name, text = {}, None, []
    for line in output.splitlines():
        if line.startswith("=== rc "):
            found[name] = ("\n".join(text), int(line.split()[-1]))
        elif line.startswith("=== "):
            name, text = line[4:], []
        else:
            text.append(line)
    return found


@pytest.mark.skipif(not shutil.which("unshare"), reason="needs util-linux's unshare to mount a private tmpfs")
def test_a_full_disk_is_named_and_reads_go_on(tmp_path):
    (tmp_path / "small").mkdir()
    (tmp_path / "small" / "beacon.txt").write_text(f"Tarsk\n\n{FACT}\n", encoding="utf-8")
    rng = random.Random(5)
    (tmp_path / "big").mkdir()
    for n in range(60):
        paragraphs = [" ".join(rng.choice(WORDS) for _ in range(45)) + "." for _ in range(30)]
        (tmp_path / "big" / f"ledger-{n:02d}.txt").write_text(f"Ledger {n}\n\n" + "\n\n".join(paragraphs) + "\n")
    disk = tmp_path / "disk"
    disk.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ASSISTANT_", "OPENAI_"))}
    env.update(ASSISTANT_INDEX_DIR=str(disk / "index"), ASSISTANT_CORPUS_DIR=str(tmp_path / "none"),
               PYTHONPATH=str(ROOT))
    unshare = ["unshare", "-m"] if os.geteuid() == 0 else ["unshare", "-m", "-r"]
    run = subprocess.run([*unshare, "bash", "-c", script(disk, tmp_path / "small", tmp_path / "big")],
                         capture_output=True, text=True, env=env, timeout=900)
    steps = sections(run.stdout)
    assert "small" in steps, run.stdout + run.stderr
    assert steps["small"][1] == 0
    fill, rc = steps["fill"]
    assert rc == 1 and "no space left on" in fill and "free at least" in fill, fill
    assert "damaged" not in fill.replace("not damaged", "")
    for name in ("docs", "ask", "check"):
        text, rc = steps[name]
        assert rc == 0 and "damaged" not in text.replace("not damaged", ""), (name, text)
    assert "beacon.txt" in steps["docs"][0]
    assert "nine" in steps["ask"][0] and "¶" in steps["ask"][0], steps["ask"][0]
    assert steps["again"][1] == 0 and "60 added" in steps["again"][0], steps["again"][0]
    assert "healthy: 61 documents" in steps["check again"][0], steps["check again"][0]
