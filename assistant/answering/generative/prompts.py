"""Prompt templates live as text files in `prompts/` (or settings.prompts_dir), apart from the code.

The shipped ones are package data (see `settings.shipped`), so an installed wheel finds them too."""

from __future__ import annotations

import string
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


class PromptTemplate(string.Template):
    """string.Template with the prompts' `{name}` placeholders. Substitution is one pass over the template: what a
    value holds is never read as a placeholder (a document paragraph that says "{decline_marker}" stays those
    words, not the decline marker), and other braces (the JSON a judge prompt shows) stay as they are."""

    delimiter = "{"
    idpattern = r"\w+"
    pattern = r"""\{(?:(?P<named>\w+)\}|(?P<braced>(?!x)x)|(?P<escaped>(?!x)x)|(?P<invalid>(?!x)x))"""


def render(template: str, **values: str) -> str:
    """Fill the template's {name} placeholders (PromptTemplate); a placeholder with no value stays as written."""
    return PromptTemplate(template).safe_substitute(values)
