"""Log lines keep the order the job wrote them across sources."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator

from yandex.cloud.datasphere.v2.jobs import project_job_service_pb2 as pb

from dsjobs_lsp.core.client.logs import LineSplitter, LogChunk, _chunks_of, ready_batches


def test_lines_of_different_sources_keep_their_written_order() -> None:
    response = pb.ReadProjectJobLogsResponse(
        offset=10,
        logs=[
            pb.LogMessage(file_path=".system.log", content=b"job process started\n"),
            pb.LogMessage(standard_stream=pb.StandardStream.OUT, content=b"hello\n"),
            pb.LogMessage(standard_stream=pb.StandardStream.OUT, content=b"again\n"),
            pb.LogMessage(standard_stream=pb.StandardStream.ERR, content=b"warn\n"),
            pb.LogMessage(file_path=".system.log", content=b"the job process exited\n"),
        ],
    )
    chunks = _chunks_of(response, LineSplitter(), 4)
    assert [(c.stream, c.lines, c.offset) for c in chunks] == [
        ("system", ["job process started"], 4),
        ("stdout", ["hello", "again"], 4),
        ("stderr", ["warn"], 4),
        ("system", ["the job process exited"], 10),
    ], "only the last chunk of a response may say its lines are all shown"


def test_a_message_of_many_lines_splits_into_lines_keeping_blank_ones() -> None:
    response = pb.ReadProjectJobLogsResponse(
        offset=30,
        logs=[
            pb.LogMessage(standard_stream=pb.StandardStream.OUT, content=b"one\n\n  three\r\nfour\n"),
            pb.LogMessage(standard_stream=pb.StandardStream.OUT, content=b"five\n"),
        ],
    )
    [chunk] = _chunks_of(response, LineSplitter(), 0)
    assert chunk.lines == ["one", "", "  three", "four", "five"]


async def test_ready_batches_group_what_arrived_meanwhile_and_close_the_stream_when_left() -> None:
    closed = asyncio.Event()

    async def stream() -> AsyncGenerator[LogChunk, None]:
        try:
            yield LogChunk("stdout", ["first"], 1)
            await asyncio.sleep(0)
            for offset in range(2, 11):
                yield LogChunk("stdout", [str(offset)], offset)
            await asyncio.sleep(3600)
        finally:
            closed.set()

    offsets: list[list[int]] = []
    async with contextlib.aclosing(ready_batches(stream(), max_waiting=16)) as batches:
        async for batch in batches:
            offsets.append([chunk.offset for chunk in batch])
            await asyncio.sleep(0.01)  # busy printing: the next chunks arrive meanwhile
            if batch[-1].offset == 10:
                break

    assert offsets == [[1], list(range(2, 11))]
    await asyncio.wait_for(closed.wait(), 5)
