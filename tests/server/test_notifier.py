"""Log batching: few messages for many lines, order kept across streams, nothing lost or late."""

from __future__ import annotations

import asyncio
from typing import Any

from dsjobs_lsp.core.jobs.events import LogLines
from dsjobs_lsp.server.notifier import LogBatcher, human_size


class Recorder:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def __call__(self, method: str, params: dict[str, Any]) -> None:
        assert method == "dsjobs/log"
        self.sent.append(params)


async def test_lines_are_coalesced_in_order_and_flushed_after_the_delay() -> None:
    recorder = Recorder()
    batcher = LogBatcher(recorder, delay=0.02, max_lines=10_000)
    for i in range(500):
        batcher.add(LogLines(job_id="j", stream="stdout", lines=[f"out {i}"]))
    batcher.add(LogLines(job_id="j", stream="stderr", lines=["err"]))
    batcher.add(LogLines(job_id="j", stream="stdout", lines=["after"]))

    assert recorder.sent == []  # nothing before the delay
    await asyncio.sleep(0.1)

    assert [(m["stream"], len(m["lines"])) for m in recorder.sent] == [
        ("stdout", 500),
        ("stderr", 1),
        ("stdout", 1),
    ]
    assert recorder.sent[0]["lines"][:2] == ["out 0", "out 1"]


async def test_a_full_buffer_goes_out_at_once_in_bounded_messages() -> None:
    recorder = Recorder()
    batcher = LogBatcher(recorder, delay=10.0, max_lines=100)

    batcher.add(LogLines(job_id="j", stream="stdout", lines=[str(i) for i in range(250)]))

    assert [len(m["lines"]) for m in recorder.sent] == [100, 100, 50]
    assert [line for m in recorder.sent for line in m["lines"]] == [str(i) for i in range(250)]


def test_sizes_read_like_the_reference() -> None:
    assert (human_size(512), human_size(1536), human_size(136 * 1024 * 1024)) == ("512B", "1.5KB", "136.0MB")


def test_by_default_a_message_carries_up_to_ten_thousand_lines() -> None:
    recorder = Recorder()
    batcher = LogBatcher(recorder)

    batcher.add(LogLines(job_id="j", stream="stdout", lines=[str(i) for i in range(25_000)]))

    assert [len(m["lines"]) for m in recorder.sent] == [10_000, 10_000, 5_000]
