"""Contract: a restart loses nothing; a job running across it is re-adopted or ends ERROR with the reason."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
from yandex.cloud.datasphere.v2.jobs import jobs_pb2

from dsjobs_lsp.backends.local import LocalServer, ensure_local_backend
from tests.backends.local.local_backend_helpers import Client, gate_entry, std_text
from tests.support.local_backend import running_local_server

GATE = gate_entry("before", "after", then="open('result.txt', 'w').write('done')\n")
OUTPUTS = [jobs_pb2.FileDesc(path="result.txt")]


async def _connected(server: LocalServer) -> AsyncIterator[Client]:
    async with grpc.aio.insecure_channel(server.endpoints.jobs) as channel:
        yield Client(server, channel, server.token)


async def _start_gated_job(client: Client) -> str:
    job_id, _ = await client.create("python gate.py", [GATE], outputs=OUTPUTS)
    await client.execute(job_id)
    async for response in client.logs(job_id):
        if "before" in std_text(list(response.logs)):
            return str(job_id)
    raise AssertionError("the job never printed")


async def test_running_job_is_readopted_after_restart(tmp_path: Path) -> None:
    data = tmp_path / "data"
    async with running_local_server(data) as first:
        async for client in _connected(first):
            job_id = await _start_gated_job(client)

    async with running_local_server(data) as second:
        async for client in _connected(second):
            assert (await client.get(job_id)).status == jobs_pb2.EXECUTING
            (data / "jobs" / job_id / "work" / "open").touch()
            job = await client.wait_status(job_id, {jobs_pb2.SUCCESS, jobs_pb2.ERROR})
            assert job.status == jobs_pb2.SUCCESS, job.status_details
            assert [f.desc.path for f in job.output_files] == ["result.txt"]
            assert std_text(await client.all_logs(job_id)) == "before\nafter\n"


async def test_job_whose_process_died_during_restart_ends_with_error(tmp_path: Path) -> None:
    data = tmp_path / "data"
    async with running_local_server(data) as first:
        async for client in _connected(first):
            job_id = await _start_gated_job(client)
            finished_id, _ = await client.run("echo kept")
    job_dir = data / "jobs" / job_id
    wrapper_pid = first.engine.state.jobs[job_id].runner_pid
    assert wrapper_pid is not None
    os.kill(wrapper_pid, signal.SIGKILL)  # first the wrapper, so no exit code gets recorded
    with contextlib.suppress(ProcessLookupError):  # the job's guard may have stopped it already
        os.killpg(int((job_dir / "job.pid").read_text()), signal.SIGKILL)
    await asyncio.sleep(0.1)

    async with running_local_server(data) as second:
        async for client in _connected(second):
            job = await client.get(job_id)
            assert job.status == jobs_pb2.ERROR
            assert job.status_details == "server restarted while the job was running"
            assert std_text(await client.all_logs(finished_id)) == "kept\n"
            assert (await client.get(finished_id)).status == jobs_pb2.SUCCESS


async def test_daemon_is_shared_survives_a_crash_and_readopts_its_job(daemon_dir: Path) -> None:
    first, again = await asyncio.gather(ensure_local_backend(daemon_dir), ensure_local_backend(daemon_dir))
    assert first == again
    info = json.loads((daemon_dir / "server.json").read_text())
    assert (daemon_dir / "server.json").stat().st_mode & 0o777 == 0o600
    async with grpc.aio.insecure_channel(first.endpoints.jobs) as channel:
        client = Client(None, channel, first.token)  # type: ignore[arg-type]
        job_id = await _start_gated_job(client)
    os.kill(info["pid"], signal.SIGKILL)

    restarted = await ensure_local_backend(daemon_dir)
    assert restarted.endpoints != first.endpoints
    assert json.loads((daemon_dir / "server.json").read_text())["pid"] != info["pid"]
    async with grpc.aio.insecure_channel(restarted.endpoints.jobs) as channel:
        client = Client(None, channel, restarted.token)  # type: ignore[arg-type]
        (daemon_dir / "jobs" / job_id / "work" / "open").touch()
        job = await client.wait_status(job_id, {jobs_pb2.SUCCESS, jobs_pb2.ERROR})
        assert job.status == jobs_pb2.SUCCESS, job.status_details
        assert std_text(await client.all_logs(job_id)) == "before\nafter\n"
    pid = json.loads((daemon_dir / "server.json").read_text())["pid"]
    os.kill(pid, signal.SIGTERM)
    for _ in range(200):
        if not (daemon_dir / "server.json").exists():
            break
        await asyncio.sleep(0.05)
    assert not (daemon_dir / "server.json").exists()
