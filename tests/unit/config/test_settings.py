"""Settings come from defaults, assistant.toml, ASSISTANT_* variables and arguments, in that order."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from assistant.config.settings import Settings


def test_precedence_toml_env_arguments(tmp_path, monkeypatch):
    config = tmp_path / "assistant.toml"
    config.write_text('top_k = 7\nembed_batch_size = 16\nchroma_host = "db.local"\n', encoding="utf-8")
    monkeypatch.setenv("ASSISTANT_CONFIG", str(config))
    monkeypatch.setenv("ASSISTANT_TOP_K", "9")
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(tmp_path / "idx"))
    settings = Settings.load(embed_batch_size=64)
    assert settings.top_k == 9  # env beats toml
    assert settings.embed_batch_size == 64  # arguments beat everything
    assert settings.chroma_host == "db.local" and settings.uses_chroma_server
    assert settings.index_dir == tmp_path / "idx"


def test_defaults_are_offline_and_local():
    settings = Settings.load()
    assert settings.answer_mode == "offline" and settings.embedding == "minilm"
    assert settings.index_dir.name == "index" and settings.corpus_dir.name == "seeds"
    assert settings.chroma_host is None and settings.ui_host == "127.0.0.1"


def test_openai_key_is_read_from_its_usual_variable_and_never_printed(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-secret-123")
    settings = Settings.load()
    assert settings.openai_api_key.get_secret_value() == "sk-test-secret-123"
    assert "sk-test-secret-123" not in repr(settings) and "sk-test-secret-123" not in str(settings.model_dump())


def test_invalid_values_are_rejected_with_the_field_name(monkeypatch):
    monkeypatch.setenv("ASSISTANT_TOP_K", "many")
    with pytest.raises(ValidationError, match="top_k"):
        Settings.load()
    with pytest.raises(ValidationError, match="answer_mode"):
        Settings.load(answer_mode="magic")
