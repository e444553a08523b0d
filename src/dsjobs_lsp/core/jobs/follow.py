"""Following a started job: its log stream and its status at once, until it ends.

Logs arrive in order as `LogLines` events; after each chunk is handed to the sink its offset is saved in
history before the next chunk is read (so an attach later resumes there, and a client killed at any moment
repeats at most that chunk). Status comes from the Execute operation when we have it (its response holds the
exit code), else from polling `Get`; polls back off, and the end of the log stream (the job is over)
triggers one at once. Each status change is saved and sent as `JobChanged`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging

from yandex.cloud.datasphere.v2.jobs import jobs_pb2, project_job_service_pb2
from yandex.cloud.operation import operation_pb2

from dsjobs_lsp.core.client import JobsClient, OperationFailed
from dsjobs_lsp.core.client.jobs_client import execute_metadata, execute_response
from dsjobs_lsp.core.client.logs import LogChunk, ready_batches, sleep_or_wake
from dsjobs_lsp.core.jobs.events import EventSink, JobChanged, LogLines
from dsjobs_lsp.core.jobs.history import History
from dsjobs_lsp.core.jobs.models import JobRecord
from dsjobs_lsp.core.jobs.records import refresh

logger = logging.getLogger(__name__)

LOG_DRAIN_TIMEOUT_S = 30.0
STATUS_POLL_INTERVAL_S = 1.0
OPERATION_POLL_MAX_S = 2.0  # the end of a job is noticed within 2 s (the reference polls every 5 s)


class JobFollower:
    """Follows one job for a run or an attach; `record` is kept current and saved to `history`."""

    def __init__(self, client: JobsClient, history: History, sink: EventSink, record: JobRecord) -> None:
        self.client = client
        self.history = history
        self.sink = sink
        self.record = record
        self._saves: set[asyncio.Task[None]] = set()
        self._logs_ended = asyncio.Event()

    async def follow(
        self, operation: operation_pb2.Operation | None
    ) -> project_job_service_pb2.ExecuteProjectJobResponse | None:
        """Stream logs and wait for the end; the Execute response if the operation is known and succeeded."""
        logs = asyncio.create_task(self._read_logs(), name=f"logs-{self.record.id}")
        try:
            response = await self._wait_end(operation)
            await self._drain(logs)
        finally:
            logs.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await logs
            await asyncio.shield(self._flush_saves())
        return response

    async def _read_logs(self) -> None:
        try:
            chunks = self.client.read_logs(self.record.id, self.record.log_offset)
            async with contextlib.aclosing(ready_batches(chunks)) as batches:
                async for batch in batches:
                    self._show(batch)
                    if batch[-1].offset > self.record.log_offset:
                        self.record = self.record.model_copy(update={"log_offset": batch[-1].offset})
                        await self._store(self.record)  # before the next batch: a kill repeats only this one
        finally:
            self._logs_ended.set()

    def _show(self, batch: list[LogChunk]) -> None:
        """Send the batch's lines, consecutive chunks of one stream as one event."""
        shown = [c for c in batch if c.lines and (c.file_path is None or c.is_system_log)]
        for stream, run in itertools.groupby(shown, key=lambda chunk: chunk.stream):
            lines = [line for chunk in run for line in chunk.lines]
            self.sink(LogLines(job_id=self.record.id, stream=stream, lines=lines))

    async def _drain(self, logs: asyncio.Task[None]) -> None:
        """Let the log stream deliver its last lines (it ends by itself once the job is over)."""
        try:
            await asyncio.wait_for(asyncio.shield(logs), LOG_DRAIN_TIMEOUT_S)
        except asyncio.TimeoutError:
            logger.warning("log stream of %s did not end in %.0f s", self.record.id, LOG_DRAIN_TIMEOUT_S)
        except Exception as error:  # a broken log stream must not hide the job's result
            logger.warning("log stream of %s failed: %s", self.record.id, error)

    async def _wait_end(
        self, operation: operation_pb2.Operation | None
    ) -> project_job_service_pb2.ExecuteProjectJobResponse | None:
        if operation is None:
            await self._poll_job()
            return None
        try:
            final = await self.client.wait_operation(
                operation,
                on_update=self._on_operation,
                max_interval=OPERATION_POLL_MAX_S,
                wake=self._logs_ended,
            )
        except OperationFailed as failure:
            await self._apply_job(await self.client.get(self.record.id))
            self.record = self.record.model_copy(
                update={"status_details": self.record.status_details or failure.details}
            )
            return None
        response = execute_response(final)
        await self._apply_job(await self.client.get(self.record.id), exit_code=response.result.return_code)
        return response

    async def _poll_job(self) -> None:
        while True:
            job = await self.client.get(self.record.id)
            await self._apply_job(job)
            if self.record.finished:
                return
            await sleep_or_wake(STATUS_POLL_INTERVAL_S, self._logs_ended)

    def _on_operation(self, op: operation_pb2.Operation) -> None:
        meta = execute_metadata(op)
        if meta.HasField("job") and meta.job.id:
            self._update(refresh(self.record, meta.job))

    async def _apply_job(self, job: jobs_pb2.Job, *, exit_code: int | None = None) -> None:
        updated = refresh(self.record, job)
        if exit_code is not None:
            updated = updated.model_copy(update={"exit_code": exit_code})
        self._update(updated, force=True)
        await self._flush_saves()

    def _update(self, updated: JobRecord, *, force: bool = False) -> None:
        changed = (updated.status, updated.status_details, updated.exit_code) != (
            self.record.status,
            self.record.status_details,
            self.record.exit_code,
        )
        self.record = updated.model_copy(
            update={"log_offset": max(updated.log_offset, self.record.log_offset)}
        )
        if changed or force:
            self._save(self.record)
            if changed:
                self.sink(JobChanged(job=self.record))

    def _save(self, record: JobRecord) -> None:
        task = asyncio.create_task(self._store(record))
        self._saves.add(task)
        task.add_done_callback(self._saves.discard)

    async def _store(self, record: JobRecord) -> None:
        try:
            await self.history.upsert(record)
        except Exception as error:  # history is best effort while following; the run goes on
            logger.warning("could not save job %s to history: %s", record.id, error)

    async def _flush_saves(self) -> None:
        if self._saves:
            await asyncio.gather(*list(self._saves), return_exceptions=True)
        await self._store(self.record)
