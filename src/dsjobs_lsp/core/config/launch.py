"""The configuration form / `datasphere` launch.json entry (`LaunchConfig`) and its conversion to a JobConfig.

Form fields are snake_case attributes with camelCase aliases (`working_directory` <-> `workingDirectory`);
`model_dump(by_alias=True, exclude_none=True)` gives the launch.json attributes. Issues about a form name the
form field in `key` (e.g. `inputs`) and, for multi-line fields, the 0-based line of the field in `line`.
"""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path, PurePosixPath
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from dsjobs_lsp.core.config.dump import dump_config
from dsjobs_lsp.core.config.entry import is_common_python_name
from dsjobs_lsp.core.config.issues import ConfigError, ConfigIssue
from dsjobs_lsp.core.config.loader import load_config, parse_config_text
from dsjobs_lsp.core.config.model import (
    DockerImage,
    EnvConfig,
    EnvVar,
    JobConfig,
    PipOptions,
    PythonSettings,
    VariablePath,
)
from dsjobs_lsp.core.config.parse_env import PYTHON_VERSION
from dsjobs_lsp.core.config.parse_sections import INSTANCE_TYPES, REFERENCE_VAR_PATTERN, RESOURCE_ID

PROJECT_ID = re.compile(r"[0-9a-z]{20}")

# Where an issue about a merged config key belongs on the form (first matching prefix wins).
_FIELD_OF_KEY = (
    ("cmd", "program"),
    ("args", "args"),
    ("inputs", "inputs"),
    ("outputs", "outputs"),
    ("s3-mounts", "s3Mounts"),
    ("datasets", "datasets"),
    ("env.vars", "envVars"),
    ("env.docker.username", "dockerUsername"),
    ("env.docker.password", "dockerPasswordSecret"),
    ("env.docker", "dockerImage"),
    ("env.python.version", "pythonVersion"),
    ("env.python.requirements-file", "requirementsFile"),
    ("env.python.root-paths", "extraRootPaths"),
    ("env.python.pip.extra-index-urls", "extraIndexUrls"),
    ("env.python.pip.no-deps", "noDependencies"),
    ("env.python", "pythonBuild"),
    ("cloud-instance-types", "instanceType"),
    ("name", "jobName"),
    ("desc", "jobDesc"),
)


class LaunchConfig(BaseModel):
    """The DataSphere Job Configuration form, and the attributes of a `datasphere` launch.json entry."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")

    name: str = "Run in DataSphere Jobs"
    program: str = ""
    args: list[str] = Field(default_factory=list)
    working_directory: str | None = None
    inputs: list[str] = Field(default_factory=list, description="`<path>=<var>` or `<path>`, one per line")
    outputs: list[str] = Field(default_factory=list, description="`<path>=<var>` or `<path>`, one per line")
    project_id: str | None = None
    config_file: str | None = None
    instance_type: str | None = Field(default=None, description="e.g. `c1.4` (the default) or `g1.1`")
    s3_mounts: list[str] = Field(default_factory=list, description="connector IDs, optionally `<id>=<var>`")
    datasets: list[str] = Field(default_factory=list, description="`<dataset id>=<var>`, one per line")
    env_vars: list[str] = Field(default_factory=list, description="`NAME:value`, or `NAME` to copy it")
    docker_image: str | None = None
    docker_username: str | None = None
    docker_password_secret: str | None = None
    python_build: Literal["auto", "manual"] | None = None
    python_version: str | None = None
    requirements_file: str | None = None
    extra_root_paths: list[str] = Field(default_factory=list)
    extra_index_urls: list[str] = Field(default_factory=list)
    no_dependencies: bool = False
    job_name: str | None = None
    job_desc: str | None = None


def _issue(
    field: str, message: str, line: int = 0, severity: Literal["error", "warning"] = "error"
) -> ConfigIssue:
    return ConfigIssue(key=field, message=message, severity=severity, line=line, end_line=line)


def _lines(values: list[str]) -> list[tuple[int, str]]:
    return [(index, value.strip()) for index, value in enumerate(values) if value.strip()]


def _split_var(text: str, separator: str = "=") -> tuple[str, str | None]:
    head, sep, tail = text.rpartition(separator)
    return (head.strip(), tail.strip()) if sep else (text, None)


def _check_path_lines(field: str, values: list[str], *, resource_ids: bool) -> list[ConfigIssue]:
    issues: list[ConfigIssue] = []
    for line, text in _lines(values):
        path, var = _split_var(text)
        if var is not None and not REFERENCE_VAR_PATTERN.fullmatch(var):
            issues.append(
                _issue(field, f"`{var}` is not a valid variable name ([0-9a-zA-Z_-], up to 50)", line)
            )
        if resource_ids and not RESOURCE_ID.fullmatch(path):
            issues.append(_issue(field, f"`{path}` is not a resource ID ([0-9a-z]{{20}})", line))
        if not path:
            issues.append(_issue(field, "the path is empty", line))
    return issues


def _check_env_lines(values: list[str]) -> list[ConfigIssue]:
    issues: list[ConfigIssue] = []
    for line, text in _lines(values):
        name = text.partition(":")[0].strip()
        if not name:
            issues.append(
                _issue("envVars", "write `NAME:value` (or `NAME` to copy it from this machine)", line)
            )
        elif ":" not in text and name not in os.environ:
            issues.append(
                _issue("envVars", f"`{name}` is not set on this machine, so it cannot be copied", line)
            )
    return issues


def _check_scalars(launch: LaunchConfig) -> list[ConfigIssue]:
    issues: list[ConfigIssue] = []
    if launch.project_id and not PROJECT_ID.fullmatch(launch.project_id):
        issues.append(_issue("projectId", "a project ID is 20 characters of [0-9a-z]"))
    if launch.instance_type and launch.instance_type not in INSTANCE_TYPES:
        known = ", ".join(INSTANCE_TYPES)
        issues.append(_issue("instanceType", f"not a known instance type ({known})", severity="warning"))
    if launch.python_version and not PYTHON_VERSION.fullmatch(launch.python_version):
        issues.append(_issue("pythonVersion", "write the version as `3.X`, e.g. `3.11`"))
    if (launch.docker_username or launch.docker_password_secret) and not launch.docker_image:
        issues.append(_issue("dockerImage", "the image is required when a registry user is given"))
    if not launch.program and not launch.config_file:
        issues.append(_issue("program", "choose the Python file to run (or a configuration file)"))
    return issues


def validate_launch(launch: LaunchConfig) -> list[ConfigIssue]:
    """Field-level checks of the form that need no disk access; each issue names its field."""
    return [
        *_check_scalars(launch),
        *_check_path_lines("inputs", launch.inputs, resource_ids=False),
        *_check_path_lines("outputs", launch.outputs, resource_ids=False),
        *_check_path_lines("s3Mounts", launch.s3_mounts, resource_ids=True),
        *_check_path_lines("datasets", launch.datasets, resource_ids=True),
        *_check_env_lines(launch.env_vars),
    ]


def _variable_paths(values: list[str]) -> list[VariablePath]:
    return [
        VariablePath(path=path, var=var) for path, var in (_split_var(text) for _, text in _lines(values))
    ]


def _env_vars(values: list[str]) -> list[EnvVar]:
    result: list[EnvVar] = []
    for _, text in _lines(values):
        name, sep, value = text.partition(":")
        if sep:
            result.append(EnvVar(name=name.strip(), value=value.strip()))
        else:
            result.append(EnvVar(name=name, value=os.environ.get(name, ""), from_local=True))
    return result


def _command(launch: LaunchConfig, working_dir: Path) -> str:
    program = Path(launch.program)
    if program.is_absolute():
        try:
            program = program.relative_to(working_dir)
        except ValueError:
            raise ConfigError(
                [_issue("program", "the program must be inside the working directory")]
            ) from None
    words = ["python", PurePosixPath(program).as_posix(), *launch.args]
    return " ".join(shlex.quote(word) for word in words)


def _docker(launch: LaunchConfig, base: str | DockerImage | None) -> str | DockerImage | None:
    if not launch.docker_image:
        return base
    if not (launch.docker_username or launch.docker_password_secret):
        return launch.docker_image
    return DockerImage(
        image=launch.docker_image,
        username=launch.docker_username or None,
        password_secret_id=launch.docker_password_secret or None,
    )


def _python(launch: LaunchConfig, base: PythonSettings | None, from_file: bool) -> PythonSettings | None:
    form_sets_python = bool(
        launch.python_build
        or launch.python_version
        or launch.requirements_file
        or launch.extra_root_paths
        or launch.extra_index_urls
        or launch.no_dependencies
    )
    if from_file and not form_sets_python:
        return base
    settings = (base or PythonSettings()).model_copy(deep=True)
    settings.written_as_auto = False
    settings.type = launch.python_build or settings.type
    if settings.type == "manual":
        settings.version = launch.python_version or settings.version
        settings.requirements_file = launch.requirements_file or settings.requirements_file
    settings.root_paths = list(launch.extra_root_paths) or settings.root_paths
    if launch.extra_index_urls or launch.no_dependencies:
        pip = settings.pip or PipOptions()
        pip.extra_index_urls = list(launch.extra_index_urls) or pip.extra_index_urls
        pip.no_deps = launch.no_dependencies or pip.no_deps
        settings.pip = pip
    return settings


def _merge(launch: LaunchConfig, base: JobConfig | None, working_dir: Path) -> JobConfig:
    config = base.model_copy(deep=True) if base else JobConfig(cmd="")
    if launch.program:
        config.cmd = _command(launch, working_dir)
    config.name = launch.job_name or config.name
    config.desc = launch.job_desc or config.desc
    for field, attribute in (
        ("inputs", "inputs"),
        ("outputs", "outputs"),
        ("s3_mounts", "s3_mounts"),
        ("datasets", "datasets"),
    ):
        lines = getattr(launch, field)
        if _lines(lines):
            setattr(config, attribute, _variable_paths(lines))
    if _lines(launch.env_vars):
        config.env.vars = _env_vars(launch.env_vars)
    config.env = EnvConfig(
        vars=config.env.vars,
        docker=_docker(launch, config.env.docker),
        python=_python(launch, config.env.python, base is not None),
    )
    if launch.instance_type:
        config.cloud_instance_types = [launch.instance_type]
    return config


def _form_issue(issue: ConfigIssue) -> ConfigIssue:
    field = next((name for prefix, name in _FIELD_OF_KEY if issue.key.startswith(prefix)), "configFile")
    return issue.model_copy(
        update={
            "key": field,
            "message": f"{issue.key}: {issue.message}",
            "line": 0,
            "column": 0,
            "end_line": 0,
            "end_column": 0,
        }
    )


def launch_to_job_config(launch: LaunchConfig, *, base_dir: Path) -> JobConfig:
    """The job the form describes, validated like a config.yaml; raises ConfigError keyed by form field.

    `workingDirectory` (default `base_dir`) is where paths are resolved. Merge rule with `configFile`:
    the file is loaded first; every form field that is filled in replaces the file's value (a filled list
    replaces the whole list; `program`+`args` replace `cmd`; any Python field switches to the form's Python
    settings on top of the file's); empty fields keep the file's value. Without a config file the Python
    environment defaults to `auto`.
    """
    issues = [issue for issue in validate_launch(launch) if issue.severity == "error"]
    if issues:
        raise ConfigError(issues, source="launch configuration")
    working_dir = base_dir / (launch.working_directory or ".")
    base: JobConfig | None = None
    if launch.config_file:
        try:
            base = load_config(working_dir / launch.config_file, base_dir=working_dir).config
        except ConfigError as error:
            raise ConfigError(
                [
                    issue.model_copy(
                        update={"key": "configFile", "message": issue.describe(launch.config_file)}
                    )
                    for issue in error.errors
                ],
                source="launch configuration",
            ) from None
    merged = _merge(launch, base, working_dir)
    try:
        return parse_config_text(
            dump_config(merged), source="launch configuration", base_dir=working_dir
        ).config
    except ConfigError as error:
        raise ConfigError(
            [_form_issue(issue) for issue in error.errors], source="launch configuration"
        ) from None


def _path_lines(items: list[VariablePath]) -> list[str]:
    return [item.path if item.var is None else f"{item.path}={item.var}" for item in items]


def _program_args(cmd: str, program: str) -> list[str]:
    try:
        words = shlex.split(cmd)
    except ValueError:
        words = cmd.split()
    if len(words) >= 2 and is_common_python_name(words[0]) and words[1] == program:
        return words[2:]
    if program in words:
        return words[words.index(program) + 1 :]
    return words[1:]


def job_config_to_launch(config: JobConfig, *, program: str | Path, working_dir: Path) -> LaunchConfig:
    """The form filled from `config`; `program` (absolute, or relative to `working_dir`) is the script run.

    `args` are the words of `cmd` after the program; anything `LaunchConfig` cannot express (args, graceful
    shutdown, storage, output datasets...) stays in the config file, so save it with `configFile` set.
    """
    program_path = Path(program)
    if program_path.is_absolute() and program_path.is_relative_to(working_dir):
        program_path = program_path.relative_to(working_dir)
    relative_program = PurePosixPath(program_path).as_posix()
    docker, python = config.env.docker, config.env.python
    pip = python.pip if python else None
    return LaunchConfig(
        program=relative_program,
        args=_program_args(config.cmd, relative_program),
        working_directory=str(working_dir),
        inputs=_path_lines(config.inputs),
        outputs=_path_lines(config.outputs),
        instance_type=config.cloud_instance_types[0] if config.cloud_instance_types else None,
        s3_mounts=_path_lines(config.s3_mounts),
        datasets=_path_lines(config.datasets),
        env_vars=[var.name if var.from_local else f"{var.name}:{var.value}" for var in config.env.vars or []],
        docker_image=docker if isinstance(docker, str) else docker.image if docker else None,
        docker_username=docker.username if isinstance(docker, DockerImage) else None,
        docker_password_secret=docker.password_secret_id if isinstance(docker, DockerImage) else None,
        python_build=python.type if python else None,
        python_version=python.version or None if python else None,
        requirements_file=python.requirements_file or None if python else None,
        extra_root_paths=list(python.root_paths or []) if python else [],
        extra_index_urls=list(pip.extra_index_urls) if pip else [],
        no_dependencies=pip.no_deps if pip else False,
        job_name=config.name,
        job_desc=config.desc,
    )
