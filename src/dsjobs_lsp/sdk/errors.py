"""The exception a failed job raises from `Job.wait()`, `SDK.run()` and `SDK.attach()`."""

from __future__ import annotations

from dsjobs_lsp.core.jobs.models import JobStatus


class JobFailedError(RuntimeError):
    """A job ended without success: its `status`, the program's `exit_code` (None if it never ran).

    `return_code` is the same number, under the name the reference SDK's `ProgramError` uses.
    """

    def __init__(self, job_id: str, status: JobStatus, exit_code: int | None, details: str = "") -> None:
        self.job_id = job_id
        self.status = status
        self.exit_code = exit_code
        self.details = details
        parts = [f"job {job_id} ended with status {status.value}"]
        if exit_code:
            parts.append(f"program returned code {exit_code}")
        if details:
            parts.append(details)
        super().__init__("; ".join(parts))

    @property
    def return_code(self) -> int | None:
        """The program's exit code (the reference's `ProgramError.return_code`)."""
        return self.exit_code
