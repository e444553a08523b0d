"""Contract: Cancel ends the whole process tree; graceful cancel lets the job handle its signal first."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import grpc
import pytest
from google.protobuf import duration_pb2
from yandex.cloud.datasphere.v2.jobs import jobs_pb2
from yandex.cloud.datasphere.v2.jobs import project_job_service_pb2 as service_pb2
from yandex.cloud.operation import operation_pb2

from tests.backends.local.local_backend_helpers import Client, file_entry


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return not open(f"/proc/{pid}/stat").read().split(") ")[1].startswith("Z")


async def _wait_for_file(path: Path, within: float = 10) -> str:
    for _ in range(int(within / 0.02)):
        if await asyncio.to_thread(path.exists):
            return await asyncio.to_thread(path.read_text)
        await asyncio.sleep(0.02)
    raise AssertionError(f"{path} never appeared")


async def _cancel_gracefully_once_ready(
    client: Client, script: tuple[jobs_pb2.File, bytes], shutdown: jobs_pb2.GracefulShutdownParameters
) -> tuple[str, operation_pb2.Operation, Path]:
    """Run ``python <script>`` until it writes `ready`, then ask for a graceful cancel: the job's id, its
    Execute operation and its work folder."""
    job_id, _ = await client.create(
        f"python {script[0].desc.path}", [script], graceful_shutdown_parameters=shutdown
    )
    operation = await client.execute(job_id)
    work = client.server.layout.job_dir(job_id) / "work"
    await _wait_for_file(work / "ready")
    await client.jobs.Cancel(
        service_pb2.CancelProjectJobRequest(job_id=job_id, graceful=True), metadata=client.md
    )
    return job_id, operation, work


async def test_cancel_kills_the_process_tree(client: Client) -> None:
    job_id, _ = await client.create("sleep 60 & echo $! > child.pid; sleep 60")
    operation = await client.execute(job_id)
    work = client.server.layout.job_dir(job_id) / "work"
    child = int((await _wait_for_file(work / "child.pid")).strip())
    await client.jobs.Cancel(
        service_pb2.CancelProjectJobRequest(job_id=job_id, reason="test"), metadata=client.md
    )
    operation = await client.wait(operation, within=10)
    job = await client.get(job_id)
    assert job.status == jobs_pb2.CANCELLED
    assert operation.error.code == grpc.StatusCode.CANCELLED.value[0]
    for _ in range(50):
        if not _alive(child):
            break
        await asyncio.sleep(0.02)
    assert not _alive(child)


async def test_graceful_cancel_lets_the_job_handle_its_signal(client: Client) -> None:
    trap = file_entry(
        "trap.py",
        b"import signal, sys, time\n"
        b"def stop(*_):\n    open('marker', 'w').write('graceful')\n    sys.exit(0)\n"
        b"signal.signal(signal.SIGUSR1, stop)\nopen('ready', 'w').close()\n"
        b"while True:\n    time.sleep(0.05)\n",
    )
    shutdown = jobs_pb2.GracefulShutdownParameters(signal=10, timeout=duration_pb2.Duration(seconds=5))
    job_id, operation, work = await _cancel_gracefully_once_ready(client, trap, shutdown)
    assert (await client.get(job_id)).status in (jobs_pb2.CANCELLING, jobs_pb2.CANCELLED)
    await client.wait(operation, within=10)
    assert (work / "marker").read_text() == "graceful"
    assert (await client.get(job_id)).status == jobs_pb2.CANCELLED


async def test_graceful_cancel_waits_for_a_slow_handler_behind_the_shell(client: Client) -> None:
    """The shell running `cmd` gets the signal too; it must not end the job before the program's handler does
    its work (saving a checkpoint takes a while)."""
    slow = file_entry(
        "slow.py",
        b"import signal, sys, time\n"
        b"def stop(*_):\n    time.sleep(0.5)\n    open('checkpoint', 'w').write('saved')\n    sys.exit(0)\n"
        b"signal.signal(signal.SIGTERM, stop)\nopen('ready', 'w').close()\n"
        b"while True:\n    time.sleep(0.05)\n",
    )
    shutdown = jobs_pb2.GracefulShutdownParameters(timeout=duration_pb2.Duration(seconds=10))
    job_id, operation, work = await _cancel_gracefully_once_ready(client, slow, shutdown)
    await client.wait(operation, within=10)
    assert (work / "checkpoint").read_text() == "saved"
    assert (await client.get(job_id)).status == jobs_pb2.CANCELLED


async def test_graceful_cancel_kills_after_the_timeout(client: Client) -> None:
    stubborn = file_entry(
        "stubborn.py",
        b"import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        b"open('ready', 'w').close()\ntime.sleep(60)\n",
    )
    shutdown = jobs_pb2.GracefulShutdownParameters(timeout=duration_pb2.Duration(nanos=300_000_000))
    job_id, _ = await client.create("python stubborn.py", [stubborn], graceful_shutdown_parameters=shutdown)
    operation = await client.execute(job_id)
    await _wait_for_file(client.server.layout.job_dir(job_id) / "work" / "ready")
    started = asyncio.get_running_loop().time()
    await client.jobs.Cancel(
        service_pb2.CancelProjectJobRequest(job_id=job_id, graceful=True), metadata=client.md
    )
    await client.wait(operation, within=10)
    assert asyncio.get_running_loop().time() - started < 5
    assert (await client.get(job_id)).status == jobs_pb2.CANCELLED


async def test_cancel_of_a_created_job_and_of_a_finished_job(client: Client) -> None:
    created, _ = await client.create("true")
    await client.jobs.Cancel(service_pb2.CancelProjectJobRequest(job_id=created), metadata=client.md)
    assert (await client.get(created)).status == jobs_pb2.CANCELLED
    finished, _ = await client.run("true")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await client.jobs.Cancel(service_pb2.CancelProjectJobRequest(job_id=finished), metadata=client.md)
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
