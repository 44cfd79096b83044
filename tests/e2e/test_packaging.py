"""The package installs like one: every subpackage is in the wheel, and prompts and the demo corpus are package
data, so `pip install .` (not -e) answers from any directory. The wheel itself is built, installed into a
fresh virtualenv and asked a question by `.ci/run` (too slow for a unit test: it installs the dependencies)."""

from __future__ import annotations

import tomllib
from pathlib import Path

from assistant.config.settings import Settings, shipped

ROOT = Path(__file__).resolve().parents[2]


def test_every_subpackage_is_listed_for_the_wheel():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "assistant").rglob("__init__.py")}
    assert found - listed == set(), "add these to [tool.setuptools] packages in pyproject.toml"


def test_prompts_and_seeds_resolve_to_shipped_folders_with_their_files():
    assert {"system", "answer", "condense", "decline"} <= {p.stem for p in shipped("prompts").glob("*.txt")}
    assert any(shipped("seeds").iterdir())


def test_index_defaults_to_the_working_directory_never_the_package(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    settings = Settings.load(config_file=tmp_path / "none.toml")  # none here or above: the user's data folder
    assert settings.index_dir == tmp_path / "data" / "assistant" / "index"
    (tmp_path / "index").mkdir()
    assert Settings.load(config_file=tmp_path / "none.toml").index_dir == tmp_path / "index"  # one here wins
    assert settings.corpus_dir == shipped("seeds")  # no ./seeds here: the shipped demo article
    (tmp_path / "seeds").mkdir()
    assert Settings.load(config_file=tmp_path / "none.toml").corpus_dir == tmp_path / "seeds"


def test_report_templates_are_package_data():
    """report.html is rendered from assistant/evaluation/templates: an installed wheel without them could run
    a whole evaluation and then fail writing the report."""
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    package = ROOT / "assistant" / "evaluation"
    shipped_files = {f for pattern in patterns["assistant.evaluation"] for f in package.glob(pattern) if f.is_file()}
    templates = {f for f in (package / "templates").rglob("*") if f.is_file()}
    assert templates and templates <= shipped_files
