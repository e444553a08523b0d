"""The job configuration (`config.yaml`) as pydantic models: python attribute names, YAML keys as aliases."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

DEFAULT_INSTANCE_TYPE = "c1.4"
DS_PROJECT_HOME = "DS_PROJECT_HOME"
RESERVED_VARIABLES = frozenset({DS_PROJECT_HOME})
ATTACH_PROJECT_DISK = "attach-project-disk"
SHUTDOWN_SIGNALS: dict[str, int] = {"SIGHUP": 1, "SIGINT": 2, "SIGUSR1": 10, "SIGUSR2": 12, "SIGTERM": 15}
VAR_REFERENCE = re.compile(r"\$\{(.+?)}")

ShutdownSignal = Literal["SIGTERM", "SIGINT", "SIGHUP", "SIGUSR1", "SIGUSR2"]


class _Model(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="forbid")


class VariablePath(_Model):
    """A path (or resource ID) with an optional variable name; `var` may be "" when written as `path: ''`."""

    path: str
    var: str | None = None


class PythonModule(_Model):
    """A root module of the job's Python program: a script path, or a module name (`python -m name`)."""

    model_config = ConfigDict(frozen=True)

    path: str
    is_name: bool = False


class EnvVar(_Model):
    """One `env.vars` entry; `from_local` entries (`- NAME`) took their value from the local environment."""

    name: str
    value: str
    from_local: bool = False


class DockerImage(_Model):
    """`env.docker` as a mapping: image URL, registry user and the DataSphere secret holding the password."""

    image: str
    username: str | None = None
    password_secret_id: str | None = Field(default=None, alias="password-secret-id")


class PipOptions(_Model):
    """`env.python.pip`."""

    index_url: str | None = Field(default=None, alias="index-url")
    extra_index_urls: list[str] = Field(default_factory=list, alias="extra-index-urls")
    trusted_hosts: list[str] = Field(default_factory=list, alias="trusted-hosts")
    no_deps: bool = Field(default=False, alias="no-deps")


class PythonSettings(_Model):
    """`env.python`: `auto` (everything detected) or `manual` (version, requirements, local paths given).

    As in the reference, an empty `version`/`requirements-file` is kept as "" (it counts as set for
    `is_fully_manual`, but carries no value).
    """

    type: Literal["auto", "manual"] = "auto"
    version: str | None = None
    requirements_file: str | None = Field(default=None, alias="requirements-file")
    root_paths: list[str] | None = Field(default=None, alias="root-paths")
    local_paths: list[str] | None = Field(default=None, alias="local-paths")
    pip: PipOptions | None = None
    written_as_auto: bool = Field(default=False, exclude=True, description="Written as `python: auto`.")

    @property
    def is_fully_manual(self) -> bool:
        """Version, requirements and local paths all given: nothing is detected from the entry script."""
        return all(x is not None for x in (self.version, self.requirements_file, self.local_paths))


class EnvConfig(_Model):
    """`env`: variables, Docker image (resource ID / URL string, or a mapping) and Python settings."""

    vars: list[EnvVar] | None = None
    vars_as_mapping: bool = Field(
        default=False, exclude=True, description="Written in the deprecated dict form."
    )
    docker: str | DockerImage | None = None
    python: PythonSettings | None = None

    def resolved_vars(self) -> dict[str, str] | None:
        """Variables as the job receives them (None when `env.vars` is absent or empty)."""
        return None if self.vars is None else {var.name: var.value for var in self.vars}


class WorkingStorage(_Model):
    """`working-storage`: extended SSD storage, size rounded up to whole GiB."""

    type: Literal["SSD"] = "SSD"
    size_gb: int


class GracefulShutdown(_Model):
    """`graceful-shutdown`: the signal sent on cancel and how long to wait before killing."""

    signal: ShutdownSignal = "SIGTERM"
    timeout: timedelta | None = None

    @property
    def signal_number(self) -> int:
        """The POSIX number the service uses for `signal`."""
        return SHUTDOWN_SIGNALS[self.signal]


class OutputDataset(_Model):
    """One `output-datasets` entry: a dataset created from the job's `${var}` folder."""

    name: str
    description: str = ""
    labels: dict[str, str] = Field(default_factory=dict)
    var: str
    size_gb: int


class SparkSettings(_Model):
    """`spark`: the Spark connector to attach."""

    connector: str


class JobConfig(_Model):
    """Every key of `config.yaml` (SPEC §4), with the meaning the reference CLI gives it.

    `root_modules` is derived, not written: the job's Python entry modules (found from `cmd` and
    `env.python.root-paths`) when an automatic/partly manual Python environment is used. The reference uploads
    those that are paths as extra inputs; `upload_inputs()` gives that list.
    """

    name: str | None = None
    desc: str | None = None
    cmd: str
    args: dict[str, str] = Field(default_factory=dict)
    inputs: list[VariablePath] = Field(default_factory=list)
    outputs: list[VariablePath] = Field(default_factory=list)
    s3_mounts: list[VariablePath] = Field(default_factory=list, alias="s3-mounts")
    datasets: list[VariablePath] = Field(default_factory=list)
    env: EnvConfig = Field(default_factory=EnvConfig)
    cloud_instance_types: list[str] = Field(
        default_factory=lambda: [DEFAULT_INSTANCE_TYPE], alias="cloud-instance-types"
    )
    flags: list[str] = Field(default_factory=list)
    working_storage: WorkingStorage | None = Field(default=None, alias="working-storage")
    graceful_shutdown: GracefulShutdown | None = Field(default=None, alias="graceful-shutdown")
    output_datasets: list[OutputDataset] = Field(default_factory=list, alias="output-datasets")
    spark: SparkSettings | None = None
    root_modules: list[PythonModule] = Field(default_factory=list, exclude=True)

    @property
    def attach_project_disk(self) -> bool:
        """The `attach-project-disk` flag: the project disk is mounted at `${DS_PROJECT_HOME}`."""
        return ATTACH_PROJECT_DISK in self.flags

    def variables(self) -> list[str]:
        """Every name `${...}` may use, in the reference's order (s3/dataset IDs count too)."""
        names = [item.var for item in (*self.inputs, *self.outputs) if item.var is not None]
        for resources in (self.s3_mounts, self.datasets):
            names += [item.var for item in resources if item.var is not None]
            names += [item.path for item in resources]
        return names + list(self.args) + [dataset.var for dataset in self.output_datasets]

    def resolved_cmd(self) -> str:
        """`cmd` as sent to the service: `${VAR}` of s3 mounts and datasets replaced by `${<resource id>}`.

        Raises ValueError for an empty command, an undeclared `${VAR}`, or `${DS_PROJECT_HOME}` without
        the `attach-project-disk` flag (the reference's `process_cmd`).
        """
        if not self.cmd:
            raise ValueError("empty `cmd`")
        declared = set(self.variables())
        resource_ids = {item.var: item.path for item in (*self.s3_mounts, *self.datasets)}
        cmd = self.cmd
        for var in VAR_REFERENCE.findall(self.cmd):
            if var in RESERVED_VARIABLES:
                continue
            if var not in declared:
                raise ValueError(f"`cmd` uses variable `{var}` that is not declared in the config")
            if var in resource_ids:
                cmd = cmd.replace(f"${{{var}}}", f"${{{resource_ids[var]}}}")
        if not self.attach_project_disk and f"${{{DS_PROJECT_HOME}}}" in self.cmd:
            raise ValueError(f"{DS_PROJECT_HOME} is unavailable without the `{ATTACH_PROJECT_DISK}` flag")
        return cmd.strip()

    def upload_inputs(self) -> list[VariablePath]:
        """Inputs as uploaded: the declared ones, then root modules given as paths."""
        extra = [VariablePath(path=module.path) for module in self.root_modules if not module.is_name]
        return [*self.inputs, *extra]
