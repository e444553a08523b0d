"""Running and following jobs for the editor: run/attach as background tasks, cancel, history, links.

The core's `JobRunner` does the work; this module owns the tasks, answers `runFile` as soon as the job exists,
and turns each run's end or failure into a message for the user.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

from lsprotocol import types

from dsjobs_lsp.server import forms
from dsjobs_lsp.server.errors import CommandError, to_command_error
from dsjobs_lsp.server.notifier import ProgressReporter, RunEvents
from dsjobs_lsp.server.protocol import RUN_ENDED, RunEndedNotification, RunFileArgs, RunResult

if TYPE_CHECKING:
    from dsjobs_lsp.core.jobs.history import History
    from dsjobs_lsp.core.jobs.models import JobRecord
    from dsjobs_lsp.core.jobs.request import RunOutcome, RunRequest
    from dsjobs_lsp.core.jobs.runner import JobRunner
    from dsjobs_lsp.core.settings import Settings
    from dsjobs_lsp.server.app import DsjobsServer

JobWork = Callable[[RunEvents], Awaitable["RunOutcome"]]


class JobService:
    """One per server: the runner for the current settings and the runs in flight."""

    def __init__(self, server: DsjobsServer) -> None:
        self._server = server
        self._runner: JobRunner | None = None
        self._generation = -1
        self._lock = asyncio.Lock()

    async def runner(self) -> JobRunner:
        """The core runner, rebuilt when the settings or the token changed."""
        async with self._lock:
            session = self._server.session
            if self._runner is None or self._generation != session.generation:
                from dsjobs_lsp.core.jobs.runner import JobRunner

                generation = session.generation
                self._runner = JobRunner(await session.settings())
                self._generation = generation
            return self._runner

    async def run_file(self, args: RunFileArgs) -> RunResult:
        """Start the file as a job; return its id once the backend created it."""
        run_id = args.run_id or uuid.uuid4().hex[:12]
        runner = await self.runner()
        request = await self._request(args)
        events = self._events(run_id)
        self._server.spawn(self._drive(events, lambda sink: runner.run(request, sink)), f"run-{run_id}")
        return RunResult(job_id=await events.job_id, run_id=run_id)

    async def attach(self, job_id: str) -> RunResult:
        """Follow a job in the background; answers at once."""
        run_id = uuid.uuid4().hex[:12]
        runner = await self.runner()
        events = self._events(run_id)
        events.job_id.set_result(job_id)
        self._server.spawn(self._drive(events, lambda sink: runner.attach(job_id, sink)), f"attach-{job_id}")
        return RunResult(job_id=job_id, run_id=run_id)

    async def cancel(self, job_id: str, graceful: bool) -> None:
        """Ask the backend to stop the job; its end arrives through the run or attach following it."""
        runner = await self.runner()
        record = await runner.cancel(job_id, graceful)
        if record is not None:
            self._notify_job(record)

    async def history(self, project_id: str | None) -> list[JobRecord]:
        """History merged with the backend's list, newest first."""
        runner = await self.runner()
        return await runner.list(project_id)

    async def job_link(self, job_id: str) -> str | None:
        """The job's link from history (asking the backend when history has none)."""
        runner = await self.runner()
        history: History = runner.history
        record = await history.get(job_id)
        if record is not None and record.link:
            return record.link
        async with runner.session() as session:
            link: str | None = await session.client.job_link(await session.client.get(job_id))
        if record is not None and link:
            await history.upsert(record.model_copy(update={"link": link}))
        return link

    # -- internals ----------------------------------------------------------------------------------------

    async def _request(self, args: RunFileArgs) -> RunRequest:
        settings = await self._server.session.settings()
        return await asyncio.to_thread(_run_request, settings, args)

    def _events(self, run_id: str) -> RunEvents:
        server = self._server
        progress = ProgressReporter(
            server.work_done_progress, run_id, enabled=server.supports_work_done_progress
        )
        return RunEvents(server.send, server.logs, progress, run_id)

    async def _drive(self, events: RunEvents, work: JobWork) -> None:
        """Run `work` to its end and tell the user how it ended; failures never escape as tracebacks.

        A failure before the job exists goes to `events.job_id` (the `runFile` request reports it).
        """
        try:
            outcome = await work(events)
        except Exception as exc:
            error = to_command_error(exc)
            events.console(error.message, "error")
            if events.job_id.done():
                self._server.show(f"DataSphere Jobs: {error.message}")
            else:
                events.job_id.set_exception(error)
            await events.close()
            self._ended(events, None, error.message)
            return
        await events.close()
        if not events.job_id.done():
            events.job_id.set_exception(CommandError("backend", "the run ended before a job was created"))
        self._report(outcome)
        self._ended(events, outcome, None)

    def _ended(self, events: RunEvents, outcome: RunOutcome | None, error: str | None) -> None:
        job_id = events.job_id.result() if events.job_id.done() and not events.job_id.exception() else None
        payload = RunEndedNotification(
            run_id=events.run_id,
            job_id=outcome.job_id if outcome and outcome.job_id else job_id,
            status=outcome.status.value if outcome else None,
            exit_code=outcome.exit_code if outcome else None,
            succeeded=bool(outcome and outcome.succeeded),
            error=error,
        )
        self._server.send(RUN_ENDED, payload.wire())

    def _report(self, outcome: RunOutcome) -> None:
        job = outcome.job_id or "?"
        if outcome.record is not None and not outcome.record.finished:
            return  # stopped following before the end: nothing to announce
        if outcome.succeeded:
            self._server.show(f"DataSphere job {job} completed successfully", types.MessageType.Info)
            return
        code = f", exit code {outcome.exit_code}" if outcome.exit_code else ""
        self._server.show(f"DataSphere job {job} ended with {outcome.status.value}{code}")

    def _notify_job(self, record: JobRecord) -> None:
        from dsjobs_lsp.server.protocol import JOB_CHANGED, JobChangedNotification, JobPayload

        self._server.send(JOB_CHANGED, JobChangedNotification(job=JobPayload.of(record)).wire())


def _run_request(settings: Settings, args: RunFileArgs) -> RunRequest:
    """The core's request for `runFile` (the form as given, or the file's resolved form)."""
    from dsjobs_lsp.core.jobs.request import RunRequest

    program = Path(args.file).expanduser().resolve()
    if not program.is_file():
        raise CommandError("notFound", f"file not found: {program}")
    config = args.config
    if config is None:
        config = forms.resolve_config_sync(settings, str(program), None).config
    launch = forms.parse_launch(config)
    if not launch.program:
        launch = launch.model_copy(update={"program": str(program)})
    working_dir = program.parent
    if launch.working_directory:
        working_dir = Path(launch.working_directory).expanduser()
    return RunRequest(
        working_dir=working_dir, launch=launch, entry_file=program, project_id=launch.project_id
    )
