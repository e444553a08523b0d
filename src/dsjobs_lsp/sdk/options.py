"""The SDK's arguments in the core's terms: fork overrides (the reference's `fork_job` arguments), and the
`RunRequest` of `SDK.run` (a config.yaml, or the job form's fields as keyword arguments)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dsjobs_lsp.core.config import LaunchConfig
from dsjobs_lsp.core.jobs.fork import ForkError, ForkOverrides
from dsjobs_lsp.core.jobs.request import RunRequest

PathLike = str | Path
DockerOption = str | Mapping[str, Any]
PathsOption = Sequence[str] | Mapping[str, str]
EnvOption = Sequence[str] | Mapping[str, str]


def absolute(path: PathLike | None) -> Path | None:
    """`path` made absolute against the caller's current folder (None stays None)."""
    return Path(path).resolve() if path is not None else None


def fork_overrides(
    *,
    args: Mapping[str, str] | None,
    vars: Mapping[str, str] | None,
    env_vars: Mapping[str, str] | None,
    name: str | None,
    desc: str | None,
    docker: DockerOption | None,
    working_storage: Mapping[str, Any] | None,
    cloud_instance_types: Sequence[str] | None,
) -> ForkOverrides:
    """`ForkOverrides` from the reference SDK's `fork_job` arguments (same meanings, same errors)."""
    overrides = ForkOverrides(
        args=_strings(args),
        vars=_strings(vars),
        env_vars=_strings(env_vars),
        name=name,
        desc=desc,
        cloud_instance_types=list(cloud_instance_types or []),
    )
    if docker:
        _apply_docker(overrides, docker)
    if working_storage:
        overrides.working_storage_type = str(working_storage.get("type", "SSD"))
        if "size" not in working_storage:
            raise ForkError("working_storage: the size is not set (e.g. {'size': '150GB'})")
        overrides.working_storage_size = str(working_storage["size"])
    return overrides


def _strings(values: Mapping[str, Any] | None) -> dict[str, str]:
    return {str(key): str(value) for key, value in (values or {}).items()}


def _apply_docker(overrides: ForkOverrides, docker: DockerOption) -> None:
    """`docker`: an image resource id, or `{'image': url, 'username': ..., 'password': {'secret-id': ...}}`
    (optionally wrapped as `{'docker': ...}`, as in config.yaml's `env` section)."""
    spec: Any = docker.get("docker", docker) if isinstance(docker, Mapping) else docker
    if isinstance(spec, str):
        overrides.docker_image_id = spec
        return
    if not isinstance(spec, Mapping) or "image" not in spec:
        raise ForkError(f"invalid docker image format: {docker!r}")
    overrides.docker_image_url = str(spec["image"])
    overrides.docker_image_username = spec.get("username")
    password = spec.get("password")
    if isinstance(password, str):
        raise ForkError(
            "Plain text password is prohibited. Use DataSphere secrets instead of plain passwords: "
            "{'password': {'secret-id': 'NAME'}}"
        )
    if password is not None:
        if not isinstance(password, Mapping) or "secret-id" not in password:
            raise ForkError("unexpected value for docker password: expected {'secret-id': 'NAME'}")
        overrides.docker_image_password_secret_id = str(password["secret-id"])


def launch_config(
    program: str | Path,
    *,
    args: Sequence[str] | None,
    inputs: PathsOption | None,
    outputs: PathsOption | None,
    env_vars: EnvOption | None,
    working_dir: Path,
    form: Mapping[str, Any],
) -> LaunchConfig:
    """The job form for `program`: `inputs`/`outputs` as `["path=VAR", ...]` or `{path: VAR}`, `env_vars`
    as `["NAME:value", ...]` or `{NAME: value}`, any other form field by name (`instance_type="g1.1"`,
    `python_build="manual"`, `requirements_file=...`, `job_name=...`; see `LaunchConfig`)."""
    unknown = sorted(set(form) - set(LaunchConfig.model_fields) - _aliases())
    if unknown:
        raise TypeError(f"unknown job form field(s): {', '.join(unknown)} (see core.config.LaunchConfig)")
    data: dict[str, Any] = {
        "python_build": "auto",
        **form,
        "program": str(Path(program).resolve()),
        "args": [str(arg) for arg in args or []],
        "working_directory": str(working_dir),
        "inputs": _path_lines(inputs),
        "outputs": _path_lines(outputs),
        "env_vars": _env_lines(env_vars),
    }
    return LaunchConfig.model_validate(data)


def _aliases() -> set[str]:
    return {field.alias for field in LaunchConfig.model_fields.values() if field.alias}


def _path_lines(values: PathsOption | None) -> list[str]:
    if values is None:
        return []
    if isinstance(values, str):
        return [values]
    if isinstance(values, Mapping):
        return [f"{path}={var}" if var else str(path) for path, var in values.items()]
    return [str(value) for value in values]


def _env_lines(values: EnvOption | None) -> list[str]:
    if values is None:
        return []
    if isinstance(values, str):
        return [values]
    if isinstance(values, Mapping):
        return [f"{name}:{value}" for name, value in values.items()]
    return [str(value) for value in values]


@dataclass(frozen=True)
class RunSpec:
    """What `SDK.run` was given; `request()` turns it into the core's `RunRequest`."""

    config: PathLike | None
    program: PathLike | None
    args: Sequence[str] | None
    inputs: PathsOption | None
    outputs: PathsOption | None
    env_vars: EnvOption | None
    working_dir: PathLike | None
    project_id: str | None
    interpreter: PathLike | None
    wait: bool
    form: Mapping[str, Any]

    def request(self) -> RunRequest:
        """The run of a config file (paths relative to `working_dir`, default the current folder) or of a
        program (paths relative to `working_dir`, default the program's folder); a `TypeError` for neither,
        both, or form fields given with a config file."""
        if (self.config is None) == (self.program is None):
            raise TypeError("run() needs either config=... (a config.yaml) or program=... (a Python file)")
        if self.config is not None:
            return self._config_request(self.config)
        assert self.program is not None
        entry = Path(self.program).resolve()
        folder = Path(self.working_dir).resolve() if self.working_dir is not None else entry.parent
        launch = launch_config(
            entry,
            args=self.args,
            inputs=self.inputs,
            outputs=self.outputs,
            env_vars=self.env_vars,
            working_dir=folder,
            form=self.form,
        )
        return self._request(folder, launch=launch, entry_file=entry)

    def _config_request(self, config: PathLike) -> RunRequest:
        if self.args or self.inputs or self.outputs or self.env_vars or self.form:
            raise TypeError(
                "run(config=...) takes the job's settings from the file; pass program=... to give them "
                "as arguments"
            )
        folder = Path(self.working_dir or Path.cwd()).resolve()
        return self._request(folder, config_path=(folder / config).resolve())

    def _request(self, folder: Path, **what: Any) -> RunRequest:
        python = Path(self.interpreter) if self.interpreter is not None else None
        return RunRequest(
            working_dir=folder, project_id=self.project_id, interpreter=python, wait=self.wait, **what
        )
