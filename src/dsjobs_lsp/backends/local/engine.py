"""The job engine: the state machine behind the gRPC services (create, execute, cancel, data lifecycle).

Statuses: CREATING → PREPARING (workspace, Python environment) → EXECUTING → UPLOADING_OUTPUT →
SUCCESS | ERROR | CANCELLED (CANCELLING in between on cancel). Every change is persisted and mirrored in the
Execute operation's metadata, and wakes log readers.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import re
import shutil
import signal
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import grpc
from google.protobuf import duration_pb2, empty_pb2, timestamp_pb2
from google.protobuf.descriptor import FieldDescriptor
from yandex.cloud.datasphere.v2.jobs import jobs_pb2
from yandex.cloud.datasphere.v2.jobs import project_job_service_pb2 as service_pb2
from yandex.cloud.operation import operation_pb2

from .blobs import SHA256_PATTERN, BlobStore, UrlSigner, blob_url_path
from .journal import JobJournal
from .layout import DataLayout
from .log_files import store_log_files
from .operations import ApiError, finish_operation, new_id, new_operation, now_timestamp
from .pyenv import EnvironmentCache, EnvironmentError_
from .resources import ResourceRegistry, finish_resources, mount_resources, unknown_resources
from .state import ACTIVE_STATUSES, JobRow, StateStore
from .supervisor import JobExit, Supervisor, deferring_signal
from .verifications import PendingVerifications
from .workspace import (
    WorkspaceError,
    collect_outputs,
    job_environment,
    local_differences,
    prepare_workspace,
    relative_job_path,
    release_linked_inputs,
    resolve_command,
)

logger = logging.getLogger(__name__)

PROJECT_ID_PATTERN = re.compile(r"^[0-9a-z]{20}$")
DEFAULT_DATA_TTL = timedelta(days=14)
DEFAULT_GRACEFUL_TIMEOUT = 10.0
MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 50
RESTARTED = "server restarted while the job was running"
NEVER_EXECUTED = "the job was created but never executed; its data expired with its TTL"
RESTARTED_PREPARING = (
    "the local backend stopped while the job was being prepared (before its command started); run it again"
)


@dataclass
class _Execution:
    """A job being executed by this server."""

    task: asyncio.Task[None] | None = None
    cancel_requested: bool = False
    spawning: bool = False
    """Set just before the job's wrapper is started: from then on a cancel stops the process."""
    spawned: asyncio.Event = field(default_factory=asyncio.Event)
    """Set once the wrapper's start has returned (or failed)."""


def require_job_id(job_id: str) -> None:
    """INVALID_ARGUMENT on an empty job id."""
    if not job_id:
        raise ApiError(grpc.StatusCode.INVALID_ARGUMENT, "job_id is empty")


def require_project_id(project_id: str) -> None:
    """INVALID_ARGUMENT unless the project id has the DataSphere format (20 chars of [0-9a-z])."""
    if not PROJECT_ID_PATTERN.match(project_id):
        raise ApiError(
            grpc.StatusCode.INVALID_ARGUMENT,
            f"project_id {project_id!r} is not a valid project id (20 characters of [0-9a-z])",
        )


def _timestamp_after(seconds: float) -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.FromNanoseconds(int((time.time() + seconds) * 1e9))
    return stamp


def _ttl_seconds(ttl: duration_pb2.Duration | None) -> float:
    if ttl is None or (ttl.seconds == 0 and ttl.nanos == 0):
        return DEFAULT_DATA_TTL.total_seconds()
    seconds = ttl.seconds + ttl.nanos / 1e9
    if seconds < 0:
        raise ApiError(grpc.StatusCode.INVALID_ARGUMENT, "data ttl must not be negative")
    return seconds


def _files_needing_upload(store: BlobStore, files: list[jobs_pb2.File]) -> list[jobs_pb2.File]:
    missing: dict[str, jobs_pb2.File] = {}
    for item in files:
        if item.sha256 not in missing and not store.has(item.sha256):
            missing[item.sha256] = item
    return list(missing.values())


def _not_uploaded_message(missing: list[jobs_pb2.File], failures: dict[str, str]) -> str:
    """Names the files a job lacks, with why an upload of one was not stored (if one was tried)."""
    names = []
    for item in missing:
        name = f"{item.desc.path or item.desc.var} ({item.sha256[:12]})"
        reason = failures.get(item.sha256)
        names.append(f"{name}: {reason}" if reason else name)
    return "files are not uploaded: " + ", ".join(names)


def graceful_signal(params: jobs_pb2.JobParameters) -> int:
    """The signal a graceful cancel sends the job (its config's, else SIGTERM)."""
    return params.graceful_shutdown_parameters.signal or int(signal.SIGTERM)


def _job_files(params: jobs_pb2.JobParameters) -> list[jobs_pb2.File]:
    return [*params.input_files, *params.env.python_env.local_modules]


def _validate_parameters(params: jobs_pb2.JobParameters) -> None:
    if not params.cmd.strip():
        raise ApiError(grpc.StatusCode.INVALID_ARGUMENT, "job_parameters.cmd is empty")
    for item in _job_files(params):
        label = item.desc.path or item.desc.var
        if not SHA256_PATTERN.match(item.sha256):
            raise ApiError(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"file {label!r}: sha256 {item.sha256!r} is not 64 lower-case hex digits",
            )
        if item.size_bytes < 0:
            raise ApiError(grpc.StatusCode.INVALID_ARGUMENT, f"file {label!r}: negative size_bytes")
    for item in params.input_files:
        try:
            relative_job_path(item.desc)
        except WorkspaceError as error:
            raise ApiError(grpc.StatusCode.INVALID_ARGUMENT, f"input file: {error}") from None
    for desc in params.output_files:
        try:
            relative_job_path(desc)
        except WorkspaceError as error:
            raise ApiError(grpc.StatusCode.INVALID_ARGUMENT, f"output file: {error}") from None


def _merge_parameters(
    source: jobs_pb2.JobParameters, overrides: jobs_pb2.JobParameters
) -> jobs_pb2.JobParameters:
    """Clone semantics: set fields of ``overrides`` replace the source's; inputs are replaced by var/path."""
    merged = jobs_pb2.JobParameters()
    merged.CopyFrom(source)
    for descriptor, value in overrides.ListFields():
        if descriptor.name == "input_files":
            keys = {(f.desc.var or f.desc.path) for f in value}
            kept = [f for f in source.input_files if (f.desc.var or f.desc.path) not in keys]
            del merged.input_files[:]
            merged.input_files.extend([*kept, *value])
        elif descriptor.name == "env":
            merged.env.MergeFrom(value)
        elif descriptor.label == FieldDescriptor.LABEL_REPEATED:  # type: ignore[attr-defined]
            field = getattr(merged, descriptor.name)
            del field[:]
            field.extend(value)
        elif descriptor.message_type is not None:
            getattr(merged, descriptor.name).CopyFrom(value)
        else:
            setattr(merged, descriptor.name, value)
    return merged


def _encode_page_token(job: jobs_pb2.Job) -> str:
    raw = f"{job.created_at.ToNanoseconds()}:{job.id}".encode()
    return base64.urlsafe_b64encode(raw).decode()


def _decode_page_token(token: str) -> tuple[int, str]:
    try:
        created, _, job_id = base64.urlsafe_b64decode(token.encode()).decode().partition(":")
        if not job_id:
            raise ValueError(token)
        return int(created), job_id
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ApiError(
            grpc.StatusCode.INVALID_ARGUMENT, f"page_token {token!r} is not a valid page token"
        ) from None


class JobEngine:
    """Owns jobs: their state, their processes and their data."""

    def __init__(
        self,
        layout: DataLayout,
        state: StateStore,
        store: BlobStore,
        envs: EnvironmentCache,
        signer: Callable[[], UrlSigner],
        verifications: PendingVerifications,
    ) -> None:
        self.layout = layout
        self.state = state
        self.store = store
        self.envs = envs
        self._signer = signer
        self.verifications = verifications
        self.resources = ResourceRegistry(layout.root)
        self._journals: dict[str, JobJournal] = {}
        self._executions: dict[str, _Execution] = {}
        self.supervisor = Supervisor(layout.job_dir)
        self._tasks: set[asyncio.Future[None]] = set()

    def row(self, job_id: str) -> JobRow:
        """The job, or INVALID_ARGUMENT / NOT_FOUND."""
        require_job_id(job_id)
        row = self.state.jobs.get(job_id)
        if row is None:
            raise ApiError(grpc.StatusCode.NOT_FOUND, f"job {job_id} not found")
        return row

    def journal(self, job_id: str) -> JobJournal:
        """The log journal of a job (one object per job, shared by writers and readers)."""
        journal = self._journals.get(job_id)
        if journal is None:
            journal = self._journals[job_id] = JobJournal(self.layout.job_dir(job_id) / "journal.bin")
        return journal

    def list_jobs(self, project_id: str, page_size: int, page_token: str) -> tuple[list[jobs_pb2.Job], str]:
        """One page of a project's jobs, newest first, and the token of the next page ('' at the end)."""
        require_project_id(project_id)
        if page_size < 0:
            raise ApiError(grpc.StatusCode.INVALID_ARGUMENT, "page_size must not be negative")
        size = min(page_size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
        after = _decode_page_token(page_token) if page_token else None
        found = self.state.project_jobs(project_id, before=after, limit=size + 1)
        page = found[:size]
        next_token = _encode_page_token(page[-1]) if len(found) > size else ""
        return page, next_token

    async def create(self, request: service_pb2.CreateProjectJobRequest) -> operation_pb2.Operation:
        """Register a job; the response asks for uploads of the files the store lacks."""
        require_project_id(request.project_id)
        _validate_parameters(request.job_parameters)
        await self._require_resources(request.project_id, request.job_parameters)
        ttl = _ttl_seconds(request.data_ttl if request.HasField("data_ttl") else None)
        job = jobs_pb2.Job(
            id=new_id("lj"),
            name=request.name,
            desc=request.desc,
            created_at=now_timestamp(),
            status=jobs_pb2.CREATING,
            config=request.config,
            created_by_id="local-user",
            project_id=request.project_id,
            job_parameters=request.job_parameters,
            data_expires_at=_timestamp_after(ttl),
        )
        job.data_size_bytes = sum(f.size_bytes for f in _job_files(job.job_parameters))
        uploads = await self._upload_urls(_job_files(job.job_parameters))
        response = service_pb2.CreateProjectJobResponse(job_id=job.id, upload_files=uploads)
        metadata = service_pb2.CreateProjectJobMetadata(project_id=job.project_id, job_id=job.id)
        operation = new_operation("Create job", metadata, response=response)
        try:
            await self.state.save_job(JobRow(job))
            await self.state.save_operation(operation, job.id)
        except BaseException:
            await asyncio.shield(self._forget_failed_create(job.id))
            raise
        return operation

    async def _forget_failed_create(self, job_id: str) -> None:
        """A Create that failed leaves no job behind (in memory at once; on disk if the disk lets us)."""
        try:
            await self.state.delete_job(job_id)
        except (OSError, sqlite3.Error) as error:
            logger.error("job %s: cannot remove the job of a failed Create: %s", job_id, error)

    async def _require_resources(self, project_id: str, params: jobs_pb2.JobParameters) -> None:
        """INVALID_ARGUMENT naming every dataset / S3 connector of the job that the project lacks."""
        problems = await asyncio.to_thread(unknown_resources, self.resources, project_id, params)
        if problems:
            raise ApiError(grpc.StatusCode.INVALID_ARGUMENT, "; ".join(problems))

    async def clone(self, request: service_pb2.CloneProjectJobRequest) -> operation_pb2.Operation:
        """A new job from a source job's parameters with overrides applied."""
        source = self.row(request.source_job_id).job
        params = _merge_parameters(source.job_parameters, request.job_parameters_overrides)
        created = await self.create(
            service_pb2.CreateProjectJobRequest(
                project_id=source.project_id,
                job_parameters=params,
                config=source.config,
                name=request.name or source.name,
                desc=request.desc or source.desc,
                data_ttl=request.data_ttl if request.HasField("data_ttl") else None,
            )
        )
        created_response = service_pb2.CreateProjectJobResponse()
        created.response.Unpack(created_response)
        row = self.state.jobs[created_response.job_id]
        row.job.parent_job_id = source.id
        try:
            await self.state.save_job(row)
        except BaseException:
            await asyncio.shield(self._forget_failed_create(row.job.id))
            raise
        response = service_pb2.CloneProjectJobResponse(
            job_id=created_response.job_id, upload_files=created_response.upload_files
        )
        metadata = service_pb2.CloneProjectJobMetadata(
            project_id=source.project_id, job_id=created_response.job_id
        )
        operation = new_operation("Clone job", metadata, response=response)
        await self.state.save_operation(operation, created_response.job_id)
        return operation

    async def _upload_urls(self, files: list[jobs_pb2.File]) -> list[jobs_pb2.StorageFile]:
        await self.verifications.settle(f.sha256 for f in files)
        missing = await asyncio.to_thread(_files_needing_upload, self.store, files)
        signer = self._signer()
        return [jobs_pb2.StorageFile(file=f, url=signer.url("PUT", blob_url_path(f.sha256))) for f in missing]

    def download_urls(self, files: list[jobs_pb2.File]) -> list[jobs_pb2.StorageFile]:
        """Presigned GET URLs of stored files."""
        signer = self._signer()
        return [jobs_pb2.StorageFile(file=f, url=signer.url("GET", blob_url_path(f.sha256))) for f in files]

    async def execute(self, job_id: str) -> operation_pb2.Operation:
        """Start a created job (or return the running job's operation)."""
        row = self.row(job_id)
        if row.execute_operation_id and not row.finished:
            return self.state.operations[row.execute_operation_id]
        if row.job.status != jobs_pb2.CREATING:
            raise ApiError(
                grpc.StatusCode.FAILED_PRECONDITION,
                f"job {job_id} was already executed (status {jobs_pb2.JobStatus.Name(row.job.status)})",
            )
        files = _job_files(row.job.job_parameters)
        failures = await self.verifications.settle(f.sha256 for f in files)
        missing = await asyncio.to_thread(_files_needing_upload, self.store, files)
        if missing:
            raise ApiError(grpc.StatusCode.FAILED_PRECONDITION, _not_uploaded_message(missing, failures))
        operation = new_operation("Execute job", service_pb2.ExecuteProjectJobMetadata(job=row.job))
        row.execute_operation_id = operation.id
        await self.state.save_operation(operation, job_id)
        execution = self._executions[job_id] = _Execution()
        await self._set_status(row, jobs_pb2.PREPARING, "preparing the job directory", progress=5)
        execution.task = asyncio.create_task(self._run(row, execution), name=f"job-{job_id}")
        return operation

    async def _run(self, row: JobRow, execution: _Execution) -> None:
        journal = self.journal(row.job.id)
        params = row.job.job_parameters
        job_dir = self.layout.job_dir(row.job.id)
        try:
            project_home = (
                self.layout.projects / row.job.project_id / "home" if params.attach_project_disk else None
            )
            workspace = await asyncio.to_thread(
                prepare_workspace, self.store, params, job_dir / "work", project_home
            )
            mounts = await asyncio.to_thread(
                mount_resources, self.resources, row.job.project_id, params, job_dir / "mnt"
            )
            workspace.variables.update(mounts.variables)
            command = resolve_command(params, workspace.variables)
            command = mounts.wrap(deferring_signal(command, graceful_signal(params)))
            for note in [*local_differences(params), *mounts.notes]:
                await self._note(row.job.id, note)
            python_env = params.env.python_env if params.env.HasField("python_env") else None
            if python_env is not None and python_env.requirements:
                await self._set_status(
                    row, jobs_pb2.PREPARING, "building the python environment", progress=10
                )
            bin_dir = await self.envs.bin_dir(python_env, journal.append_system)
            env = job_environment(params, bin_dir, workspace.variables)
            await self._start_process(row, execution, journal, command, env, workspace.work_dir)
        except (WorkspaceError, EnvironmentError_) as error:
            await asyncio.to_thread(release_linked_inputs, self.store, job_dir)  # nothing ran: no change
            await self._note(row.job.id, f"error: {error}")
            await self._fail(row, str(error))
            return
        except asyncio.CancelledError:
            if execution.cancel_requested:
                await asyncio.shield(self._finish_cancelled_before_start(row))
            raise
        except Exception as error:
            logger.exception("job %s failed to start", row.job.id)
            await self._note(row.job.id, f"internal error: {error}")
            await self._fail(row, f"internal error of the local backend: {error}")
            return
        await self._follow(row, execution)

    async def _start_process(
        self,
        row: JobRow,
        execution: _Execution,
        journal: JobJournal,
        command: str,
        env: dict[str, str],
        work_dir: Path,
    ) -> None:
        execution.spawning = True
        try:
            pid = await self.supervisor.spawn(row.job.id, journal.path, command, env, work_dir)
            row.runner_pid = pid
        finally:
            execution.spawned.set()
        row.job.started_at.CopyFrom(now_timestamp())
        await self._note(row.job.id, f"job process started (pid {pid})")
        await self._set_status(row, jobs_pb2.EXECUTING, "the job is running", progress=20)

    async def _follow(self, row: JobRow, execution: _Execution) -> None:
        """Wait for the job's exit (waking log readers as lines arrive), then collect outputs and finish."""
        journal = self.journal(row.job.id)
        ended = await self.supervisor.wait(row.job.id, row.runner_pid, journal.notify)
        if ended.code is None:
            await self._note(row.job.id, ended.describe())
        else:
            await self._note(row.job.id, f"the job process exited: {ended.describe()}")
        try:
            await self._finish(row, execution, ended)
        except Exception as error:  # never leave a job stuck in UPLOADING_OUTPUT
            logger.exception("collecting the outputs of job %s failed", row.job.id)
            reason = f"the outputs could not be collected: {error}"
            succeeded = ended.code == 0 and not ended.reason
            await self._fail(row, reason if succeeded else f"{ended.describe()}; {reason}")

    async def _note(self, job_id: str, line: str) -> None:
        """A line of the job's system log; a journal that cannot be written (a full disk) is only logged."""
        try:
            await self.journal(job_id).append_system(line)
        except OSError as error:
            logger.warning("job %s: cannot write its system log (%s): %s", job_id, error, line)

    async def _finish(self, row: JobRow, execution: _Execution, ended: JobExit) -> None:
        await self._set_status(row, jobs_pb2.UPLOADING_OUTPUT, "collecting output files", progress=90)
        job_dir = self.layout.job_dir(row.job.id)
        params = row.job.job_parameters
        collected = await asyncio.to_thread(
            collect_outputs, self.store, params, job_dir / "work", job_dir / "outputs"
        )
        for item in collected.files:
            await self.state.record_blob(item.sha256, item.size_bytes, time.time())
        for digest in collected.changed_inputs:
            await self._note(
                row.job.id,
                f"note: the job changed its input {digest[:12]} through its link to the store; "
                "the stored copy was dropped and will be uploaded again by the next run",
            )
        del row.job.output_files[:]
        row.job.output_files.extend(collected.files)
        del row.job.file_errors[:]
        row.job.file_errors.extend(collected.errors)
        row.job.data_size_bytes += sum(f.size_bytes for f in collected.files)
        succeeded = ended.code == 0 and not ended.reason and not execution.cancel_requested
        datasets = await asyncio.to_thread(
            finish_resources, self.resources, row.job, job_dir / "mnt", succeeded=succeeded
        )
        row.job.output_datasets.extend(datasets)
        response = service_pb2.ExecuteProjectJobResponse(
            output_files=self.download_urls(list(collected.files)),
            output_files_errors=collected.errors,
            output_datasets=datasets,
            result=jobs_pb2.JobResult(return_code=ended.code if ended.code is not None else -1),
        )
        if execution.cancel_requested:
            await self._complete(
                row,
                jobs_pb2.CANCELLED,
                "the job was cancelled",
                response,
                error=(grpc.StatusCode.CANCELLED, "the job was cancelled"),
            )
        elif ended.code == 0 and not ended.reason:
            await self._complete(row, jobs_pb2.SUCCESS, "", response)
        else:
            await self._complete(row, jobs_pb2.ERROR, ended.describe(), response)

    async def _finish_cancelled_before_start(self, row: JobRow) -> None:
        await self._note(row.job.id, "the job was cancelled before it started")
        await self._complete(
            row,
            jobs_pb2.CANCELLED,
            "the job was cancelled before it started",
            None,
            error=(grpc.StatusCode.CANCELLED, "the job was cancelled"),
        )

    async def _fail(self, row: JobRow, reason: str) -> None:
        await self._complete(
            row, jobs_pb2.ERROR, reason, None, error=(grpc.StatusCode.FAILED_PRECONDITION, reason)
        )

    async def _complete(
        self,
        row: JobRow,
        status: int,
        details: str,
        response: service_pb2.ExecuteProjectJobResponse | None,
        error: tuple[grpc.StatusCode, str] | None = None,
    ) -> None:
        row.job.finished_at.CopyFrom(now_timestamp())
        self._executions.pop(row.job.id, None)
        await self._store_log_files(row)
        operation = self.state.operations.get(row.execute_operation_id or "")
        if operation is not None:
            finish_operation(operation, response=response, error=error)
        await self._set_status(row, status, details, progress=100)

    async def _store_log_files(self, row: JobRow) -> None:
        """Keep the job's stdout, stderr and system log as stored files (``Job.log_files``)."""
        try:
            files = await asyncio.to_thread(store_log_files, self.journal(row.job.id).path, self.store)
            del row.job.log_files[:]
            for name, sha256, size in files:
                await self.state.record_blob(sha256, size, time.time())
                item = jobs_pb2.File(desc=jobs_pb2.FileDesc(path=name), sha256=sha256, size_bytes=size)
                row.job.log_files.append(item)
        except (OSError, ValueError, sqlite3.Error) as error:
            logger.warning("job %s: cannot keep its log files: %s", row.job.id, error)

    async def _set_status(self, row: JobRow, status: int, details: str, *, progress: int) -> None:
        """Change a job's status: in memory at once, then on disk (a full disk is logged, never raised)."""
        row.job.status = status  # type: ignore[assignment]
        row.job.status_details = details
        operation = self.state.operations.get(row.execute_operation_id or "")
        if operation is not None:
            metadata = service_pb2.ExecuteProjectJobMetadata(
                job=row.job,
                progress=jobs_pb2.JobProgress(
                    message=details, progress=progress, create_time=now_timestamp()
                ),
            )
            operation.metadata.Pack(metadata)
            operation.modified_at.CopyFrom(now_timestamp())
        try:
            await self.state.save_job(row)
            if operation is not None:
                await self.state.save_operation(operation, row.job.id)
        except (OSError, sqlite3.Error) as error:
            name = jobs_pb2.JobStatus.Name(row.job.status)
            logger.error("job %s: cannot persist its status %s: %s", row.job.id, name, error)
        self.journal(row.job.id).notify()

    async def cancel(self, job_id: str, *, graceful: bool, reason: str) -> None:
        """Stop a job: its whole process tree; gracefully with the job's signal and timeout if asked.

        The signal goes first and journaling after it, so a cancel works on a full disk too.
        """
        row = self.row(job_id)
        if row.job.status == jobs_pb2.CANCELLED:
            return
        if row.finished:
            raise ApiError(
                grpc.StatusCode.FAILED_PRECONDITION,
                f"job {job_id} has already finished ({jobs_pb2.JobStatus.Name(row.job.status)})",
            )
        requested = "cancel requested" + (f": {reason}" if reason else "")
        if row.job.status == jobs_pb2.CREATING:
            await self._note(job_id, requested)
            await self._complete(
                row, jobs_pb2.CANCELLED, "the job was cancelled before it was executed", None
            )
            return
        execution = self._executions.setdefault(job_id, _Execution())
        execution.cancel_requested = True
        if row.job.status == jobs_pb2.PREPARING and execution.task is not None and not execution.spawning:
            execution.task.cancel()
            await self._note(job_id, requested)
            return
        if execution.spawning:
            await execution.spawned.wait()  # its process is starting: stop the process, not the preparation
        if graceful:
            self._background(self._graceful_stop(row))
        else:
            self.supervisor.kill(job_id, row.runner_pid)
        await self._note(job_id, requested)
        await self._set_status(row, jobs_pb2.CANCELLING, "cancelling the job", progress=95)

    async def _graceful_stop(self, row: JobRow) -> None:
        shutdown = row.job.job_parameters.graceful_shutdown_parameters
        signal_number = graceful_signal(row.job.job_parameters)
        timeout = (shutdown.timeout.seconds + shutdown.timeout.nanos / 1e9) or DEFAULT_GRACEFUL_TIMEOUT
        job_id = row.job.id
        await self._note(job_id, f"sending signal {signal_number} to the job; killing it in {timeout:g} s")
        stopped = self.supervisor.stop_gracefully
        if await stopped(job_id, row.runner_pid, signal_number, timeout, lambda: row.finished):
            await self._note(job_id, "graceful shutdown timed out; the job was killed")

    async def _resume_graceful_stop(self, row: JobRow, deadline: float) -> None:
        killed = self.supervisor.kill_at_deadline
        if await killed(row.job.id, row.runner_pid, deadline, lambda: row.finished):
            await self._note(row.job.id, "graceful shutdown timed out; the job was killed")

    def _background(self, coroutine: object) -> None:
        task = asyncio.ensure_future(coroutine)  # type: ignore[call-overload]
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def delete(self, job_id: str) -> operation_pb2.Operation:
        """Remove a finished job and its data."""
        row = self.row(job_id)
        if not row.finished and row.job.status != jobs_pb2.CREATING:
            raise ApiError(grpc.StatusCode.FAILED_PRECONDITION, f"job {job_id} is running; cancel it first")
        await asyncio.to_thread(shutil.rmtree, self.layout.job_dir(job_id), True)
        await self.state.delete_job(job_id)
        self._journals.pop(job_id, None)
        await self.collect_garbage()
        operation = new_operation(
            "Delete job", service_pb2.DeleteProjectJobMetadata(job_id=job_id), response=empty_pb2.Empty()
        )
        await self.state.save_operation(operation, None)
        return operation

    async def delete_data(self, job_id: str) -> operation_pb2.Operation:
        """Clear a finished job's files and logs (the job record stays, with data_cleared)."""
        row = self.row(job_id)
        if not row.finished:
            raise ApiError(grpc.StatusCode.FAILED_PRECONDITION, f"job {job_id} has not finished")
        await self._clear_data(row)
        await self.collect_garbage()
        operation = new_operation(
            "Delete job data",
            service_pb2.DeleteProjectJobDataMetadata(job_id=job_id),
            response=service_pb2.DeleteProjectJobDataResponse(),
        )
        await self.state.save_operation(operation, job_id)
        return operation

    async def delete_all_data(self, project_id: str) -> operation_pb2.Operation:
        """Clear the data of every finished job of a project."""
        require_project_id(project_id)
        for row in list(self.state.jobs.values()):
            if row.job.project_id == project_id and row.finished and not row.job.data_cleared:
                await self._clear_data(row)
        await self.collect_garbage()
        operation = new_operation(
            "Delete all job data",
            service_pb2.DeleteAllProjectJobDataMetadata(project_id=project_id),
            response=service_pb2.DeleteAllProjectJobDataResponse(),
        )
        await self.state.save_operation(operation, None)
        return operation

    async def set_data_ttl(self, job_id: str, ttl: duration_pb2.Duration | None) -> None:
        """The job's data expires ``ttl`` from now; never when unset (``--days infinity``)."""
        row = self.row(job_id)
        if ttl is None or (ttl.seconds == 0 and ttl.nanos == 0):
            row.job.ClearField("data_expires_at")
        else:
            row.job.data_expires_at.CopyFrom(_timestamp_after(_ttl_seconds(ttl)))
        await self.state.save_job(row)

    async def sweep_expired(self) -> int:
        """Clear the data of jobs whose TTL passed: finished ones, and created ones never executed (they
        end with ERROR saying so). Jobs without an expiry keep their data. Returns how many were cleared."""
        now = time.time_ns()
        expired = [
            r
            for r in self.state.jobs.values()
            if (r.finished or r.job.status == jobs_pb2.CREATING)
            and not r.job.data_cleared
            and r.job.HasField("data_expires_at")
            and r.job.data_expires_at.ToNanoseconds() <= now
        ]
        for row in expired:
            if row.job.status == jobs_pb2.CREATING:
                await self._complete(row, jobs_pb2.ERROR, NEVER_EXECUTED, None)
            await self._clear_data(row)
        if expired:
            await self.collect_garbage()
        return len(expired)

    async def _clear_data(self, row: JobRow) -> None:
        await asyncio.to_thread(shutil.rmtree, self.layout.job_dir(row.job.id), True)
        row.job.data_cleared = True
        row.job.data_size_bytes = 0
        await self.state.save_job(row)
        self.journal(row.job.id).notify()

    async def collect_garbage(self) -> None:
        """Delete stored files no job with data refers to."""
        referenced = {
            f.sha256
            for r in self.state.jobs.values()
            if not r.job.data_cleared
            for f in [*_job_files(r.job.job_parameters), *r.job.output_files, *r.job.log_files]
        }
        stored = await self.state.blob_digests()
        orphans = [d for d in stored if d not in referenced]
        for digest in orphans:
            await asyncio.to_thread(self.store.remove, digest)
        await self.state.forget_blobs(orphans)

    async def recover(self) -> None:
        """After a restart: re-adopt jobs whose process still lives, end the others with ERROR and why."""
        for row in list(self.state.jobs.values()):
            if row.job.status not in ACTIVE_STATUSES:
                continue
            job_id = row.job.id
            started = row.job.status != jobs_pb2.PREPARING
            if started and self.supervisor.is_running(job_id, row.runner_pid):
                await self._adopt(row)
                continue
            self.supervisor.kill_wrapper(job_id, row.runner_pid)
            reason = RESTARTED if started else RESTARTED_PREPARING
            await self._note(job_id, reason)
            await self._complete(row, jobs_pb2.ERROR, reason, None, error=(grpc.StatusCode.ABORTED, reason))

    async def _adopt(self, row: JobRow) -> None:
        cancelling = row.job.status == jobs_pb2.CANCELLING
        execution = self._executions[row.job.id] = _Execution(cancel_requested=cancelling)
        await self._note(row.job.id, "server restarted; following the running job again")
        execution.task = asyncio.create_task(self._follow(row, execution))
        deadline = self.supervisor.cancel_deadline(row.job.id) if cancelling else None
        if deadline is not None:
            self._background(self._resume_graceful_stop(row, deadline))

    async def close(self) -> None:
        """Stop following jobs (their processes keep running and are re-adopted on the next start)."""
        tasks = [e.task for e in self._executions.values() if e.task is not None] + list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self.supervisor.close()
