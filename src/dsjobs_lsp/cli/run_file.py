"""`dsjobs run FILE [ARGS...]`: the job form (a `LaunchConfig`) from a Python file and command-line options.

Defaults: working directory = the file's folder, Python environment detected automatically, instance `c1.4`.
A file may carry its own defaults in a PEP 723 inline metadata block (command-line options add to them):

    # /// script
    # [tool.dsjobs]
    # inputs = ["data/train.csv"]          # "<path>" or "<path>=<VAR>"
    # outputs = ["model.json", "outputs"]
    # instance-type = "c1.4"
    # env = ["SEED=1"]                     # "NAME=VALUE"
    # ///
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dsjobs_lsp.core.config import LaunchConfig

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

_BLOCK = re.compile(r"(?m)^# /// (?P<type>[a-zA-Z0-9-]+)$\s(?P<content>(^#(| .*)$\s)+)^# ///$")
_KNOWN_KEYS = {"inputs", "outputs", "instance-type", "env"}


class RunFileError(ValueError):
    """Bad `dsjobs run` options or a bad `[tool.dsjobs]` block (the message names the file and key)."""


@dataclass
class RunFileOptions:
    """What `dsjobs run` was given on the command line."""

    file: Path
    args: list[str] = field(default_factory=list)
    inputs: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    env: list[str] = field(default_factory=list)
    instance_type: str | None = None
    config_file: Path | None = None
    project_id: str | None = None


def inline_defaults(source: str, *, origin: str) -> dict[str, Any]:
    """The `[tool.dsjobs]` table of the file's `# /// script` block ({} when there is none)."""
    blocks = [m for m in _BLOCK.finditer(source) if m.group("type") == "script"]
    if not blocks:
        return {}
    if len(blocks) > 1:
        raise RunFileError(f"{origin}: more than one `# /// script` block")
    content = "".join(
        line[2:] if line.startswith("# ") else line[1:]
        for line in blocks[0].group("content").splitlines(keepends=True)
    )
    try:
        table = tomllib.loads(content).get("tool", {}).get("dsjobs", {})
    except tomllib.TOMLDecodeError as exc:
        raise RunFileError(f"{origin}: bad `# /// script` block: {exc}") from None
    unknown = set(table) - _KNOWN_KEYS
    if unknown:
        raise RunFileError(
            f"{origin}: unknown key `tool.dsjobs.{sorted(unknown)[0]}` (known: {sorted(_KNOWN_KEYS)})"
        )
    for key in ("inputs", "outputs", "env"):
        value = table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise RunFileError(f"{origin}: `tool.dsjobs.{key}` must be a list of strings")
    if not isinstance(table.get("instance-type", ""), str):
        raise RunFileError(f"{origin}: `tool.dsjobs.instance-type` must be a string")
    return dict(table)


def build_launch(options: RunFileOptions) -> LaunchConfig:
    """The form model of the run: the file's inline defaults, then the command-line options."""
    program = options.file.resolve()
    if not program.is_file():
        raise RunFileError(f"{options.file}: no such file")
    defaults = inline_defaults(program.read_text(encoding="utf-8"), origin=str(options.file))
    instance = options.instance_type or defaults.get("instance-type")
    data: dict[str, Any] = {
        "program": str(program),
        "args": list(options.args),
        "workingDirectory": str(program.parent),
        "inputs": [*defaults.get("inputs", []), *options.inputs],
        "outputs": [*defaults.get("outputs", []), *options.outputs],
        "envVars": [_env_entry(e) for e in (*defaults.get("env", []), *options.env)],
        "pythonBuild": "auto",
    }
    if instance:
        data["instanceType"] = instance
    if options.config_file is not None:
        data["configFile"] = str(options.config_file.resolve())
    if options.project_id:
        data["projectId"] = options.project_id
    return LaunchConfig.model_validate(data)


def _env_entry(entry: str) -> str:
    """`NAME=VALUE` (our CLI) → `NAME:value` (the form's syntax)."""
    name, sep, value = entry.partition("=")
    if not sep or not name:
        raise RunFileError(f"--env {entry!r}: expected NAME=VALUE")
    return f"{name}:{value}"
