"""Payloads of the dsjobs LSP protocol (docs/protocol.md): command arguments, results and notifications.

Every model speaks camelCase JSON on the wire (aliases) and snake_case in Python. `LaunchConfig` payloads are
kept as plain dicts here and validated by `core.config.LaunchConfig` where they are used, so this module (and
the server's `initialize`) never imports the core.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from dsjobs_lsp.backends.endpoints import BackendKind
from dsjobs_lsp.core.jobs.models import JobRecord

Severity = Literal["error", "warning"]
ConsoleLevel = Literal["info", "warning", "error"]


class Payload(BaseModel):
    """Base of every wire payload: camelCase aliases, unknown keys ignored, populate by either name."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")

    def wire(self) -> dict[str, Any]:
        """The JSON-ready camelCase dict sent to the client."""
        return self.model_dump(mode="json", by_alias=True)


# -- initialization and settings ---------------------------------------------------------------------------


class ServerOptions(Payload):
    """`initializationOptions`, and the settings of `workspace/didChangeConfiguration`."""

    storage_path: str | None = None
    backend: BackendKind | None = None
    project_id: str | None = None
    yc_path: str | None = None
    local_data_dir: str | None = None
    service_account_key_file: str | None = None


# -- shared types ------------------------------------------------------------------------------------------


class Position(Payload):
    """0-based line and character, as in LSP."""

    line: int
    character: int


class Range(Payload):
    """A span of a file."""

    start: Position
    end: Position


class FieldError(Payload):
    """One finding about the form (`field` = form field) or a config file (`field` = dotted key)."""

    field: str
    message: str
    severity: Severity = "error"
    line: int | None = None  # 0-based line of a multi-line form field (inputs, envVars...)
    file: str | None = None
    range: Range | None = None


class JobPayload(JobRecord):
    """A `JobRecord` in camelCase (the `Job` type of the protocol)."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)

    @classmethod
    def of(cls, record: JobRecord) -> JobPayload:
        """Wrap a core record."""
        return cls.model_validate(record.model_dump())

    def wire(self) -> dict[str, Any]:
        """The JSON-ready camelCase dict sent to the client."""
        return self.model_dump(mode="json", by_alias=True)


class ResolvedConfig(Payload):
    """Result of `dsjobs.resolveConfig` / `dsjobs.loadConfig`: the form model and how it was obtained."""

    config: dict[str, Any]
    source: str
    errors: list[FieldError] = Field(default_factory=list)
    launch_entries: list[str] = Field(default_factory=list)


# -- command arguments -------------------------------------------------------------------------------------


class NoArgs(Payload):
    """Commands without parameters."""


class SetTokenArgs(Payload):
    """`dsjobs.setToken`."""

    token: str = Field(min_length=1, repr=False)


class ResolveConfigArgs(Payload):
    """`dsjobs.resolveConfig`."""

    file: str
    source: str | None = None


class ValidateConfigArgs(Payload):
    """`dsjobs.validateConfig`."""

    config: dict[str, Any]


class RunFileArgs(Payload):
    """`dsjobs.runFile`."""

    file: str
    config: dict[str, Any] | None = None
    run_id: str | None = None


class CancelArgs(Payload):
    """`dsjobs.cancel`."""

    job_id: str
    graceful: bool = False


class JobIdArgs(Payload):
    """`dsjobs.attach`, `dsjobs.jobLink`."""

    job_id: str


class HistoryArgs(Payload):
    """`dsjobs.history`."""

    project_id: str | None = None


class SaveLaunchConfigArgs(Payload):
    """`dsjobs.saveLaunchConfig`."""

    config: dict[str, Any]
    workspace_folder: str


class ExportConfigArgs(Payload):
    """`dsjobs.exportConfig`."""

    config: dict[str, Any]
    path: str


class LoadConfigArgs(Payload):
    """`dsjobs.loadConfig`."""

    path: str
    name: str | None = None


class LocalResourcesArgs(Payload):
    """`dsjobs.localResources`."""

    project_id: str | None = None


# -- command results ---------------------------------------------------------------------------------------


class OkResult(Payload):
    """`{ok: true}`."""

    ok: bool = True


class ValidateResult(Payload):
    """Result of `dsjobs.validateConfig`."""

    errors: list[FieldError]


class RunResult(Payload):
    """Result of `dsjobs.runFile` and `dsjobs.attach`."""

    job_id: str
    run_id: str


class JobIdResult(Payload):
    """Result of `dsjobs.cancel`."""

    job_id: str


class HistoryResult(Payload):
    """Result of `dsjobs.history`."""

    jobs: list[JobPayload]


class JobLinkResult(Payload):
    """Result of `dsjobs.jobLink`."""

    job_id: str
    link: str | None


class SaveLaunchResult(Payload):
    """Result of `dsjobs.saveLaunchConfig`."""

    path: str
    created: bool


class PathResult(Payload):
    """Result of `dsjobs.exportConfig`."""

    path: str


class LocalDatasetPayload(Payload):
    """A dataset of the local backend."""

    id: str
    name: str
    size: int


class LocalConnectorPayload(Payload):
    """An S3 connector of the local backend (the folder it maps)."""

    id: str
    path: str


class LocalResourcesResult(Payload):
    """Result of `dsjobs.localResources` (empty lists when the backend is the cloud)."""

    backend: BackendKind
    project_id: str | None = None
    datasets: list[LocalDatasetPayload] = Field(default_factory=list)
    s3_mounts: list[LocalConnectorPayload] = Field(default_factory=list)


# -- notifications -----------------------------------------------------------------------------------------


class ConsoleNotification(Payload):
    """`dsjobs/console`."""

    job_id: str | None
    run_id: str
    line: str
    level: ConsoleLevel = "info"


class LogNotification(Payload):
    """`dsjobs/log`."""

    job_id: str
    stream: Literal["stdout", "stderr", "system"]
    lines: list[str]


class JobChangedNotification(Payload):
    """`dsjobs/jobChanged`."""

    job: JobPayload


class ProgressNotification(Payload):
    """`dsjobs/progress`."""

    job_id: str | None
    run_id: str
    stage: str
    message: str
    done: int
    total: int | None
    percent: int | None
    finished: bool


class RunEndedNotification(Payload):
    """`dsjobs/runEnded`: a run or attach is over (outputs downloaded, or it failed)."""

    run_id: str
    job_id: str | None
    status: str | None
    exit_code: int | None
    succeeded: bool
    error: str | None = None


# -- command table -----------------------------------------------------------------------------------------

COMMAND_ARGS: dict[str, type[Payload]] = {
    "dsjobs.setToken": SetTokenArgs,
    "dsjobs.removeToken": NoArgs,
    "dsjobs.resolveConfig": ResolveConfigArgs,
    "dsjobs.validateConfig": ValidateConfigArgs,
    "dsjobs.runFile": RunFileArgs,
    "dsjobs.cancel": CancelArgs,
    "dsjobs.attach": JobIdArgs,
    "dsjobs.history": HistoryArgs,
    "dsjobs.jobLink": JobIdArgs,
    "dsjobs.saveLaunchConfig": SaveLaunchConfigArgs,
    "dsjobs.exportConfig": ExportConfigArgs,
    "dsjobs.loadConfig": LoadConfigArgs,
    "dsjobs.localResources": LocalResourcesArgs,
}
"""Every command id the server registers, with the model of its single argument."""

CONSOLE = "dsjobs/console"
LOG = "dsjobs/log"
JOB_CHANGED = "dsjobs/jobChanged"
PROGRESS = "dsjobs/progress"
RUN_ENDED = "dsjobs/runEnded"
