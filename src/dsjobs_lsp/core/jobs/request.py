"""What a run is asked to do (`RunRequest`) and what came of it (`RunOutcome`).

Plain dataclasses: our own code builds them from parts already validated (the form and config.yaml are
pydantic models), and a command that only lists or attaches never loads the config model through them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from dsjobs_lsp.core.jobs.models import JobStatus

if TYPE_CHECKING:
    from dsjobs_lsp.core.config import JobConfig, LaunchConfig
    from dsjobs_lsp.core.jobs.models import JobRecord


@dataclass
class RunRequest:
    """One job to start. Give exactly one of `launch` (the form), `config_path` (a config.yaml) or `config`.

    Paths in the configuration are relative to `working_dir`; outputs are downloaded there too.
    `interpreter`: the Python used for the analysis (default: ours); `wait=False`: return right after
    Execute (`--async`).
    """

    working_dir: Path
    launch: LaunchConfig | None = None
    config_path: Path | None = None
    config: JobConfig | None = None
    entry_file: Path | None = None
    project_id: str | None = None
    interpreter: Path | None = None
    wait: bool = True


@dataclass
class RunOutcome:
    """The end of a run or an attach. `exit_code` is the program's (None when it never ran or is unknown)."""

    job_id: str | None = None
    operation_id: str | None = None
    status: JobStatus = JobStatus.UNSPECIFIED
    exit_code: int | None = None
    record: JobRecord | None = None
    downloaded: list[Path] = field(default_factory=list)

    @property
    def succeeded(self) -> bool:
        """The job ended with SUCCESS and exit code 0."""
        return self.status == JobStatus.SUCCESS and (self.exit_code or 0) == 0
