"""What the toolkit knows about one job: the record kept in launch history and sent to the editor."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

from pydantic import BaseModel, Field

from dsjobs_lsp.backends.endpoints import BackendKind


class JobStatus(str, Enum):
    """DataSphere's `JobStatus` enum, by name (prints as its value, like a 3.11 `StrEnum`)."""

    UNSPECIFIED = "JOB_STATUS_UNSPECIFIED"
    CREATING = "CREATING"
    PREPARING = "PREPARING"
    EXECUTING = "EXECUTING"
    UPLOADING_OUTPUT = "UPLOADING_OUTPUT"
    CANCELLING = "CANCELLING"
    SUCCESS = "SUCCESS"
    ERROR = "ERROR"
    CANCELLED = "CANCELLED"

    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)

    @property
    def finished(self) -> bool:
        """True once the job can no longer change."""
        return self in (JobStatus.SUCCESS, JobStatus.ERROR, JobStatus.CANCELLED)


class JobRecord(BaseModel):
    """One launch, as shown in the history panel and `dsjobs list`."""

    id: str
    backend: BackendKind
    project_id: str
    name: str | None = None
    desc: str | None = None
    status: JobStatus = JobStatus.CREATING
    status_details: str = ""
    created_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    exit_code: int | None = None
    link: str | None = None
    working_dir: str | None = None
    entry_file: str | None = None
    config_path: str | None = None
    log_offset: int = Field(default=0, description="Last ReadLogs offset seen; attach resumes here.")
    outputs_downloaded: bool = False
    operation_id: str | None = Field(
        default=None, description="The Execute operation's id; attach reads the exit code from it."
    )

    @property
    def finished(self) -> bool:
        """True once the job can no longer change."""
        return self.status.finished
