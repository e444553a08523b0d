"""The configuration form's commands: resolve, validate, save (launch.json), export and load (config.yaml).

Everything about what a configuration means is the core's (`core.config`); this module finds the files,
fills defaults, moves paths between `${workspaceFolder}` and absolute form, and shapes the answers.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from dsjobs_lsp.server.errors import CommandError, issue_to_field_error
from dsjobs_lsp.server.launch_json import DEBUG_TYPE, datasphere_entries, upsert_entry
from dsjobs_lsp.server.protocol import FieldError, PathResult, ResolvedConfig, SaveLaunchResult

if TYPE_CHECKING:
    from dsjobs_lsp.core.config import ConfigIssue, LaunchConfig
    from dsjobs_lsp.core.settings import Settings

DEFAULT_INSTANCE_TYPE = "c1.4"
WORKSPACE_VAR = "${workspaceFolder}"
LAUNCH_PREFIX = "launch:"
_PATH_FIELDS = ("working_directory", "program", "config_file", "requirements_file")
_LIST_FIELDS = frozenset(
    {"inputs", "outputs", "s3Mounts", "datasets", "envVars", "args", "extraRootPaths", "extraIndexUrls"}
)


# -- commands (each runs its file work in a worker thread) ----------------------------------------------


async def resolve_config(settings: Settings, file: str, source: str | None) -> ResolvedConfig:
    """The form for `file`: defaults, merged with a launch.json entry or a config.yaml (`source`)."""
    return await asyncio.to_thread(resolve_config_sync, settings, file, source)


async def validate_config(config: dict[str, Any]) -> list[FieldError]:
    """Every problem of the form: field checks, then (if those pass) the full config check on disk."""
    return await asyncio.to_thread(validate_config_sync, config)


async def save_launch_config(config: dict[str, Any], workspace_folder: str) -> SaveLaunchResult:
    """Add or update the entry (matched by name) in `<workspaceFolder>/.vscode/launch.json`."""
    return await asyncio.to_thread(save_launch_config_sync, config, workspace_folder)


async def export_config(config: dict[str, Any], path: str) -> PathResult:
    """Write the form as a config.yaml the reference CLI accepts."""
    return await asyncio.to_thread(export_config_sync, config, path)


async def load_config(settings: Settings, path: str, name: str | None) -> ResolvedConfig:
    """A config.yaml, or a launch.json's `datasphere` entry (`name`, default the first), as the form."""
    return await asyncio.to_thread(load_config_sync, settings, path, name)


def resolve_config_sync(settings: Settings, file: str, source: str | None) -> ResolvedConfig:
    """`resolve_config`, blocking."""
    program = Path(file).expanduser().resolve()
    launch_json = find_launch_json(program.parent)
    entries = _read_entries(launch_json)
    defaults = default_launch(program, settings)
    if source and source.startswith(LAUNCH_PREFIX):
        name = source[len(LAUNCH_PREFIX) :]
        entry = next((e for e in entries if e.get("name") == name), None)
        if entry is None or launch_json is None:
            raise CommandError("notFound", f"no `datasphere` entry named {name!r} in .vscode/launch.json")
        return _from_entry(defaults, entry, launch_json, entries)
    if source and source != "defaults":
        return _from_config_file(defaults, Path(source), program, entries)
    matching = next((e for e in entries if launch_json and _entry_program(e, launch_json) == program), None)
    if matching is not None and launch_json is not None:
        return _from_entry(defaults, matching, launch_json, entries)
    return _answer(defaults, "defaults", entries)


def validate_config_sync(config: dict[str, Any]) -> list[FieldError]:
    """`validate_config`, blocking."""
    launch, errors = _try_parse_launch(config)
    if launch is None:
        return errors
    return _check_launch(launch)


def save_launch_config_sync(config: dict[str, Any], workspace_folder: str) -> SaveLaunchResult:
    """`save_launch_config`, blocking."""
    from dsjobs_lsp.core.config import LaunchConfig

    launch = parse_launch(config)
    folder = Path(workspace_folder).expanduser()
    path = folder / ".vscode" / "launch.json"
    entry = launch_entry(launch, folder)
    managed = {info.alias or name for name, info in LaunchConfig.model_fields.items()}
    result = upsert_entry(_read_text(path), entry, managed_keys=managed)
    _write_text(path, result.text)
    return SaveLaunchResult(path=str(path), created=result.created)


def export_config_sync(config: dict[str, Any], path: str) -> PathResult:
    """`export_config`, blocking."""
    from dsjobs_lsp.core.config import dump_config, launch_to_job_config

    launch = parse_launch(config)
    job = launch_to_job_config(launch, base_dir=_base_dir(launch))
    target = Path(path).expanduser()
    _write_text(target, dump_config(job))
    return PathResult(path=str(target))


def load_config_sync(settings: Settings, path: str, name: str | None) -> ResolvedConfig:
    """`load_config`, blocking."""
    file = Path(path).expanduser().resolve()
    if file.suffix.lower() in (".json", ".jsonc"):
        entries = _read_entries(file)
        entry = next((e for e in entries if name is None or e.get("name") == name), None)
        if entry is None:
            what = f"named {name!r} " if name else ""
            raise CommandError("notFound", f"no `datasphere` entry {what}in {file}")
        return _from_entry(default_launch(None, settings), entry, file, entries)
    program = _program_of_config(file)
    defaults = default_launch(program, settings)
    return _from_config_file(defaults, file, program, _read_entries(find_launch_json(file.parent)))


# -- building the form ------------------------------------------------------------------------------------


def default_launch(program: Path | None, settings: Settings) -> LaunchConfig:
    """The form's defaults for a Python file (working directory = its folder, `auto` Python, `c1.4`)."""
    from dsjobs_lsp.core.config import LaunchConfig

    return LaunchConfig(
        name=f"DataSphere: {program.name}" if program else "Run in DataSphere Jobs",
        program=program.name if program else "",
        working_directory=str(program.parent) if program else None,
        project_id=settings.project_id,
        instance_type=DEFAULT_INSTANCE_TYPE,
        python_build="auto",
    )


def parse_launch(config: dict[str, Any]) -> LaunchConfig:
    """The form model of a payload; `CommandError(invalidParams)` naming the bad fields."""
    launch, errors = _try_parse_launch(config)
    if launch is None:
        problems = "; ".join(f"`{error.field}`: {error.message}" for error in errors)
        raise CommandError("invalidParams", f"invalid configuration: {problems}", errors)
    return launch


def launch_entry(launch: LaunchConfig, workspace_folder: Path) -> dict[str, Any]:
    """The launch.json entry of a form: type, request, name, then the fields that differ from defaults."""
    updates = {
        field: _to_workspace_path(getattr(launch, field), workspace_folder)
        for field in _PATH_FIELDS
        if getattr(launch, field)
    }
    shown = launch.model_copy(update=updates)
    fields = shown.model_dump(by_alias=True, exclude_defaults=True, exclude={"name"})
    fields.setdefault("program", shown.program)
    return {"type": DEBUG_TYPE, "request": "launch", "name": launch.name, **fields}


def _try_parse_launch(config: dict[str, Any]) -> tuple[LaunchConfig | None, list[FieldError]]:
    from dsjobs_lsp.core.config import LaunchConfig

    try:
        return LaunchConfig.model_validate(config), []
    except ValidationError as exc:
        return None, [
            FieldError(field=str(error["loc"][0]) if error["loc"] else "config", message=error["msg"])
            for error in exc.errors()
        ]


def _check_launch(launch: LaunchConfig) -> list[FieldError]:
    from dsjobs_lsp.core.config import ConfigError, launch_to_job_config, validate_launch

    issues = list(validate_launch(launch))
    if not any(issue.severity == "error" for issue in issues):
        try:
            launch_to_job_config(launch, base_dir=_base_dir(launch))
        except ConfigError as error:
            issues += [issue for issue in error.issues if issue not in issues]
    return [_form_error(issue) for issue in issues]


def _form_error(issue: ConfigIssue) -> FieldError:
    error = issue_to_field_error(issue)
    if issue.key in _LIST_FIELDS:
        error.line = issue.line
    return error


def _answer(
    launch: LaunchConfig, source: str, entries: list[dict[str, Any]], errors: list[FieldError] | None = None
) -> ResolvedConfig:
    from dsjobs_lsp.core.config import validate_launch

    found = list(errors or []) + [_form_error(issue) for issue in validate_launch(launch)]
    return ResolvedConfig(
        config=launch.model_dump(mode="json", by_alias=True),
        source=source,
        errors=found,
        launch_entries=[str(entry.get("name", "")) for entry in entries],
    )


def _from_entry(
    defaults: LaunchConfig, entry: dict[str, Any], launch_json: Path, entries: list[dict[str, Any]]
) -> ResolvedConfig:
    from dsjobs_lsp.core.config import LaunchConfig

    folder = workspace_of(launch_json)
    resolved = {key: _expand(value, folder) for key, value in entry.items()}
    launch, errors = _try_parse_launch(resolved)
    if launch is None:
        return _answer(defaults, f"{LAUNCH_PREFIX}{entry.get('name', '')}", entries, errors)
    given = {
        name: getattr(launch, name) for name in launch.model_fields_set if name in LaunchConfig.model_fields
    }
    if "working_directory" not in given and "program" in given and defaults.working_directory is None:
        given["working_directory"] = str(folder)
    merged = defaults.model_copy(update=given)
    return _answer(merged, f"{LAUNCH_PREFIX}{merged.name}", entries)


def _from_config_file(
    defaults: LaunchConfig, path: Path, program: Path | None, entries: list[dict[str, Any]]
) -> ResolvedConfig:
    from dsjobs_lsp.core.config import ConfigError, job_config_to_launch
    from dsjobs_lsp.core.config import load_config as core_load_config

    path = path.expanduser().resolve()
    if not path.is_file():
        raise CommandError("notFound", f"configuration file not found: {path}")
    working_dir = Path(defaults.working_directory) if defaults.working_directory else path.parent
    try:
        loaded = core_load_config(path, base_dir=working_dir)
    except ConfigError as error:
        errors = [issue_to_field_error(issue, file=str(path)) for issue in error.issues]
        raise CommandError("config", f"{path.name} is not valid:\n{error}", errors) from None
    form = job_config_to_launch(loaded.config, program=program or "", working_dir=working_dir)
    config_file = os.path.relpath(path, working_dir) if path.is_relative_to(working_dir) else str(path)
    given = {
        name: getattr(form, name)
        for name in form.model_fields_set
        if getattr(form, name) not in (None, [], "")
    }
    merged = defaults.model_copy(update={**given, "config_file": config_file})
    warnings = [issue_to_field_error(issue, file=str(path)) for issue in loaded.warnings]
    return _answer(merged, str(path), entries, warnings)


# -- files and paths --------------------------------------------------------------------------------------


def find_launch_json(start: Path) -> Path | None:
    """The nearest `.vscode/launch.json` at or above `start`."""
    for folder in (start, *start.parents):
        candidate = folder / ".vscode" / "launch.json"
        if candidate.is_file():
            return candidate
    return None


def workspace_of(launch_json: Path) -> Path:
    """The workspace folder a launch.json belongs to."""
    return launch_json.parent.parent if launch_json.parent.name == ".vscode" else launch_json.parent


def _read_entries(launch_json: Path | None) -> list[dict[str, Any]]:
    if launch_json is None:
        return []
    text = _read_text(launch_json)
    return datasphere_entries(text) if text.strip() else []


def _entry_program(entry: dict[str, Any], launch_json: Path) -> Path | None:
    folder = workspace_of(launch_json)
    program = entry.get("program")
    if not isinstance(program, str) or not program:
        return None
    working = Path(str(_expand(entry.get("workingDirectory") or str(folder), folder)))
    return (working / str(_expand(program, folder))).resolve()


def _program_of_config(path: Path) -> Path | None:
    """The Python script a config.yaml's `cmd` runs (None when it runs a module or is unreadable)."""
    import yaml

    from dsjobs_lsp.core.config.entry import main_module

    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.BaseLoader)
        module = main_module(str(data.get("cmd", "")), path.parent) if isinstance(data, dict) else None
    except (OSError, ValueError, yaml.YAMLError):
        return None
    if module is None or module.is_name:
        return None
    return (path.parent / module.path).resolve()


def _expand(value: Any, folder: Path) -> Any:
    """`${workspaceFolder}` replaced in strings (and lists of strings)."""
    if isinstance(value, str):
        return value.replace(WORKSPACE_VAR, str(folder))
    if isinstance(value, list):
        return [_expand(item, folder) for item in value]
    return value


def _to_workspace_path(value: str, folder: Path) -> str:
    path = Path(value)
    if not path.is_absolute():
        return value
    try:
        relative = path.relative_to(folder)
    except ValueError:
        return value
    return WORKSPACE_VAR if relative == Path(".") else f"{WORKSPACE_VAR}/{relative.as_posix()}"


def _base_dir(launch: LaunchConfig) -> Path:
    if launch.working_directory:
        return Path(launch.working_directory).expanduser()
    program = Path(launch.program)
    return program.parent if program.is_absolute() else Path.cwd()


def _read_text(path: Path) -> str:
    return path.read_text(encoding="utf-8") if path.exists() else ""


def _write_text(path: Path, text: str) -> None:
    """Write via a temporary file and a rename, so a crash never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.dsjobs-tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)
