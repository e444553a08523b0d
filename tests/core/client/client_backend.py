"""A small scripted DataSphere backend (real grpc.aio server on 127.0.0.1) for the client's tests.

It implements only the RPCs the client tests exercise, with knobs to misbehave: drop the log stream midway,
end it early while the job runs, fail an operation poll with UNAVAILABLE.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import grpc
import grpc.aio
from google.protobuf import any_pb2, empty_pb2
from google.protobuf.message import Message
from google.rpc import code_pb2, status_pb2
from yandex.cloud.datasphere.v2 import project_pb2, project_service_pb2_grpc
from yandex.cloud.datasphere.v2.jobs import jobs_pb2, project_job_service_pb2_grpc
from yandex.cloud.datasphere.v2.jobs import project_job_service_pb2 as svc
from yandex.cloud.operation import operation_pb2, operation_service_pb2_grpc

from dsjobs_lsp.backends.endpoints import Endpoints

PROJECT = "proj1"
COMMUNITY = "comm1"


def _packed(message: Message) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)
    return packed


@dataclass
class BackendState:
    """What the scripted backend knows and what it saw."""

    token: str = "local-token"
    jobs: dict[str, jobs_pb2.Job] = field(default_factory=dict)
    log: list[svc.LogMessage] = field(default_factory=list)
    drop_logs_after: int | None = None  # first ReadLogs aborts with UNAVAILABLE after this many messages
    end_logs_early_at: int | None = None  # a ReadLogs ends cleanly here while the job still runs
    finish_after_polls: int = 3
    fail_poll_once: bool = True
    fail_operation: bool = False
    tokens_seen: list[str] = field(default_factory=list)
    read_offsets: list[int] = field(default_factory=list)
    list_calls: int = 0
    max_page_size: int | None = None  # List refuses larger pages with INVALID_ARGUMENT
    project_calls: int = 0
    polls: int = 0
    cancels: list[tuple[str, bool, str]] = field(default_factory=list)

    def check(self, context: grpc.aio.ServicerContext) -> str | None:
        values = dict(context.invocation_metadata() or ())
        bearer = str(values.get("authorization", ""))
        self.tokens_seen.append(bearer)
        return bearer


async def _authorize(state: BackendState, context: grpc.aio.ServicerContext) -> None:
    bearer = state.check(context)
    if not (bearer or "").startswith("Bearer ") or "expired" in (bearer or ""):
        await context.abort(grpc.StatusCode.UNAUTHENTICATED, f"token {bearer} is not valid")


class JobService(project_job_service_pb2_grpc.ProjectJobServiceServicer):
    def __init__(self, state: BackendState) -> None:
        self.state = state

    async def Create(
        self, request: svc.CreateProjectJobRequest, context: grpc.aio.ServicerContext
    ) -> operation_pb2.Operation:
        await _authorize(self.state, context)
        job_id = f"job{len(self.state.jobs) + 1}"
        self.state.jobs[job_id] = jobs_pb2.Job(
            id=job_id, project_id=request.project_id, name=request.name, status=jobs_pb2.JobStatus.CREATING
        )
        uploads = [
            jobs_pb2.StorageFile(file=f, url=f"http://store/{f.sha256}")
            for f in request.job_parameters.input_files
        ]
        response = svc.CreateProjectJobResponse(job_id=job_id, upload_files=uploads)
        return operation_pb2.Operation(
            id=f"create-{job_id}",
            done=True,
            response=_packed(response),
            metadata=_packed(svc.CreateProjectJobMetadata(job_id=job_id)),
        )

    async def Execute(
        self, request: svc.ExecuteProjectJobRequest, context: grpc.aio.ServicerContext
    ) -> operation_pb2.Operation:
        await _authorize(self.state, context)
        job = self.state.jobs[request.job_id]
        job.status = jobs_pb2.JobStatus.EXECUTING
        meta = svc.ExecuteProjectJobMetadata(job=job)
        return operation_pb2.Operation(
            id=f"exec-{job.id}", description="Job execution", done=False, metadata=_packed(meta)
        )

    async def Get(self, request: svc.GetProjectJobRequest, context: grpc.aio.ServicerContext) -> jobs_pb2.Job:
        await _authorize(self.state, context)
        if request.job_id not in self.state.jobs:
            await context.abort(grpc.StatusCode.NOT_FOUND, f"job {request.job_id} does not exist")
        return self.state.jobs[request.job_id]

    async def List(
        self, request: svc.ListProjectJobRequest, context: grpc.aio.ServicerContext
    ) -> svc.ListProjectJobResponse:
        await _authorize(self.state, context)
        self.state.list_calls += 1
        if self.state.max_page_size is not None and request.page_size > self.state.max_page_size:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "page_size is too large")
        jobs = [j for j in self.state.jobs.values() if j.project_id == request.project_id]
        start = int(request.page_token or 0)
        end = start + request.page_size
        return svc.ListProjectJobResponse(
            jobs=jobs[start:end], next_page_token=str(end) if end < len(jobs) else ""
        )

    async def Cancel(
        self, request: svc.CancelProjectJobRequest, context: grpc.aio.ServicerContext
    ) -> empty_pb2.Empty:
        await _authorize(self.state, context)
        self.state.cancels.append((request.job_id, request.graceful, request.reason))
        return empty_pb2.Empty()

    async def ReadLogs(
        self, request: svc.ReadProjectJobLogsRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[svc.ReadProjectJobLogsResponse]:
        await _authorize(self.state, context)
        state = self.state
        state.read_offsets.append(request.offset)
        offset = request.offset
        while True:
            if offset < len(state.log):
                if state.drop_logs_after is not None and offset >= state.drop_logs_after:
                    state.drop_logs_after = None
                    await context.abort(grpc.StatusCode.UNAVAILABLE, "connection reset by peer")
                if state.end_logs_early_at is not None and offset >= state.end_logs_early_at:
                    state.end_logs_early_at = None
                    return
                yield svc.ReadProjectJobLogsResponse(logs=[state.log[offset]], offset=offset + 1)
                offset += 1
                continue
            job = state.jobs[request.job_id]
            if job.status in (jobs_pb2.JobStatus.SUCCESS, jobs_pb2.JobStatus.ERROR):
                return
            await asyncio.sleep(0.02)


class OperationService(operation_service_pb2_grpc.OperationServiceServicer):
    def __init__(self, state: BackendState) -> None:
        self.state = state

    async def Get(self, request: object, context: grpc.aio.ServicerContext) -> operation_pb2.Operation:
        await _authorize(self.state, context)
        state = self.state
        state.polls += 1
        if state.fail_poll_once:
            state.fail_poll_once = False
            await context.abort(grpc.StatusCode.UNAVAILABLE, "backend restarting")
        job_id = request.operation_id.removeprefix("exec-")  # type: ignore[attr-defined]
        job = state.jobs[job_id]
        progress = jobs_pb2.JobProgress(message=f"poll {state.polls}", progress=min(100, state.polls * 30))
        meta = svc.ExecuteProjectJobMetadata(job=job, progress=progress)
        op = operation_pb2.Operation(id=f"exec-{job_id}", description="Job execution", metadata=_packed(meta))
        if state.polls >= state.finish_after_polls:
            op.done = True
            if state.fail_operation:
                job.status = jobs_pb2.JobStatus.ERROR
                failure = status_pb2.Status(code=code_pb2.FAILED_PRECONDITION, message="no quota left")
                op.error.CopyFrom(failure)
            else:
                job.status = jobs_pb2.JobStatus.SUCCESS
                result = svc.ExecuteProjectJobResponse(result=jobs_pb2.JobResult(return_code=7))
                op.response.CopyFrom(_packed(result))
        return op


class ProjectService(project_service_pb2_grpc.ProjectServiceServicer):
    def __init__(self, state: BackendState) -> None:
        self.state = state

    async def Get(self, request: object, context: grpc.aio.ServicerContext) -> project_pb2.Project:
        await _authorize(self.state, context)
        self.state.project_calls += 1
        project_id = request.project_id  # type: ignore[attr-defined]
        if project_id != PROJECT:
            await context.abort(grpc.StatusCode.PERMISSION_DENIED, "not your project")
        return project_pb2.Project(id=project_id, community_id=COMMUNITY)


class ScriptedBackend:
    """Starts the three services on one 127.0.0.1 port."""

    def __init__(self) -> None:
        self.state = BackendState()
        self.server = grpc.aio.server()
        jobs = JobService(self.state)  # type: ignore[abstract]
        operations = OperationService(self.state)  # type: ignore[abstract]
        projects = ProjectService(self.state)  # type: ignore[abstract]
        project_job_service_pb2_grpc.add_ProjectJobServiceServicer_to_server(jobs, self.server)
        operation_service_pb2_grpc.add_OperationServiceServicer_to_server(operations, self.server)
        project_service_pb2_grpc.add_ProjectServiceServicer_to_server(projects, self.server)
        self.port = self.server.add_insecure_port("127.0.0.1:0")

    @property
    def endpoints(self) -> Endpoints:
        address = f"127.0.0.1:{self.port}"
        return Endpoints("local", address, address, address, False, "http://127.0.0.1:1")

    async def start(self) -> None:
        await self.server.start()

    async def stop(self) -> None:
        await self.server.stop(None)
