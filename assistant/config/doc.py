"""docs/configuration.md, generated from the settings' own descriptions so the page cannot drift from the code.

    python -m assistant.config.doc            # rewrites docs/configuration.md
    python -m assistant.config.doc --check    # exit 1 when the page is out of date (tests/e2e/test_docs.py)

One section per settings group (`GROUPS` in assistant/config/settings.py: its docstring's first sentence is the
title); a default computed at run time (where the index is found, the corpus) is described, not shown.
"""

from __future__ import annotations

import argparse
import sys

from pydantic import AliasChoices

from assistant.config.settings import GROUPS, PACKAGE, Settings

PAGE = PACKAGE.parent / "docs" / "configuration.md"

INTRO = """# Configuration

Every setting, generated from `assistant/config/settings.py` by `python -m assistant.config.doc` (a test fails when
this page is out of date). Values come from the defaults, then `assistant.toml` (or the file named by
`ASSISTANT_CONFIG`), then environment variables, then keyword arguments (`Assistant(top_k=8)`). An empty
variable counts as unset; an unknown key in `assistant.toml` is an error that names it.

A Chroma server for data that outgrows one machine (many writers, one index):

<!-- docs-test: not run (starts a Chroma server that runs until stopped; tests/integration/index/test_chroma_server.py runs both steps) -->
```bash
chroma run --path /data/chroma --host 127.0.0.1 --port 8000
ASSISTANT_CHROMA_HOST=127.0.0.1 ASSISTANT_CHROMA_PORT=8000 assistant ingest corpus/
```
"""


def sections() -> list[tuple[str, str, list[str]]]:
    """(title, what the group is for, its fields in source order) per settings group."""
    out = []
    for group in GROUPS:
        title, _, about = (group.__doc__ or group.__name__).partition(": ")
        out.append((title, about.strip(), list(group.model_fields)))
    return out


def variables(name: str) -> str:
    alias = Settings.model_fields[name].validation_alias
    names = [f"ASSISTANT_{name.upper()}"]
    if isinstance(alias, AliasChoices):
        names += [choice for choice in alias.choices if isinstance(choice, str) and choice.isupper()]
    return ", ".join(f"`{n}`" for n in names)


def default(name: str) -> str:
    field = Settings.model_fields[name]
    if field.default_factory is not None:
        return "computed"
    value = field.default
    if value is None:
        return "unset"
    return f"`{str(value).lower() if isinstance(value, bool) else value}`"


def render() -> str:
    parts = [INTRO]
    for title, about, names in sections():
        parts.append(f"\n## {title}\n\n{about[0].upper()}{about[1:]}\n\n"
                     "| setting (`assistant.toml` key) | environment | default | what |\n|---|---|---|---|\n")
        for name in names:
            description = " ".join((Settings.model_fields[name].description or "").split()).replace("|", "\\|")
            parts.append(f"| `{name}` | {variables(name)} | {default(name)} | {description} |\n")
    return "".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when docs/configuration.md is out of date")
    args = parser.parse_args()
    text = render()
    if args.check:
        current = PAGE.read_text(encoding="utf-8") if PAGE.exists() else ""
        sys.exit(0 if current == text else f"{PAGE} is out of date: run python -m assistant.config.doc")
    PAGE.write_text(text, encoding="utf-8")
    print(f"wrote {PAGE}")


if __name__ == "__main__":
    main()
