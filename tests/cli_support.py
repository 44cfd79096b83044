"""`assistant ...` in a fresh process, as a user runs it, with a clean environment (no ASSISTANT_* or OPENAI_*
variables of the developer's leak in)."""

from __future__ import annotations

import os
import subprocess
import sys

from conftest import ROOT


def run(args, env_extra, check=True, **kw):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ASSISTANT_", "OPENAI_"))}
    env.update(env_extra)
    proc = subprocess.run([sys.executable, "-m", "assistant.cli", *args], capture_output=True, text=True,
                          env=env, cwd=kw.get("cwd", ROOT), timeout=300)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc
