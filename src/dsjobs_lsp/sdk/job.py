"""`Job`: a handle on one job, as the reference SDK's `JobWrapper` (`id`, `operation_id`, `done`, `wait()`)
plus what it lacks (`status`, `exit_code`, `cancel()`, `download_files()`, async twins)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from yandex.cloud.datasphere.v2.jobs import jobs_pb2

from dsjobs_lsp.core.jobs.models import JobRecord, JobStatus
from dsjobs_lsp.core.jobs.records import status_of
from dsjobs_lsp.sdk.loop import PrivateLoop, blocking
from dsjobs_lsp.sdk.options import absolute

if TYPE_CHECKING:
    from dsjobs_lsp.sdk.client import SDK


class Job:
    """One job of the SDK's backend. Made by `SDK.fork_job`, `SDK.run`, `SDK.get_job` and `SDK.attach`.

    `done` and `status` ask the backend each time; `job` is the last answer (`jobs_pb2.Job`).
    """

    def __init__(
        self,
        sdk: SDK,
        job_id: str,
        *,
        operation_id: str | None = None,
        job: jobs_pb2.Job | None = None,
        record: JobRecord | None = None,
    ) -> None:
        self._sdk = sdk
        self.job_id = job_id
        self._operation_id = operation_id or (record.operation_id if record else None)
        self.job = job
        self.record = record
        self.outputs: list[Path] = []
        """Files the last `wait()`/`await_done()` downloaded."""

    def __repr__(self) -> str:
        status = self.record.status.value if self.record else "?"
        return f"Job(id={self.job_id!r}, status={status!r})"

    @property
    def id(self) -> str:
        """The job's id."""
        return self.job_id

    @property
    def operation_id(self) -> str:
        """The id of the operation that executes the job (jobs this process started or saw executing).

        Raises `NotImplementedError`, as the reference does, when it is not known.
        """
        if self._operation_id is None:
            raise NotImplementedError("`operation_id` is not available")
        return self._operation_id

    @property
    def status(self) -> JobStatus:
        """The job's current status (asks the backend)."""
        return status_of(self.refresh())

    @property
    def done(self) -> bool:
        """True once the job has ended: SUCCESS, ERROR or CANCELLED (asks the backend)."""
        return self.status.finished

    @property
    def exit_code(self) -> int | None:
        """The program's exit code once known (after `wait()`), else None."""
        return self.record.exit_code if self.record else None

    @property
    def loop(self) -> PrivateLoop:
        """The private event loop of the job's SDK."""
        return self._sdk.loop

    async def arefresh(self) -> jobs_pb2.Job:
        """Ask the backend about the job now (`refresh`, or awaited: `arefresh`); also kept in `job`."""
        self.job = (await self._sdk.aget_job(self.job_id)).job
        assert self.job is not None
        return self.job

    refresh = blocking(arefresh, "refresh")

    async def await_done(self, output_dir: str | Path | None = None) -> None:
        """Follow the job to its end, printing its log as the CLI does, and download its outputs (`wait`, or
        awaited: `await_done`).

        Outputs go to `output_dir` (default: the folder the job was started from). Raises `JobFailedError`
        (with `status` and `exit_code`) unless the job succeeded. Ctrl-C stops following; the job keeps
        running (`cancel()` stops it).
        """
        outcome = await self._sdk._on_loop(self._sdk._follow(self.job_id, absolute(output_dir)))
        self.record = outcome.record or self.record
        self.outputs = list(outcome.downloaded)
        self._operation_id = self._operation_id or outcome.operation_id

    wait = blocking(await_done, "wait")

    async def acancel(self, graceful: bool = False) -> None:
        """Ask the backend to stop the job (`graceful`: let the program handle SIGTERM first) (`cancel`, or
        awaited: `acancel`)."""
        await self._sdk.acancel(self.job_id, graceful)

    cancel = blocking(acancel, "cancel")

    async def adownload_files(
        self, with_logs: bool = False, with_diagnostics: bool = False, output_dir: str | Path | None = None
    ) -> list[Path]:
        """`SDK.download_job_files` for this job (`download_files`, or awaited: `adownload_files`)."""
        return await self._sdk.adownload_job_files(self.job_id, with_logs, with_diagnostics, output_dir)

    download_files = blocking(adownload_files, "download_files")
