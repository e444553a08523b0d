"""Settings: explicit > env vars > user config file > defaults; errors name the file and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from dsjobs_lsp.core.settings import SettingsError, load_settings


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_defaults_without_anything(tmp_path: Path) -> None:
    settings = load_settings(env={"HOME": str(tmp_path)}, config_file=tmp_path / "none.yaml")
    assert settings.backend == "local" and settings.project_id is None and settings.oauth_token is None
    assert settings.state_dir == Path.home() / ".local" / "state" / "dsjobs"


def test_sources_in_order(tmp_path: Path) -> None:
    config = write(
        tmp_path / "config.yaml",
        "backend: cloud\nproject: fromfile000000000000\nstate-dir: ~/st\nyc-path: /opt/yc\n",
    )
    env = {"DSJOBS_PROJECT": "fromenv0000000000000", "DSJOBS_STATE_DIR": str(tmp_path / "state")}
    settings = load_settings(env=env, config_file=config, backend="local")
    assert settings.backend == "local"  # explicit beats file
    assert settings.project_id == "fromenv0000000000000"  # env beats file
    assert settings.state_dir == tmp_path / "state"
    assert settings.yc_path == Path("/opt/yc")  # file beats default
    assert settings.history_db == tmp_path / "state" / "history.sqlite3"


def test_config_file_from_env_var(tmp_path: Path) -> None:
    config = write(tmp_path / "mine.yaml", "backend: cloud\n")
    assert load_settings(env={"DSJOBS_CONFIG": str(config)}).backend == "cloud"


def test_oauth_token_from_env_is_secret(tmp_path: Path) -> None:
    settings = load_settings(env={"YC_OAUTH_TOKEN": "y0_secret"}, config_file=tmp_path / "none.yaml")
    assert settings.token_value() == "y0_secret"
    assert "y0_secret" not in repr(settings) and "y0_secret" not in settings.model_dump_json()


def test_bad_value_names_file_and_key(tmp_path: Path) -> None:
    config = write(tmp_path / "config.yaml", "backend: clod\n")
    with pytest.raises(SettingsError) as failure:
        load_settings(env={}, config_file=config)
    assert str(config) in str(failure.value) and "`backend`" in str(failure.value)


def test_bad_env_var_is_named(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="DSJOBS_BACKEND"):
        load_settings(env={"DSJOBS_BACKEND": "remote"}, config_file=tmp_path / "none.yaml")


def test_unknown_key_and_non_mapping_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="unknown key `projet`"):
        load_settings(env={}, config_file=write(tmp_path / "a.yaml", "projet: x\n"))
    with pytest.raises(SettingsError, match="expected a mapping"):
        load_settings(env={}, config_file=write(tmp_path / "b.yaml", "- a\n"))


def test_service_account_key_file_from_argument_env_or_file(tmp_path: Path) -> None:
    config = write(tmp_path / "config.yaml", "service-account-key-file: ~/keys/file.json\n")
    env = {"HOME": str(tmp_path), "YC_SA_KEY_FILE": str(tmp_path / "env.json")}
    assert load_settings(env={"HOME": str(tmp_path)}, config_file=config).service_account_key_file == (
        Path.home() / "keys" / "file.json"
    )
    assert load_settings(env=env, config_file=config).service_account_key_file == tmp_path / "env.json"
    explicit = load_settings(env=env, config_file=config, service_account_key_file="arg.json")
    assert explicit.service_account_key_file == Path("arg.json")
