"""Async client of DataSphere's ProjectJobService, OperationService and ProjectService."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from types import TracebackType
from typing import Any

import grpc
import grpc.aio
from google.protobuf import duration_pb2
from yandex.cloud.datasphere.v2 import project_pb2, project_service_pb2, project_service_pb2_grpc
from yandex.cloud.datasphere.v2.jobs import jobs_pb2, project_job_service_pb2, project_job_service_pb2_grpc
from yandex.cloud.operation import operation_pb2, operation_service_pb2, operation_service_pb2_grpc

from dsjobs_lsp.backends.endpoints import Endpoints, TokenProvider
from dsjobs_lsp.core.client.channels import ChannelPool, Metadata, auth_metadata
from dsjobs_lsp.core.client.errors import BackendError, OperationFailed, translate_rpc_error
from dsjobs_lsp.core.client.logs import Backoff, LogChunk, follow_logs, sleep_or_wake

logger = logging.getLogger(__name__)

DEFAULT_DATA_TTL_DAYS = 14
CALL_TIMEOUT_SECONDS = 60.0
TRANSIENT_CODES = frozenset(
    {
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
    }
)
MAX_POLL_FAILURES = 60
LIST_PAGE_SIZE = 1000
REFERENCE_PAGE_SIZE = 50
"""Jobs asked for a page of List: Yandex Cloud's list methods take up to 1000 (the reference CLI asks for
`REFERENCE_PAGE_SIZE`, a round trip per 50 jobs); a service that gives fewer still pages correctly by its
next_page_token, and one that refuses the size is asked for the reference's pages."""

OperationCallback = Callable[[operation_pb2.Operation], None]
_jobs = project_job_service_pb2


@dataclass(frozen=True)
class CreateResult:
    """A created (or cloned) job and the files the service still lacks, with presigned upload URLs."""

    job_id: str
    upload_files: list[jobs_pb2.StorageFile]


def _duration_days(days: int) -> duration_pb2.Duration:
    duration = duration_pb2.Duration()
    duration.FromTimedelta(timedelta(days=days))
    return duration


def execute_metadata(op: operation_pb2.Operation) -> project_job_service_pb2.ExecuteProjectJobMetadata:
    """The ``ExecuteProjectJobMetadata`` (job, progress) of an Execute operation."""
    meta = _jobs.ExecuteProjectJobMetadata()
    if op.HasField("metadata"):
        op.metadata.Unpack(meta)
    return meta


def execute_response(op: operation_pb2.Operation) -> project_job_service_pb2.ExecuteProjectJobResponse:
    """The ``ExecuteProjectJobResponse`` (output files, exit code) of a finished Execute operation."""
    response = _jobs.ExecuteProjectJobResponse()
    if op.HasField("response"):
        op.response.Unpack(response)
    return response


class JobsClient:
    """An async context manager holding grpc.aio channels to one backend; every call sends a fresh token."""

    def __init__(self, endpoints: Endpoints, token: TokenProvider, *, user_agent: str | None = None) -> None:
        self.endpoints = endpoints
        self._token = token
        self._pool = ChannelPool(endpoints, user_agent=user_agent)
        self._jobs = project_job_service_pb2_grpc.ProjectJobServiceStub(self._pool.get(endpoints.jobs))
        self._ops = operation_service_pb2_grpc.OperationServiceStub(self._pool.get(endpoints.operations))
        self._projects = project_service_pb2_grpc.ProjectServiceStub(self._pool.get(endpoints.projects))
        self._communities: dict[str, str] = {}

    def __repr__(self) -> str:
        return f"JobsClient({self.endpoints.kind}, jobs={self.endpoints.jobs!r})"

    async def __aenter__(self) -> JobsClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the channels."""
        await self._pool.close()

    def connect(self) -> None:
        """Start connecting to the jobs service (TCP, TLS) now, not at the first call; returns at once."""
        self._pool.get(self.endpoints.jobs).get_state(try_to_connect=True)

    async def _metadata(self) -> Metadata:
        return await auth_metadata(self._token)

    async def _call(
        self,
        method: Callable[..., Awaitable[Any]],
        request: Any,
        *,
        subject: str,
        address: str,
        sent: str | None = None,
    ) -> Any:
        try:
            return await method(request, metadata=await self._metadata(), timeout=CALL_TIMEOUT_SECONDS)
        except grpc.aio.AioRpcError as error:
            raise translate_rpc_error(error, subject=subject, address=address, request=sent) from None

    async def _job_call(
        self, method: Callable[..., Awaitable[Any]], request: Any, subject: str, sent: str | None = None
    ) -> Any:
        return await self._call(method, request, subject=subject, address=self.endpoints.jobs, sent=sent)

    async def create(
        self,
        project_id: str,
        params: jobs_pb2.JobParameters,
        *,
        config: str = "",
        name: str = "",
        desc: str = "",
        data_ttl_days: int = DEFAULT_DATA_TTL_DAYS,
        on_update: OperationCallback | None = None,
    ) -> CreateResult:
        """Create a job (waiting for the Create operation); ``upload_files`` lists what must be uploaded."""
        request = _jobs.CreateProjectJobRequest(
            project_id=project_id,
            job_parameters=params,
            config=config,
            name=name,
            desc=desc,
            data_ttl=_duration_days(data_ttl_days),
        )
        op = await self._job_call(self._jobs.Create, request, f"the project {project_id}", "the new job")
        op = await self.wait_operation(op, on_update=on_update)
        response = _jobs.CreateProjectJobResponse()
        op.response.Unpack(response)
        return CreateResult(response.job_id, list(response.upload_files))

    async def clone(
        self,
        source_job_id: str,
        overrides: jobs_pb2.JobParameters | None = None,
        *,
        name: str = "",
        desc: str = "",
        data_ttl_days: int = DEFAULT_DATA_TTL_DAYS,
    ) -> CreateResult:
        """Create a job from ``source_job_id`` with ``overrides``; returns the new job and files to upload."""
        request = _jobs.CloneProjectJobRequest(
            source_job_id=source_job_id,
            job_parameters_overrides=overrides,
            name=name,
            desc=desc,
            data_ttl=_duration_days(data_ttl_days),
        )
        op = await self._job_call(self._jobs.Clone, request, f"the job {source_job_id}", "the forked job")
        op = await self.wait_operation(op)
        response = _jobs.CloneProjectJobResponse()
        op.response.Unpack(response)
        return CreateResult(response.job_id, list(response.upload_files))

    async def execute(self, job_id: str) -> operation_pb2.Operation:
        """Start the job; returns its (running) Execute operation."""
        request = _jobs.ExecuteProjectJobRequest(job_id=job_id)
        op: operation_pb2.Operation = await self._job_call(self._jobs.Execute, request, f"the job {job_id}")
        return op

    async def get_operation(self, operation_id: str) -> operation_pb2.Operation:
        """The current state of an operation."""
        request = operation_service_pb2.GetOperationRequest(operation_id=operation_id)
        result: operation_pb2.Operation = await self._call(
            self._ops.Get, request, subject=f"the operation {operation_id}", address=self.endpoints.operations
        )
        return result

    async def wait_operation(
        self,
        op: operation_pb2.Operation,
        *,
        on_update: OperationCallback | None = None,
        interval: float = 0.2,
        max_interval: float = 5.0,
        wake: asyncio.Event | None = None,
    ) -> operation_pb2.Operation:
        """Poll ``op`` until done (every ``interval`` s, growing to ``max_interval``); raise if it failed.

        Transient failures of the poll (UNAVAILABLE, timeouts) are retried; ``on_update`` sees every state.
        Setting ``wake`` makes the next poll happen at once (e.g. when the job's log stream has ended).
        """
        delays = Backoff(initial=interval, maximum=max_interval, factor=1.5)
        failures = 0
        while True:
            if on_update is not None:
                on_update(op)
            if op.done:
                if op.HasField("error"):
                    raise OperationFailed(op)
                return op
            await sleep_or_wake(delays.next_delay(), wake)
            try:
                op = await self.get_operation(op.id)
                failures = 0
            except BackendError as error:
                failures += 1
                if error.code not in TRANSIENT_CODES or failures > MAX_POLL_FAILURES:
                    raise
                logger.warning("polling operation %s failed (%s); retrying", op.id, error)

    async def get(self, job_id: str) -> jobs_pb2.Job:
        """The job's current state."""
        request = _jobs.GetProjectJobRequest(job_id=job_id)
        result: jobs_pb2.Job = await self._job_call(self._jobs.Get, request, f"the job {job_id}")
        return result

    async def list_jobs(
        self, project_id: str, page_size: int = LIST_PAGE_SIZE, *, filter_expr: str = ""
    ) -> AsyncIterator[jobs_pb2.Job]:
        """Every job of the project, across all pages (newest first, as the service orders them).

        A service that refuses the first page as too large (INVALID_ARGUMENT) is asked again for the
        reference CLI's pages of `REFERENCE_PAGE_SIZE`."""
        page_token = ""
        while True:
            request = _jobs.ListProjectJobRequest(
                project_id=project_id, page_size=page_size, page_token=page_token, filter=filter_expr
            )
            try:
                response = await self._job_call(self._jobs.List, request, f"the project {project_id}")
            except BackendError as error:
                refused = error.code == grpc.StatusCode.INVALID_ARGUMENT and not page_token
                if not refused or page_size <= REFERENCE_PAGE_SIZE:
                    raise
                page_size = REFERENCE_PAGE_SIZE
                continue
            for job in response.jobs:
                yield job
            page_token = response.next_page_token
            if not page_token or not response.jobs:
                return

    async def cancel(self, job_id: str, graceful: bool = False, reason: str = "") -> None:
        """Ask the service to stop the job (gracefully: signal first, as configured by the job)."""
        request = _jobs.CancelProjectJobRequest(job_id=job_id, graceful=graceful, reason=reason)
        await self._job_call(self._jobs.Cancel, request, f"the job {job_id}")

    async def download_job_files(self, job_id: str, files: list[jobs_pb2.File]) -> list[jobs_pb2.StorageFile]:
        """Presigned download URLs of the job's ``files`` (outputs, logs)."""
        request = _jobs.DownloadProjectJobFilesRequest(job_id=job_id, files=files)
        response = await self._job_call(self._jobs.DownloadJobFiles, request, f"the job {job_id}")
        return list(response.download_files)

    async def set_data_ttl(self, job_id: str, ttl_days: int | None) -> None:
        """Keep the job's data for ``ttl_days`` (None: the service's default)."""
        ttl = _duration_days(ttl_days) if ttl_days else None
        request = _jobs.SetProjectJobDataTtlRequest(job_id=job_id, ttl=ttl)
        await self._job_call(self._jobs.SetDataTtl, request, f"the job {job_id}")

    async def delete(self, job_id: str) -> None:
        """Delete the job (waits for the operation)."""
        request = _jobs.DeleteProjectJobRequest(job_id=job_id)
        await self.wait_operation(await self._job_call(self._jobs.Delete, request, f"the job {job_id}"))

    async def delete_data(self, job_id: str) -> None:
        """Delete the job's files, keeping its record (waits for the operation)."""
        request = _jobs.DeleteProjectJobDataRequest(job_id=job_id)
        await self.wait_operation(await self._job_call(self._jobs.DeleteData, request, f"the job {job_id}"))

    async def get_project(self, project_id: str) -> project_pb2.Project:
        """The project (its ``community_id`` builds job links)."""
        request = project_service_pb2.GetProjectRequest(project_id=project_id)
        result: project_pb2.Project = await self._call(
            self._projects.Get, request, subject=f"the project {project_id}", address=self.endpoints.projects
        )
        return result

    async def job_link(self, job: jobs_pb2.Job) -> str | None:
        """The job's browser link, or None when its project cannot be read (the link is nice to have)."""
        community = self._communities.get(job.project_id)
        if community is None:
            try:
                community = (await self.get_project(job.project_id)).community_id
            except BackendError as error:
                logger.warning("no job link for %s: %s", job.id, error)
                return None
            self._communities[job.project_id] = community
        return self.endpoints.job_link(community, job.project_id, job.id)

    async def _job_status(self, job_id: str) -> int:
        request = _jobs.GetProjectJobRequest(job_id=job_id)
        job = await self._jobs.Get(request, metadata=await self._metadata(), timeout=CALL_TIMEOUT_SECONDS)
        return int(job.status)

    async def read_logs(self, job_id: str, offset: int = 0) -> AsyncIterator[LogChunk]:
        """The job's log lines from ``offset`` until it has finished; reconnects after dropped streams."""
        stream = follow_logs(
            self._jobs,
            job_id,
            offset=offset,
            metadata=self._metadata,
            job_status=self._job_status,
            backoff=Backoff(),
        )
        try:
            async for chunk in stream:
                yield chunk
        except grpc.aio.AioRpcError as error:
            subject = f"the job {job_id}"
            raise translate_rpc_error(error, subject=subject, address=self.endpoints.jobs) from None
        finally:
            await stream.aclose()
