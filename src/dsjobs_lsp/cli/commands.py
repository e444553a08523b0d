"""The `dsjobs` commands that talk to a backend; each returns the process exit code.

`run` and `fork` import what only they need (the launch form, the packaging) when they are called.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from dsjobs_lsp.cli.console import ConsolePrinter
from dsjobs_lsp.cli.output import EXECUTION_FIELDS, JOB_FIELDS, ExecutionData, Field, write_entities
from dsjobs_lsp.core.jobs.events import Event, JobChanged
from dsjobs_lsp.core.jobs.request import RunOutcome, RunRequest
from dsjobs_lsp.core.jobs.runner import JobRunner

PROJECT_FIELDS: tuple[Field, ...] = (
    Field(lambda p: p.id, "id", "ID"),
    Field(lambda p: p.name, "name", "Name"),
    Field(lambda p: p.community_id, "community_id", "Community ID"),
)


class JobTracker:
    """Wraps the printer and remembers the job id, so Ctrl-C can say how to attach."""

    def __init__(self, printer: ConsolePrinter) -> None:
        self.printer = printer
        self.job_id: str | None = None

    def __call__(self, event: Event) -> None:
        if isinstance(event, JobChanged):
            self.job_id = event.job.id
        self.printer(event)


@contextmanager
def open_output(path: str | None) -> Iterator[TextIO]:
    """`-o FILE` or stdout."""
    if path is None or path == "-":
        yield sys.stdout
        return
    with open(path, "w", encoding="utf-8") as stream:
        yield stream


def exit_code_of(outcome: RunOutcome) -> int:
    """The program's exit code; 1 when the job failed without one."""
    if outcome.exit_code is not None:
        return outcome.exit_code
    return 0 if outcome.succeeded else 1


async def _started(outcome: RunOutcome, args: argparse.Namespace, tracker: JobTracker) -> int:
    if getattr(args, "async_", False):
        if args.output and outcome.job_id and outcome.operation_id:
            with open_output(args.output) as out:
                write_entities(
                    [ExecutionData(outcome.job_id, outcome.operation_id)], EXECUTION_FIELDS, out, "json"
                )
        return 0
    return exit_code_of(outcome)


async def cmd_execute(runner: JobRunner, args: argparse.Namespace, tracker: JobTracker) -> int:
    """`project job execute -c config.yaml` (paths relative to the current folder, as in the reference)."""
    request = RunRequest(
        working_dir=Path.cwd(),
        config_path=Path(args.config),
        project_id=args.project_id,
        wait=not args.async_,
    )
    return await _started(await runner.run(request, tracker), args, tracker)


async def cmd_run(runner: JobRunner, args: argparse.Namespace, tracker: JobTracker) -> int:
    """`run FILE [ARGS...]`: the file as a job, from its folder."""
    from dsjobs_lsp.cli.run_file import RunFileOptions, build_launch

    options = RunFileOptions(
        file=Path(args.file),
        args=list(args.args),
        inputs=args.input,
        outputs=args.output,
        env=args.env,
        instance_type=args.instance_type,
        config_file=Path(args.config) if args.config else None,
        project_id=args.project_id,
    )
    launch = await asyncio.to_thread(build_launch, options)
    program = Path(args.file)
    request = RunRequest(
        working_dir=program.parent,
        launch=launch,
        entry_file=program,
        project_id=args.project_id,
        wait=not args.async_,
    )
    outcome = await runner.run(request, tracker)
    if args.async_ and outcome.job_id:
        tracker.printer.console(
            f"job `{outcome.job_id}` runs; follow it with: dsjobs project job attach --id {outcome.job_id}"
        )
    return await _started(outcome, argparse.Namespace(async_=args.async_, output=None), tracker)


async def cmd_fork(runner: JobRunner, args: argparse.Namespace, tracker: JobTracker) -> int:
    """`project job fork --id ...`."""
    from dsjobs_lsp.core.jobs.fork import ForkOverrides, parse_name_values

    overrides = ForkOverrides(
        args=parse_name_values(args.arg, "--arg"),
        vars=parse_name_values(args.var, "--var"),
        env_vars=parse_name_values(args.env_var, "--env-var"),
        name=args.name,
        desc=args.desc,
        docker_image_id=args.docker_image_id,
        docker_image_url=args.docker_image_url,
        docker_image_username=args.docker_image_username,
        docker_image_password_secret_id=args.docker_image_password_secret_id,
        working_storage_type=args.working_storage_type,
        working_storage_size=args.working_storage_size,
        cloud_instance_types=args.cloud_instance_type,
    )
    outcome = await runner.fork(args.id, overrides, tracker, working_dir=Path.cwd(), wait=not args.async_)
    return await _started(outcome, args, tracker)


async def cmd_attach(runner: JobRunner, args: argparse.Namespace, tracker: JobTracker) -> int:
    """`project job attach --id`: follow from the last offset; never executes."""
    tracker.job_id = args.id
    output_dir = Path(args.output_dir) if args.output_dir else None
    return exit_code_of(await runner.attach(args.id, tracker, output_dir=output_dir))


async def cmd_list(runner: JobRunner, args: argparse.Namespace, tracker: JobTracker) -> int:
    """`project job list -p` (printed while the statuses of the jobs in history are refreshed)."""

    def show(jobs: list[Any]) -> None:
        with open_output(args.output) as out:
            write_entities(jobs, JOB_FIELDS, out, args.format)

    await runner.list_remote(args.project_id, show=show, only_known=True)
    return 0


async def cmd_get(runner: JobRunner, args: argparse.Namespace, tracker: JobTracker) -> int:
    """`project job get --id`."""
    job = await runner.get(args.id)
    with open_output(args.output) as out:
        write_entities([job], JOB_FIELDS, out, args.format)
    return 0


async def cmd_cancel(runner: JobRunner, args: argparse.Namespace, tracker: JobTracker) -> int:
    """`project job cancel --id [--graceful]`."""
    await runner.cancel(args.id, graceful=args.graceful)
    tracker.printer.console("job is canceled")
    return 0


async def cmd_delete(runner: JobRunner, args: argparse.Namespace, tracker: JobTracker) -> int:
    """`project job delete --id`."""
    await runner.delete(args.id)
    tracker.printer.console("job deleted")
    return 0


async def cmd_set_data_ttl(runner: JobRunner, args: argparse.Namespace, tracker: JobTracker) -> int:
    """`project job set-data-ttl --id --days N|infinity`."""
    days: int | None = None
    if args.days.lower() not in ("infinity", "inf"):
        try:
            days = int(args.days)
        except ValueError:
            raise ValueError('TTL should be either number of days or literal "infinity"') from None
        if days < 1:
            raise ValueError("TTL days should be positive")
    await runner.set_data_ttl(args.id, days)
    tracker.printer.console("data ttl updated")
    return 0


async def cmd_download_files(runner: JobRunner, args: argparse.Namespace, tracker: JobTracker) -> int:
    """`project job download-files --id [--output-dir D]`: files at their paths under the current folder,
    or directly in D under their base names (as the reference CLI does)."""
    output_dir = Path(args.output_dir) if args.output_dir else Path.cwd()
    await runner.download_files(
        args.id,
        output_dir,
        tracker,
        with_logs=args.with_logs,
        with_diagnostics=args.with_diagnostics,
        flat=args.output_dir is not None,  # the reference writes `D/<basename>`
    )
    return 0


async def cmd_project_get(runner: JobRunner, args: argparse.Namespace, tracker: JobTracker) -> int:
    """`project get --id`."""
    async with runner.session() as session:
        project = await session.client.get_project(args.id)
    with open_output(args.output) as out:
        write_entities([project], PROJECT_FIELDS, out, args.format)
    return 0


Command = Callable[["JobRunner", argparse.Namespace, JobTracker], Coroutine[Any, Any, int]]

BACKEND_COMMANDS: dict[str, Command] = {
    "execute": cmd_execute,
    "run": cmd_run,
    "fork": cmd_fork,
    "attach": cmd_attach,
    "list": cmd_list,
    "get": cmd_get,
    "cancel": cmd_cancel,
    "delete": cmd_delete,
    "set_data_ttl": cmd_set_data_ttl,
    "download_files": cmd_download_files,
    "project_get": cmd_project_get,
}
FOLLOWING_COMMANDS = frozenset({"execute", "run", "fork", "attach"})
