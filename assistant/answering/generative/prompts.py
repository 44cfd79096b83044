"""Prompt templates live as text files in `prompts/` (or settings.prompts_dir), apart from the code.

The shipped ones are package data (see `settings.shipped`), so an installed wheel finds them too."""

from __future__ import annotations

import re
from pathlib import Path

from assistant.config.settings import shipped

BUILTIN = shipped("prompts")


def load_prompts(folder: Path) -> dict[str, str]:
    """name -> template for every *.txt; files missing from `folder` fall back to the shipped ones."""
    prompts = {p.stem: p.read_text(encoding="utf-8").strip() for p in sorted(BUILTIN.glob("*.txt"))}
    if Path(folder).resolve() != BUILTIN.resolve():
        if not Path(folder).is_dir():
            raise FileNotFoundError(f"prompts folder not found: {folder}")
        prompts.update({p.stem: p.read_text(encoding="utf-8").strip() for p in sorted(Path(folder).glob("*.txt"))})
    return prompts


_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def render(template: str, **values: str) -> str:
    """Fill the template's {name} placeholders in one pass: what a value holds is never read as a placeholder
    (a document paragraph that says "{decline_marker}" stays those words, not the decline marker), and other braces
    in the template stay as they are."""
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)] if m.group(1) in values else m.group(0), template)
