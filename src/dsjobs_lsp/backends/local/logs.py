"""Streaming a job's journal to ReadLogs / ReadStdLogs clients: resumable by offset, woken on every write."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import grpc

from .engine import JobEngine
from .journal import KIND_ERR, KIND_OUT, READ_CHUNK, JournalError, LogRecord
from .operations import ApiError

SYSTEM_LOG = ".system.log"
IDLE_WAKE_SECONDS = 1.0
BUSY_GATHER_SECONDS = 0.005


async def stream_records(
    engine: JobEngine, job_id: str, offset: int
) -> AsyncIterator[tuple[list[LogRecord], int]]:
    """Batches of records from ``offset`` (-1: from now) with the offset after each batch.

    Runs while the job has not finished; ends once it finished and every record was sent. After a read that
    caught up with the writer, the next one waits ``BUSY_GATHER_SECONDS`` so a chatty job costs few reads.
    """
    row = engine.row(job_id)
    if offset < -1:
        raise ApiError(
            grpc.StatusCode.INVALID_ARGUMENT, f"offset {offset} is negative (only -1 means 'from now')"
        )
    if row.job.data_cleared:
        raise ApiError(grpc.StatusCode.FAILED_PRECONDITION, f"the data of job {job_id} was cleared")
    journal = engine.journal(job_id)
    if offset == -1:
        offset = await journal.size()
    while True:
        version = journal.version
        finished = row.finished
        try:
            records, next_offset = await journal.read(offset)
        except JournalError as error:
            raise ApiError(grpc.StatusCode.INVALID_ARGUMENT, str(error)) from None
        if records:
            caught_up = next_offset - offset < READ_CHUNK // 2
            offset = next_offset
            yield records, offset
            if caught_up:
                await asyncio.sleep(BUSY_GATHER_SECONDS)  # a busy writer: fewer, larger reads
            continue
        if finished or row.job.data_cleared:
            return
        await journal.wait(version, IDLE_WAKE_SECONDS)


def stripped_reader_parts(content: bytes) -> list[bytes]:
    """A record's content cut so that a reader stripping each message's content keeps every line.

    The reference CLI prints ``content.strip().split("\\n")``: whitespace-only lines at either edge of a
    multi-line content would vanish, so each of those goes out as a message of its own (it prints as an empty
    line, as it did when every line was a record). Only the edges are looked at.
    """
    start, end = 0, len(content)
    head: list[bytes] = []
    while (cut := content.find(b"\n", start, end) + 1) and cut < end and content[start:cut].isspace():
        head.append(content[start:cut])
        start = cut
    tail: list[bytes] = []
    while start < end:
        cut = content.rfind(b"\n", start, end - 1) + 1
        if cut <= start or not content[cut:end].isspace():
            break
        tail.append(content[cut:end])
        end = cut
    return [*head, content[start:end], *reversed(tail)]


def is_std_stream(record: LogRecord) -> bool:
    """Whether the record is the program's stdout/stderr."""
    return record.kind in (KIND_OUT, KIND_ERR)
