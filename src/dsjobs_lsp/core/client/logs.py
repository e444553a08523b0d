"""Follow a job's logs over ``ReadLogs``: whole lines, resumed from the last offset after a dropped stream."""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import inspect
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import grpc
import grpc.aio
from yandex.cloud.datasphere.v2.jobs import jobs_pb2, project_job_service_pb2
from yandex.cloud.datasphere.v2.jobs.project_job_service_pb2_grpc import ProjectJobServiceStub

from dsjobs_lsp.core.client.channels import Metadata
from dsjobs_lsp.core.jobs.events import LogStream

logger = logging.getLogger(__name__)

SYSTEM_LOG = ".system.log"
RESUMABLE_CODES = frozenset(
    {
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.CANCELLED,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.UNKNOWN,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
    }
)
FINISHED_STATUSES = frozenset(
    {
        jobs_pb2.JobStatus.SUCCESS,
        jobs_pb2.JobStatus.ERROR,
        jobs_pb2.JobStatus.CANCELLED,
    }
)
MAX_CONSECUTIVE_FAILURES = 30


@dataclass(frozen=True)
class LogChunk:
    """Complete lines from one source of a job's logs.

    ``stream`` is ``stdout``/``stderr`` for the program's standard streams and ``system`` for log files; then
    ``file_path`` names the file: ``.system.log`` (the service's own log) or another file (e.g. a user log,
    ``.docker_stats.tsv``) that the caller may write to disk. ``offset`` is where to resume reading after
    these lines and every line yielded before them: the last chunk of a response carries the response's
    offset, the chunks before it the offset before the response (resuming there repeats them, never skips
    one). Persist it for attach.
    """

    stream: LogStream
    lines: list[str]
    offset: int
    file_path: str | None = None

    @property
    def is_system_log(self) -> bool:
        """True for the service's ``.system.log``."""
        return self.file_path == SYSTEM_LOG


@dataclass
class Backoff:
    """Delays between reconnections: ``initial`` growing by ``factor`` up to ``maximum``; reset on data."""

    initial: float = 0.2
    maximum: float = 5.0
    factor: float = 2.0
    _next: float = field(default=0.0, init=False)

    def reset(self) -> None:
        """Start again from the initial delay."""
        self._next = 0.0

    def next_delay(self) -> float:
        """The delay to wait now."""
        self._next = self.initial if self._next == 0.0 else min(self.maximum, self._next * self.factor)
        return self._next


async def sleep_or_wake(delay: float, wake: asyncio.Event | None) -> None:
    """Sleep ``delay`` seconds, or less when ``wake`` is set (it is cleared: one early wake per set)."""
    if wake is None:
        await asyncio.sleep(delay)
        return
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(wake.wait(), delay)
    wake.clear()


async def ready_batches(
    chunks: AsyncIterator[LogChunk], max_waiting: int = 4
) -> AsyncGenerator[list[LogChunk], None]:
    """``chunks`` in order, grouped: each batch holds every chunk that arrived while the caller was busy.

    A caller that prints and then saves the offset per batch does so as often as it can keep up, not once per
    network message. At most ``max_waiting`` chunks wait; then reading pauses. Errors of ``chunks`` are raised
    after the batches received before them.
    """
    pending: list[LogChunk] = []
    arrived, room = asyncio.Event(), asyncio.Event()
    done = False

    async def receive() -> None:
        nonlocal done
        try:
            async for chunk in chunks:
                pending.append(chunk)
                arrived.set()
                while len(pending) >= max_waiting:
                    room.clear()
                    await room.wait()
        finally:
            done = True
            arrived.set()
            if inspect.isasyncgen(chunks):
                await chunks.aclose()  # cancelled while waiting for room: end the stream now

    receiver = asyncio.create_task(receive())
    try:
        while True:
            if not pending and not done:
                await arrived.wait()
                arrived.clear()
            if pending:
                batch = pending[:]
                pending.clear()
                room.set()
                yield batch
            elif done:
                break
        await receiver
    finally:
        if not receiver.done():
            receiver.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await receiver


class LineSplitter:
    """Splits byte chunks of each source into lines, keeping partial lines (and UTF-8 sequences) pending."""

    def __init__(self) -> None:
        self._decoders: dict[tuple[LogStream, str | None], codecs.IncrementalDecoder] = {}
        self._pending: dict[tuple[LogStream, str | None], str] = {}

    def feed(self, source: tuple[LogStream, str | None], content: bytes) -> list[str]:
        """The lines completed by ``content``."""
        decoder = self._decoders.get(source)
        if decoder is None:
            decoder = self._decoders[source] = codecs.getincrementaldecoder("utf-8")(errors="replace")
        text = self._pending.pop(source, "") + decoder.decode(content)
        *lines, rest = text.split("\n")
        if rest:
            self._pending[source] = rest
        if "\r" in text:
            return [line.removesuffix("\r") for line in lines]
        return lines

    def flush(self) -> list[tuple[tuple[LogStream, str | None], str]]:
        """The unterminated last line of every source."""
        rest = [
            (source, text + self._decoders[source].decode(b"", final=True))
            for source, text in self._pending.items()
        ]
        self._pending.clear()
        return [(source, text.removesuffix("\r")) for source, text in rest if text]


def _source_of(message: project_job_service_pb2.LogMessage) -> tuple[LogStream, str | None]:
    if message.WhichOneof("source") == "file_path":
        return "system", message.file_path
    if message.standard_stream == project_job_service_pb2.StandardStream.ERR:
        return "stderr", None
    return "stdout", None


def _chunks_of(
    response: project_job_service_pb2.ReadProjectJobLogsResponse, splitter: LineSplitter, offset_before: int
) -> list[LogChunk]:
    """The response's lines as chunks in written order (consecutive lines of one source merged).

    Only the last chunk carries the response's offset; the others ``offset_before`` (see ``LogChunk``).
    """
    runs: list[tuple[tuple[LogStream, str | None], list[str]]] = []
    for message in response.logs:
        source = _source_of(message)
        lines = splitter.feed(source, message.content)
        if not lines:
            continue
        if runs and runs[-1][0] == source:
            runs[-1][1].extend(lines)
        else:
            runs.append((source, lines))
    last = len(runs) - 1
    return [
        LogChunk(stream, lines, response.offset if index == last else offset_before, path)
        for index, ((stream, path), lines) in enumerate(runs)
    ]


async def _is_finished(job_status: Callable[[str], Awaitable[int]], job_id: str) -> bool:
    try:
        return await job_status(job_id) in FINISHED_STATUSES
    except grpc.aio.AioRpcError as error:
        if error.code() not in RESUMABLE_CODES:
            raise
        return False


async def follow_logs(
    stub: ProjectJobServiceStub,
    job_id: str,
    *,
    offset: int,
    metadata: Callable[[], Awaitable[Metadata]],
    job_status: Callable[[str], Awaitable[int]],
    backoff: Backoff | None = None,
) -> AsyncGenerator[LogChunk, None]:
    """Yield the job's log lines from ``offset`` until the job is finished and its stream has ended.

    A stream that fails with a transient status, or ends while the job still runs, is reopened from the last
    offset with backoff, so no line is lost or repeated. The end is trusted only from a stream opened after
    the job was already seen finished (so lines written just before the end are not missed).
    """
    delays = backoff or Backoff()
    splitter = LineSplitter()
    seen_finished = False
    failures = 0
    while True:
        opened_after_finish = seen_finished
        ended = False
        try:
            request = project_job_service_pb2.ReadProjectJobLogsRequest(job_id=job_id, offset=offset)
            async for response in stub.ReadLogs(request, metadata=await metadata()):
                offset_before, offset = offset, response.offset
                failures = 0
                delays.reset()
                for chunk in _chunks_of(response, splitter, offset_before):
                    yield chunk
            ended = True
        except grpc.aio.AioRpcError as error:
            failures += 1
            if error.code() not in RESUMABLE_CODES or failures > MAX_CONSECUTIVE_FAILURES:
                raise
            logger.debug("log stream of %s dropped (%s); resuming from %d", job_id, error.code().name, offset)
        if ended and opened_after_finish:
            break
        seen_finished = seen_finished or await _is_finished(job_status, job_id)
        if not seen_finished or not ended:
            await asyncio.sleep(delays.next_delay())
    for (stream, path), text in splitter.flush():
        yield LogChunk(stream, [text], offset, path)
