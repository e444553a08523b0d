"""Core events → LSP notifications: batched `dsjobs/log`, `dsjobs/console`, `dsjobs/jobChanged`, progress.

`LogBatcher` coalesces log lines for a few milliseconds so a chatty job costs a few messages per second;
`ProgressReporter` drives work-done progress (whose token creation is a request, hence its own task);
`RunEvents` is the `EventSink` of one run or attach.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from lsprotocol import types

from dsjobs_lsp.core.jobs.events import ConsoleLine, Event, JobChanged, LogLines, Progress
from dsjobs_lsp.server import protocol
from dsjobs_lsp.server.protocol import (
    ConsoleNotification,
    JobChangedNotification,
    JobPayload,
    ProgressNotification,
)

Send = Callable[[str, dict[str, Any]], None]

LOG_BATCH_DELAY_S = 0.03
LOG_BATCH_MAX_LINES = 10000

STAGE_TITLES = {
    "analysis": "DataSphere Jobs: analysing environment",
    "packaging": "DataSphere Jobs: packaging files",
    "upload": "DataSphere Jobs: uploading files",
    "execute": "DataSphere Jobs: executing job",
    "download": "DataSphere Jobs: downloading outputs",
}
_BYTE_STAGES = ("upload", "download")

log = logging.getLogger("dsjobs_lsp.server")


class LogBatcher:
    """Buffers `LogLines` and sends them as few `dsjobs/log` messages as possible, in order."""

    def __init__(self, send: Send, *, delay: float = LOG_BATCH_DELAY_S, max_lines: int = LOG_BATCH_MAX_LINES):
        self._send = send
        self._delay = delay
        self._max_lines = max_lines
        self._pending: list[tuple[str, str, list[str]]] = []
        self._count = 0
        self._timer: asyncio.TimerHandle | None = None

    def add(self, event: LogLines) -> None:
        """Queue lines; they go out within `delay` seconds, or at once when the buffer is full."""
        if not event.lines:
            return
        if self._pending and self._pending[-1][:2] == (event.job_id, event.stream):
            self._pending[-1][2].extend(event.lines)
        else:
            self._pending.append((event.job_id, event.stream, list(event.lines)))
        self._count += len(event.lines)
        if self._count >= self._max_lines:
            self.flush()
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self._delay, self.flush)

    def flush(self) -> None:
        """Send everything buffered now."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        pending, self._pending, self._count = self._pending, [], 0
        for job_id, stream, lines in pending:
            for start in range(0, len(lines), self._max_lines):
                chunk = lines[start : start + self._max_lines]
                self._send(protocol.LOG, {"jobId": job_id, "stream": stream, "lines": chunk})


class ProgressReporter:
    """Work-done progress of one run: a token per stage, created, begun, reported and ended in order."""

    def __init__(self, progress: Any, run_id: str, *, enabled: bool) -> None:
        self._progress = progress  # pygls `Progress` (server.work_done_progress)
        self._run_id = run_id
        self._enabled = enabled
        self._queue: asyncio.Queue[Progress | None] = asyncio.Queue()
        self._open: dict[str, str] = {}
        self._task = asyncio.create_task(self._consume()) if enabled else None

    def push(self, event: Progress) -> None:
        """Queue a progress event (no-op when the client has no work-done progress)."""
        if self._task is not None:
            self._queue.put_nowait(event)

    async def close(self) -> None:
        """End every open token, after the queued events."""
        if self._task is None:
            return
        self._queue.put_nowait(None)
        with contextlib.suppress(Exception):
            await self._task

    async def _consume(self) -> None:
        while (event := await self._queue.get()) is not None:
            try:
                await self._apply(event)
            except Exception as exc:  # the client refused a token: progress is optional
                log.warning("work-done progress failed: %s", exc)
        for token in list(self._open.values()):
            self._progress.end(token, types.WorkDoneProgressEnd())
        self._open.clear()

    async def _apply(self, event: Progress) -> None:
        token = self._open.get(event.stage)
        if token is None:
            token = f"dsjobs/{self._run_id}/{event.stage}"
            await self._progress.create_async(token)
            self._progress.begin(
                token,
                types.WorkDoneProgressBegin(
                    title=STAGE_TITLES.get(event.stage, f"DataSphere Jobs: {event.stage}"),
                    cancellable=False,
                    percentage=0 if event.total else None,
                ),
            )
            self._open[event.stage] = token
        if event.finished:
            self._progress.end(token, types.WorkDoneProgressEnd(message=progress_message(event) or None))
            del self._open[event.stage]
        else:
            report = types.WorkDoneProgressReport(message=progress_message(event), percentage=event.percent)
            self._progress.report(token, report)


def progress_message(event: Progress) -> str:
    """`uploading 3 files: 12.0MB / 129.7MB` — the event's message plus the byte counts of transfers."""
    parts = [event.message] if event.message else []
    if event.stage in _BYTE_STAGES and event.total:
        parts.append(f"{human_size(event.done)} / {human_size(event.total)}")
    return ": ".join(parts)


def human_size(size: int) -> str:
    """`129.7MB`, as the reference CLI prints sizes."""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f}{unit}" if unit == "B" else f"{value:.1f}{unit}"
        value /= 1024
    return f"{value:.1f}GB"


class RunEvents:
    """The `EventSink` of one run or attach: forwards events as notifications and learns the job id."""

    def __init__(self, send: Send, logs: LogBatcher, progress: ProgressReporter, run_id: str) -> None:
        self._send = send
        self._logs = logs
        self._progress = progress
        self.run_id = run_id
        self.job_id: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self.last_job: JobPayload | None = None

    def __call__(self, event: Event) -> None:
        """Forward one core event (called by the core on the event loop; returns at once)."""
        if isinstance(event, LogLines):
            self._logs.add(event)
            return
        self._logs.flush()  # what the program printed so far comes before the narrative that follows
        if isinstance(event, ConsoleLine):
            self.console(event.text, event.level, job_id=event.job_id)
        elif isinstance(event, JobChanged):
            self._job_changed(event)
        elif isinstance(event, Progress):
            self._progress_event(event)

    def console(self, line: str, level: str = "info", *, job_id: str | None = None) -> None:
        """Send one `dsjobs/console` line of this run."""
        known = job_id or (self.job_id.result() if self.job_id.done() else None)
        payload = ConsoleNotification(job_id=known, run_id=self.run_id, line=line, level=level)  # type: ignore[arg-type]
        self._send(protocol.CONSOLE, payload.wire())

    async def close(self) -> None:
        """Flush logs and end progress; call when the run is over."""
        self._logs.flush()
        await self._progress.close()

    def _job_changed(self, event: JobChanged) -> None:
        self.last_job = JobPayload.of(event.job)
        if not self.job_id.done():
            self.job_id.set_result(event.job.id)
        self._send(protocol.JOB_CHANGED, JobChangedNotification(job=self.last_job).wire())

    def _progress_event(self, event: Progress) -> None:
        job_id = event.job_id or (self.job_id.result() if self.job_id.done() else None)
        payload = ProgressNotification(
            job_id=job_id,
            run_id=self.run_id,
            stage=event.stage,
            message=progress_message(event),
            done=event.done,
            total=event.total,
            percent=event.percent,
            finished=event.finished,
        )
        self._send(protocol.PROGRESS, payload.wire())
        self._progress.push(event)
