"""What a run is asked to do (`RunRequest`) and what came of it (`RunOutcome`)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from dsjobs_lsp.core.config import JobConfig, LaunchConfig
from dsjobs_lsp.core.jobs.models import JobRecord, JobStatus


class RunRequest(BaseModel):
    """One job to start. Give exactly one of `launch` (the form), `config_path` (a config.yaml) or `config`.

    Paths in the configuration are relative to `working_dir`; outputs are downloaded there too.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    working_dir: Path
    launch: LaunchConfig | None = None
    config_path: Path | None = None
    config: JobConfig | None = None
    entry_file: Path | None = None
    project_id: str | None = None
    interpreter: Path | None = Field(
        default=None, description="Python used for the analysis (default: ours)."
    )
    wait: bool = Field(default=True, description="False: return right after Execute (`--async`).")


class RunOutcome(BaseModel):
    """The end of a run or an attach. `exit_code` is the program's (None when it never ran or is unknown)."""

    job_id: str | None = None
    operation_id: str | None = None
    status: JobStatus = JobStatus.UNSPECIFIED
    exit_code: int | None = None
    record: JobRecord | None = None
    downloaded: list[Path] = Field(default_factory=list)

    @property
    def succeeded(self) -> bool:
        """The job ended with SUCCESS and exit code 0."""
        return self.status == JobStatus.SUCCESS and (self.exit_code or 0) == 0
