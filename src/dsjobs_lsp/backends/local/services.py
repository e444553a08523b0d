"""gRPC servicers (ProjectJobService, OperationService, ProjectService) over the job engine."""

from __future__ import annotations

import functools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import grpc
from google.protobuf import empty_pb2, timestamp_pb2
from grpc.aio import ServicerContext as Context
from yandex.cloud.datasphere.v2 import project_pb2, project_service_pb2, project_service_pb2_grpc
from yandex.cloud.datasphere.v2.jobs import project_job_service_pb2 as service_pb2
from yandex.cloud.datasphere.v2.jobs import project_job_service_pb2_grpc as service_grpc
from yandex.cloud.operation import operation_pb2, operation_service_pb2
from yandex.cloud.operation import operation_service_pb2_grpc as operation_service_grpc

from .engine import JobEngine, require_project_id
from .journal import KIND_ERR, KIND_OUT, LogRecord
from .layout import LOCAL_COMMUNITY_ID
from .logs import SYSTEM_LOG, is_std_stream, stream_records, stripped_reader_parts
from .operations import ApiError

logger = logging.getLogger(__name__)

_R = TypeVar("_R")


def _unary(method: Callable[..., Awaitable[_R]]) -> Callable[..., Awaitable[_R]]:
    """Answer ``ApiError`` with its status code; anything unexpected with INTERNAL (never a hung call)."""

    @functools.wraps(method)
    async def wrapper(self: Any, request: Any, context: Context) -> _R:
        try:
            return await method(self, request, context)
        except ApiError as error:
            await context.abort(error.code, error.message)
        except Exception as error:
            logger.exception("%s failed", method.__name__)
            await context.abort(grpc.StatusCode.INTERNAL, f"internal error of the local backend: {error}")
        raise AssertionError("unreachable")

    return wrapper


def _streaming(method: Callable[..., AsyncIterator[_R]]) -> Callable[..., AsyncIterator[_R]]:
    @functools.wraps(method)
    async def wrapper(self: Any, request: Any, context: Context) -> AsyncIterator[_R]:
        try:
            async for item in method(self, request, context):
                yield item
        except ApiError as error:
            await context.abort(error.code, error.message)
        except Exception as error:
            logger.exception("%s failed", method.__name__)
            await context.abort(grpc.StatusCode.INTERNAL, f"internal error of the local backend: {error}")

    return wrapper


def _timestamp_of(created_at: float) -> timestamp_pb2.Timestamp:
    seconds = int(created_at)
    return timestamp_pb2.Timestamp(seconds=seconds, nanos=int((created_at - seconds) * 1e9))


def _log_messages(records: list[LogRecord]) -> list[service_pb2.LogMessage]:
    """One message per record (a record holds the lines of one read), its edges cut for stripping readers."""
    messages = []
    for record in records:
        created_at = _timestamp_of(record.created_at)
        for content in stripped_reader_parts(record.content):
            message = service_pb2.LogMessage(content=content, created_at=created_at)
            if record.kind == KIND_OUT:
                message.standard_stream = service_pb2.OUT
            elif record.kind == KIND_ERR:
                message.standard_stream = service_pb2.ERR
            else:
                message.file_path = SYSTEM_LOG
            messages.append(message)
    return messages


class ProjectJobService(service_grpc.ProjectJobServiceServicer):  # type: ignore[misc]
    """``yandex.cloud.datasphere.v2.jobs.ProjectJobService``."""

    def __init__(self, engine: JobEngine) -> None:
        self._engine = engine

    @_unary
    async def Create(self, request: service_pb2.CreateProjectJobRequest, context: Context) -> Any:
        return await self._engine.create(request)

    @_unary
    async def Clone(self, request: service_pb2.CloneProjectJobRequest, context: Context) -> Any:
        return await self._engine.clone(request)

    @_unary
    async def Execute(self, request: service_pb2.ExecuteProjectJobRequest, context: Context) -> Any:
        return await self._engine.execute(request.job_id)

    @_unary
    async def Cancel(self, request: service_pb2.CancelProjectJobRequest, context: Context) -> Any:
        await self._engine.cancel(request.job_id, graceful=request.graceful, reason=request.reason)
        return empty_pb2.Empty()

    @_streaming
    async def ReadLogs(
        self, request: service_pb2.ReadProjectJobLogsRequest, context: Context
    ) -> AsyncIterator[service_pb2.ReadProjectJobLogsResponse]:
        async for records, offset in stream_records(self._engine, request.job_id, request.offset):
            yield service_pb2.ReadProjectJobLogsResponse(logs=_log_messages(records), offset=offset)

    @_streaming
    async def ReadStdLogs(
        self, request: service_pb2.ReadProjectJobStdLogsRequest, context: Context
    ) -> AsyncIterator[service_pb2.ReadProjectJobStdLogsResponse]:
        async for records, offset in stream_records(self._engine, request.job_id, request.offset):
            logs = [
                service_pb2.StdLog(
                    content=r.content,
                    type=service_pb2.StdLog.OUT if r.kind == KIND_OUT else service_pb2.StdLog.ERR,
                )
                for r in records
                if is_std_stream(r)
            ]
            yield service_pb2.ReadProjectJobStdLogsResponse(logs=logs, offset=offset)

    @_unary
    async def DownloadJobFiles(
        self, request: service_pb2.DownloadProjectJobFilesRequest, context: Context
    ) -> Any:
        row = self._engine.row(request.job_id)
        if row.job.data_cleared:
            raise ApiError(
                grpc.StatusCode.FAILED_PRECONDITION, f"the data of job {request.job_id} was cleared"
            )
        known = {
            f.sha256: f
            for f in [*row.job.output_files, *row.job.job_parameters.input_files, *row.job.log_files]
        }
        wanted = list(request.files) or list(row.job.output_files)
        unknown = [f.desc.path or f.sha256 for f in wanted if f.sha256 not in known]
        if unknown:
            raise ApiError(
                grpc.StatusCode.NOT_FOUND, f"job {row.job.id} has no such files: {', '.join(unknown)}"
            )
        files = [f if f.desc.path or f.desc.var else known[f.sha256] for f in wanted]
        return service_pb2.DownloadProjectJobFilesResponse(download_files=self._engine.download_urls(files))

    @_unary
    async def List(self, request: service_pb2.ListProjectJobRequest, context: Context) -> Any:
        jobs, next_token = self._engine.list_jobs(request.project_id, request.page_size, request.page_token)
        return service_pb2.ListProjectJobResponse(jobs=jobs, next_page_token=next_token)

    @_unary
    async def Get(self, request: service_pb2.GetProjectJobRequest, context: Context) -> Any:
        return self._engine.row(request.job_id).job

    @_unary
    async def Delete(self, request: service_pb2.DeleteProjectJobRequest, context: Context) -> Any:
        return await self._engine.delete(request.job_id)

    @_unary
    async def DeleteData(self, request: service_pb2.DeleteProjectJobDataRequest, context: Context) -> Any:
        return await self._engine.delete_data(request.job_id)

    @_unary
    async def DeleteAllData(
        self, request: service_pb2.DeleteAllProjectJobDataRequest, context: Context
    ) -> Any:
        return await self._engine.delete_all_data(request.project_id)

    @_unary
    async def SetDataTtl(self, request: service_pb2.SetProjectJobDataTtlRequest, context: Context) -> Any:
        await self._engine.set_data_ttl(request.job_id, request.ttl if request.HasField("ttl") else None)
        return service_pb2.SetProjectJobDataTtlResponse()


class OperationService(operation_service_grpc.OperationServiceServicer):  # type: ignore[misc]
    """``yandex.cloud.operation.OperationService`` (Get)."""

    def __init__(self, engine: JobEngine) -> None:
        self._engine = engine

    @_unary
    async def Get(self, request: operation_service_pb2.GetOperationRequest, context: Context) -> Any:
        if not request.operation_id:
            raise ApiError(grpc.StatusCode.INVALID_ARGUMENT, "operation_id is empty")
        operation: operation_pb2.Operation | None = self._engine.state.operations.get(request.operation_id)
        if operation is None:
            raise ApiError(grpc.StatusCode.NOT_FOUND, f"operation {request.operation_id} not found")
        return operation

    @_unary
    async def Cancel(self, request: operation_service_pb2.CancelOperationRequest, context: Context) -> Any:
        raise ApiError(grpc.StatusCode.UNIMPLEMENTED, "cancel the job with ProjectJobService.Cancel")


class ProjectService(project_service_pb2_grpc.ProjectServiceServicer):  # type: ignore[misc]
    """``yandex.cloud.datasphere.v2.ProjectService`` (Get: every well-formed project id exists locally)."""

    @_unary
    async def Get(self, request: project_service_pb2.GetProjectRequest, context: Context) -> Any:
        require_project_id(request.project_id)
        return project_pb2.Project(
            id=request.project_id,
            name="local",
            description="dsjobs local backend",
            community_id=LOCAL_COMMUNITY_ID,
        )
