"""Entry points: read `config.yaml` (file or text) into a `LoadedConfig`, or list its issues."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict

from dsjobs_lsp.core.config.checker import Checker
from dsjobs_lsp.core.config.issues import ConfigError, ConfigIssue
from dsjobs_lsp.core.config.model import JobConfig
from dsjobs_lsp.core.config.parser import build_config
from dsjobs_lsp.core.config.yaml_tree import YamlSyntaxError, parse_yaml


class LoadedConfig(BaseModel):
    """A valid configuration, the warnings about it, its text and (when read from disk) its path."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    config: JobConfig
    warnings: list[ConfigIssue]
    text: str
    path: Path | None = None


def _check(text: str, base_dir: Path) -> tuple[JobConfig | None, list[ConfigIssue]]:
    try:
        document = parse_yaml(text)
    except YamlSyntaxError as error:
        span = error.span
        issue = ConfigIssue(
            key="",
            message=str(error),
            line=span.line,
            column=span.column,
            end_line=span.end_line,
            end_column=span.end_column,
        )
        return None, [issue]
    checker = Checker(document, base_dir)
    config = build_config(checker)
    return config, checker.issues


def check_config_text(text: str, *, source: str = "config.yaml", base_dir: Path) -> list[ConfigIssue]:
    """Every error and warning of `text`, in document order; never raises (for editor diagnostics)."""
    del source  # issues carry positions, not the file name
    _, issues = _check(text, base_dir)
    return sorted(issues, key=lambda issue: (issue.line, issue.column))


def parse_config_text(text: str, *, source: str = "config.yaml", base_dir: Path) -> LoadedConfig:
    """`text` as a LoadedConfig; relative paths are resolved against `base_dir`. Raises ConfigError."""
    config, issues = _check(text, base_dir)
    if config is None:
        raise ConfigError(sorted(issues, key=lambda issue: (issue.line, issue.column)), source=source)
    return LoadedConfig(config=config, warnings=issues, text=text)


def load_config(path: Path, *, base_dir: Path | None = None) -> LoadedConfig:
    """Read and validate the config file at `path` (paths relative to `base_dir`, default: its folder)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        raise ConfigError(
            [ConfigIssue(key="", message=f"cannot read the file: {reason}")], source=str(path)
        ) from None
    loaded = parse_config_text(text, source=str(path), base_dir=base_dir or path.parent)
    loaded.path = path
    return loaded
