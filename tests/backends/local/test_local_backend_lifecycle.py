"""Contract: a job lives as long as its command's main process, as in a job container.

What the command leaves running (a background child holding stdout, a grandchild that called `setsid`) is
stopped when the main process exits; a wrapper killed with `kill -9` takes the job's processes with it; a
graceful cancel's deadline survives a crash of the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import uuid
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from google.protobuf import duration_pb2
from yandex.cloud.datasphere.v2.jobs import jobs_pb2
from yandex.cloud.datasphere.v2.jobs import project_job_service_pb2 as service_pb2

from dsjobs_lsp.backends.local import ensure_local_backend
from tests.backends.local.local_backend_helpers import Client, execute_response, file_entry, std_text

FINAL: set[int] = {jobs_pb2.SUCCESS, jobs_pb2.ERROR, jobs_pb2.CANCELLED}
LEFT_RUNNING = (
    "sleep 300 & "  # a background child that holds stdout
    "setsid sh -c 'sleep 300' & "  # a grandchild in a session of its own
    "python -c 'import time; time.sleep(300)' > /dev/null 2>&1 & "  # a `tensorboard &`
)


def marked_processes(mark: str) -> list[int]:
    """Live (not zombie) processes whose environment holds ``DSJOBS_TEST_MARK=mark``."""
    found = []
    needle = f"DSJOBS_TEST_MARK={mark}".encode()
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            environ = Path(f"/proc/{name}/environ").read_bytes()
            state = Path(f"/proc/{name}/stat").read_bytes().rpartition(b") ")[2][:1]
        except OSError:
            continue
        if needle in environ.split(b"\0") and state != b"Z":
            found.append(int(name))
    return found


async def wait_until_no_processes(mark: str, within: float = 10) -> list[int]:
    """Poll until no process carries the mark; returns what is left after ``within`` seconds."""
    for _ in range(int(within / 0.05)):
        left = marked_processes(mark)
        if not left:
            return []
        await asyncio.sleep(0.05)
    return marked_processes(mark)


async def wait_for_processes(mark: str, count: int, within: float = 10) -> list[int]:
    for _ in range(int(within / 0.05)):
        found = marked_processes(mark)
        if len(found) >= count:
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"only {marked_processes(mark)} of {count} job processes started")


def marked_env() -> tuple[str, jobs_pb2.Environment]:
    mark = uuid.uuid4().hex
    return mark, jobs_pb2.Environment(vars={"DSJOBS_TEST_MARK": mark})


@pytest.fixture
def mark_cleanup() -> Iterator[list[str]]:
    """Marks of the test's jobs; whatever still carries one at the end is killed (never leak processes)."""
    marks: list[str] = []
    yield marks
    for mark in marks:
        for pid in marked_processes(mark):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


async def test_job_ends_when_its_main_process_exits(client: Client, mark_cleanup: list[str]) -> None:
    mark, env = marked_env()
    mark_cleanup.append(mark)
    train = file_entry("train.py", b"open('model.txt', 'w').write('trained')\nprint('trained')\n")
    job_id, operation = await client.run(
        LEFT_RUNNING + "python train.py",
        [train],
        env=env,
        outputs=[jobs_pb2.FileDesc(path="model.txt")],
    )
    job = await client.get(job_id)
    assert job.status == jobs_pb2.SUCCESS, job.status_details
    assert [f.file.desc.path for f in execute_response(operation).output_files] == ["model.txt"]
    assert std_text(await client.all_logs(job_id)) == "trained\n"
    assert await wait_until_no_processes(mark) == []


async def test_killed_wrapper_takes_the_jobs_processes_with_it(
    client: Client, mark_cleanup: list[str]
) -> None:
    mark, env = marked_env()
    mark_cleanup.append(mark)
    job_id, _ = await client.create(LEFT_RUNNING + "sleep 300", env=env)
    operation = await client.execute(job_id)
    await wait_for_processes(mark, 6)  # wrapper, guard, sh, and the three it left running
    wrapper_pid = client.server.engine.state.jobs[job_id].runner_pid
    assert wrapper_pid is not None
    os.kill(wrapper_pid, signal.SIGKILL)

    await client.wait(operation, within=15)
    job = await client.get(job_id)
    assert job.status == jobs_pb2.ERROR
    assert "wrapper process was killed" in job.status_details
    assert await wait_until_no_processes(mark) == []


async def test_graceful_cancel_kills_at_its_deadline_after_a_server_crash(
    daemon_dir: Path, mark_cleanup: list[str]
) -> None:
    mark, env = marked_env()
    mark_cleanup.append(mark)
    stubborn = file_entry(
        "stubborn.py",
        b"import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        b"open('ready', 'w').close()\ntime.sleep(300)\n",
    )
    shutdown = jobs_pb2.GracefulShutdownParameters(timeout=duration_pb2.Duration(seconds=3))
    backend = await ensure_local_backend(daemon_dir)
    async with grpc.aio.insecure_channel(backend.endpoints.jobs) as channel:
        client = Client(None, channel, backend.token)  # type: ignore[arg-type]
        job_id, _ = await client.create(
            "python stubborn.py", [stubborn], env=env, graceful_shutdown_parameters=shutdown
        )
        await client.execute(job_id)
        ready = daemon_dir / "jobs" / job_id / "work" / "ready"
        for _ in range(200):
            if ready.exists():
                break
            await asyncio.sleep(0.05)
        await client.jobs.Cancel(
            service_pb2.CancelProjectJobRequest(job_id=job_id, graceful=True), metadata=client.md
        )
    os.kill(json.loads((daemon_dir / "server.json").read_text())["pid"], signal.SIGKILL)
    cancelled_at = asyncio.get_running_loop().time()

    restarted = await ensure_local_backend(daemon_dir)
    async with grpc.aio.insecure_channel(restarted.endpoints.jobs) as channel:
        client = Client(None, channel, restarted.token)  # type: ignore[arg-type]
        job = await client.wait_status(job_id, FINAL, within=20)
    assert job.status == jobs_pb2.CANCELLED, job.status_details
    assert asyncio.get_running_loop().time() - cancelled_at < 15
    assert await wait_until_no_processes(mark) == []
