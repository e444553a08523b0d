"""Which backend to use and where to keep state: explicit arguments > env vars > user config file > defaults.

The user config file is `~/.config/dsjobs/config.yaml` (or `$DSJOBS_CONFIG`), a mapping with the optional keys
`backend`, `project`, `local-data-dir`, `state-dir`, `yc-path`, `yc-profile` and `service-account-key-file`
(the path of a service account's authorized key, `yc iam key create --output key.json`). An OAuth token is
never read from or written to a file: it comes from an explicit argument or `YC_TOKEN` / `YC_OAUTH_TOKEN` and
lives in memory only.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from dsjobs_lsp.backends.endpoints import BackendKind

FILE_KEYS: dict[str, str] = {
    "backend": "backend",
    "project": "project_id",
    "local-data-dir": "local_data_dir",
    "state-dir": "state_dir",
    "yc-path": "yc_path",
    "yc-profile": "yc_profile",
    "service-account-key-file": "service_account_key_file",
}
ENV_KEYS: dict[str, str] = {
    "DSJOBS_BACKEND": "backend",
    "DSJOBS_PROJECT": "project_id",
    "DSJOBS_LOCAL_DATA_DIR": "local_data_dir",
    "DSJOBS_STATE_DIR": "state_dir",
    "DSJOBS_YC_PATH": "yc_path",
    "YC_SA_KEY_FILE": "service_account_key_file",
}
OAUTH_ENV_VARS = ("YC_TOKEN", "YC_OAUTH_TOKEN")


class SettingsError(ValueError):
    """A setting has a bad value; the message names its source (file and key, or env var)."""


class Settings(BaseModel):
    """Resolved settings of one process (CLI run or language server)."""

    model_config = ConfigDict(frozen=True)

    backend: BackendKind = "local"
    project_id: str | None = None
    local_data_dir: Path | None = Field(default=None, description="None: the local backend's own default.")
    state_dir: Path = Field(default_factory=lambda: default_state_dir())
    yc_path: Path | None = None
    yc_profile: str | None = None
    service_account_key_file: Path | None = Field(
        default=None, description="A service account's authorized key file (JSON); used before OAuth."
    )
    oauth_token: SecretStr | None = Field(default=None, exclude=True, repr=False)

    @field_validator("local_data_dir", "state_dir", "yc_path", "service_account_key_file", mode="after")
    @classmethod
    def _expand_home(cls, value: Path | None) -> Path | None:
        return value.expanduser() if value is not None else None

    @property
    def history_db(self) -> Path:
        """SQLite file of the launch history."""
        return self.state_dir / "history.sqlite3"

    @property
    def cache_dir(self) -> Path:
        """Hash cache and prepared archives."""
        return self.state_dir / "cache"

    def token_value(self) -> str | None:
        """The OAuth token in clear, for the IAM exchange only."""
        return self.oauth_token.get_secret_value() if self.oauth_token else None


def default_state_dir(env: Mapping[str, str] | None = None) -> Path:
    """`$XDG_STATE_HOME/dsjobs` or `~/.local/state/dsjobs`."""
    xdg = (os.environ if env is None else env).get("XDG_STATE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".local" / "state"
    return base / "dsjobs"


def user_config_path(env: Mapping[str, str] | None = None) -> Path:
    """`$DSJOBS_CONFIG` or `~/.config/dsjobs/config.yaml`."""
    env = os.environ if env is None else env
    explicit = env.get("DSJOBS_CONFIG")
    if explicit:
        return Path(explicit).expanduser()
    xdg = env.get("XDG_CONFIG_HOME")
    base = Path(xdg) if xdg else Path.home() / ".config"
    return base / "dsjobs" / "config.yaml"


def load_settings(
    *,
    env: Mapping[str, str] | None = None,
    config_file: Path | None = None,
    **explicit: Any,
) -> Settings:
    """Merge explicit arguments (None means unset), env vars and the user config file into `Settings`.

    Raises `SettingsError` naming the file and key (or env var) of a bad value.
    """
    env = os.environ if env is None else env
    path = config_file or user_config_path(env)
    layers: list[tuple[str, dict[str, Any]]] = [
        (f"{path}", _read_config_file(path)),
        ("environment", _from_env(env)),
        ("arguments", {k: v for k, v in explicit.items() if v is not None}),
    ]
    merged: dict[str, Any] = {}
    origin: dict[str, str] = {}
    for source, values in layers:
        for key, value in values.items():
            merged[key] = value
            origin[key] = source
    merged.setdefault("state_dir", default_state_dir(env))
    try:
        return Settings(**merged)
    except ValidationError as exc:
        raise SettingsError(_describe(exc, origin)) from None


def _from_env(env: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {field: env[name] for name, field in ENV_KEYS.items() if env.get(name)}
    token = next((env[name] for name in OAUTH_ENV_VARS if env.get(name)), None)
    if token:
        values["oauth_token"] = token
    return values


def _read_config_file(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    import yaml  # only when there is a file to read

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise SettingsError(f"{path}: cannot read settings: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise SettingsError(f"{path}: expected a mapping of settings, got {type(data).__name__}")
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key not in FILE_KEYS:
            known = ", ".join(FILE_KEYS)
            raise SettingsError(f"{path}: unknown key `{key}` (known keys: {known})")
        values[FILE_KEYS[key]] = value
    return values


def _describe(exc: ValidationError, origin: Mapping[str, str]) -> str:
    env_name = {field: name for name, field in ENV_KEYS.items()}
    file_key = {field: key for key, field in FILE_KEYS.items()}
    parts = []
    for error in exc.errors():
        field = str(error["loc"][0]) if error["loc"] else "?"
        source = origin.get(field, "defaults")
        if source == "environment":
            where = f"env var {env_name.get(field, field)}"
        elif source == "arguments":
            where = f"argument {field}"
        else:
            where = f"{source}: key `{file_key.get(field, field)}`"
        shown = "" if field == "oauth_token" else f" (got {error.get('input')!r})"
        parts.append(f"{where}: {error['msg']}{shown}")
    return "; ".join(parts)
