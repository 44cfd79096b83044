"""Prompt templates live as text files in `prompts/` (or settings.prompts_dir), apart from the code.

The shipped ones are package data (see `settings.shipped`), so an installed wheel finds them too."""

from __future__ import annotations

from pathlib import Path

from assistant.settings import shipped

BUILTIN = shipped("prompts")


def load_prompts(folder: Path) -> dict[str, str]:
    """name -> template for every *.txt; files missing from `folder` fall back to the shipped ones."""
    prompts = {p.stem: p.read_text(encoding="utf-8").strip() for p in sorted(BUILTIN.glob("*.txt"))}
    if Path(folder).resolve() != BUILTIN.resolve():
        if not Path(folder).is_dir():
            raise FileNotFoundError(f"prompts folder not found: {folder}")
        prompts.update({p.stem: p.read_text(encoding="utf-8").strip() for p in sorted(Path(folder).glob("*.txt"))})
    return prompts


def render(template: str, **values: str) -> str:
    """Fill {name} placeholders without tripping over other braces in the template."""
    for name, value in values.items():
        template = template.replace("{" + name + "}", value)
    return template
