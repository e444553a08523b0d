"""The run pipeline end to end against a real local backend (gRPC + HTTP on 127.0.0.1, real job processes)."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml
from yandex.cloud.operation.operation_pb2 import Operation

from dsjobs_lsp.backends.local import LOCAL_PROJECT_ID, LocalServer
from dsjobs_lsp.cli.run_file import RunFileOptions, build_launch
from dsjobs_lsp.core.client import JobsClient
from dsjobs_lsp.core.config import ConfigError
from dsjobs_lsp.core.jobs.backend import BackendTarget
from dsjobs_lsp.core.jobs.events import ConsoleLine, Event, JobChanged, LogLines, Progress
from dsjobs_lsp.core.jobs.models import JobStatus
from dsjobs_lsp.core.jobs.request import RunRequest
from dsjobs_lsp.core.jobs.runner import JobRunner
from dsjobs_lsp.core.settings import Settings


class Recorder:
    """Collects events; `first_line` fires when the program's first stdout line arrives."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.first_line = asyncio.Event()

    def __call__(self, event: Event) -> None:
        self.events.append(event)
        if isinstance(event, LogLines) and event.stream == "stdout":
            self.first_line.set()

    def console(self) -> list[str]:
        return [e.text for e in self.events if isinstance(e, ConsoleLine)]

    def stdout(self) -> list[str]:
        return [
            line for e in self.events if isinstance(e, LogLines) and e.stream == "stdout" for line in e.lines
        ]

    def uploaded_bytes(self) -> int:
        return max(
            (e.done for e in self.events if isinstance(e, Progress) and e.stage == "upload"), default=0
        )


def request_for(project: Path, python: Path, *args: str) -> RunRequest:
    launch = build_launch(RunFileOptions(file=project / "train.py", args=list(args)))
    return RunRequest(working_dir=project, launch=launch, entry_file=project / "train.py", interpreter=python)


async def test_run_streams_logs_in_order_and_brings_outputs_back(
    runner: JobRunner, project: Path, job_python: Path
) -> None:
    events = Recorder()
    outcome = await runner.run(request_for(project, job_python, "--epochs", "3", "--pause", "0.1"), events)

    assert outcome.status == JobStatus.SUCCESS and outcome.exit_code == 0
    job_id = outcome.job_id
    console = events.console()
    expected = [
        "creating job ...",
        re.compile(r"uploading 3 files \(\d+\.\dKB\) \.\.\."),
        "files are uploaded",
        f"created job `{job_id}`",
        "executing job ...",
        re.compile(rf"job link: http://127\.0\.0\.1:\d+/communities/\w+/projects/\w+/job/{job_id}"),
        re.compile(r"downloading 2 files \(\d+\.\dB\) \.\.\."),
        "files are downloaded",
        "job completed successfully",
    ]
    assert len(console) == len(expected), console
    for line, want in zip(console, expected, strict=True):
        assert want.fullmatch(line) if isinstance(want, re.Pattern) else line == want, (line, want)
    stdout = events.stdout()
    assert stdout[0] == "loaded 240 rows from data/train.csv"
    assert [line.split(":")[0] for line in stdout[1:4]] == ["epoch 1/3", "epoch 2/3", "epoch 3/3"]
    assert stdout[4].startswith("r2=0.99") and len(stdout) == 5
    model = json.loads((project / "model.json").read_text())
    assert abs(model["w1"] - 2.5) < 0.2
    assert yaml.safe_load((project / "outputs" / "report.yaml").read_text())["epochs"] == 3

    record = await runner.history.get(job_id or "")
    assert record is not None
    assert (record.status, record.exit_code, record.outputs_downloaded) == (JobStatus.SUCCESS, 0, True)
    assert record.log_offset > 0 and record.working_dir == str(project)
    first_change = next(e for e in events.events if isinstance(e, JobChanged))
    assert first_change.job.id == job_id and first_change.job.status == JobStatus.CREATING


async def test_second_run_of_unchanged_project_uploads_nothing(
    new_runner: Callable[[], JobRunner], project: Path, job_python: Path
) -> None:
    first = Recorder()
    await new_runner().run(request_for(project, job_python, "--pause", "0"), first)
    assert first.uploaded_bytes() > 0

    again = new_runner()
    second = Recorder()
    outcome = await again.run(request_for(project, job_python, "--pause", "0"), second)

    assert outcome.exit_code == 0
    assert "no files to upload" in second.console()
    assert not any(line.startswith("uploading") for line in second.console())
    assert second.uploaded_bytes() == 0
    assert again.hasher.stats.bytes_read == 0, "unchanged files must not be read again"


async def test_program_exit_code_is_the_outcome(runner: JobRunner, project: Path, job_python: Path) -> None:
    events = Recorder()
    outcome = await runner.run(request_for(project, job_python, "--pause", "0", "--fail"), events)

    assert outcome.exit_code == 3
    assert events.console()[-1] == "program returned code 3"
    assert "failing on purpose (--fail)" in [
        line for e in events.events if isinstance(e, LogLines) and e.stream == "stderr" for line in e.lines
    ]
    assert (project / "model.json").exists(), "outputs of a failed program still come back"


async def test_attach_never_executes_again_and_shows_a_finished_follow_whole(
    runner: JobRunner, project: Path, job_python: Path
) -> None:
    run = Recorder()
    outcome = await runner.run(request_for(project, job_python, "--pause", "0"), run)
    job_id = outcome.job_id or ""
    started = (await runner.get(job_id)).started_at.ToDatetime()

    resumed = Recorder()
    again = await runner.attach(job_id, resumed)
    assert again.exit_code == 0 and again.status == JobStatus.SUCCESS
    assert resumed.stdout() == run.stdout(), "a job followed to its end shows its whole log again"
    assert "executing job ..." not in resumed.console()
    assert (await runner.get(job_id)).started_at.ToDatetime() == started

    await runner.history.delete(job_id)  # a job this machine never saw: offset 0, outputs not downloaded
    (project / "model.json").unlink()
    replay = Recorder()
    await runner.attach(job_id, replay, output_dir=project)
    assert replay.stdout()[0] == "loaded 240 rows from data/train.csv" and len(replay.stdout()) == 5
    assert (project / "model.json").exists(), "a finished job's outputs are downloaded if not done yet"


async def test_client_going_away_leaves_the_job_running_and_attach_picks_up(
    runner: JobRunner, project: Path, job_python: Path
) -> None:
    events = Recorder()
    task = asyncio.create_task(
        runner.run(request_for(project, job_python, "--epochs", "6", "--pause", "0.4"), events)
    )
    await asyncio.wait_for(events.first_line.wait(), 60)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    job_id = next(e.job.id for e in events.events if isinstance(e, JobChanged))
    assert (await runner.get(job_id)).status != 0
    record = await runner.history.get(job_id)
    assert record is not None and not record.finished, "the job is still running after the client left"

    later = Recorder()
    outcome = await runner.attach(job_id, later)
    assert outcome.exit_code == 0 and outcome.status == JobStatus.SUCCESS
    seen = events.stdout() + later.stdout()
    assert seen[0] == "loaded 240 rows from data/train.csv"
    assert [line.split(":")[0] for line in seen[1:7]] == [f"epoch {i}/6" for i in range(1, 7)]
    assert len(seen) == 8, "no line lost or repeated between the run and the attach"
    assert (project / "model.json").exists()


async def test_the_end_of_the_log_stream_ends_the_follow_without_waiting_for_the_next_poll(
    runner: JobRunner, project: Path, job_python: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = JobsClient.wait_operation

    async def hourly(self: JobsClient, op: Operation, **options: Any) -> Operation:
        return await original(self, op, **{**options, "interval": 3600.0, "max_interval": 3600.0})

    monkeypatch.setattr(JobsClient, "wait_operation", hourly)  # the back-off alone would take an hour
    running = runner.run(request_for(project, job_python, "--pause", "0"), Recorder())
    outcome = await asyncio.wait_for(running, 120)

    assert outcome.status == JobStatus.SUCCESS and outcome.exit_code == 0


async def test_cancel_stops_the_job(runner: JobRunner, project: Path, job_python: Path) -> None:
    request = replace(request_for(project, job_python, "--epochs", "50", "--pause", "1"), wait=False)
    started = await runner.run(request, Recorder())
    assert started.job_id is not None and started.operation_id is not None

    await runner.cancel(started.job_id)
    outcome = await asyncio.wait_for(runner.attach(started.job_id, Recorder()), 60)
    assert outcome.status == JobStatus.CANCELLED
    record = await runner.history.get(started.job_id)
    assert record is not None and record.status == JobStatus.CANCELLED


async def test_bad_config_fails_before_anything_is_created(runner: JobRunner, project: Path) -> None:
    (project / "bad.yaml").write_text("cmd: python train.py\ninputs:\n  - missing.csv\n")
    with pytest.raises(ConfigError) as failure:
        await runner.run(RunRequest(working_dir=project, config_path=project / "bad.yaml"), Recorder())
    assert "bad.yaml:3" in str(failure.value) and "inputs" in str(failure.value)
    assert await runner.history.list() == []


async def test_a_run_asks_for_its_token_while_it_packs_the_files(
    server: LocalServer, settings: Settings, project: Path
) -> None:
    events = Recorder()
    asked: list[list[str]] = []

    async def slow_token() -> str:  # as the cloud's IAM exchange: a round trip to another service
        asked.append(events.console())
        await asyncio.sleep(0.2)
        return server.token

    target = BackendTarget("local", server.endpoints, slow_token, LOCAL_PROJECT_ID)
    (project / "config.yaml").write_text("name: token\ncmd: python train.py\ninputs:\n  - train.py\n")
    request = RunRequest(working_dir=project, config_path=project / "config.yaml", wait=False)
    outcome = await JobRunner(settings, target=target).run(request, events)

    assert outcome.job_id is not None and outcome.operation_id is not None
    assert asked[0] == [], "the first token is asked for before the job is created"
