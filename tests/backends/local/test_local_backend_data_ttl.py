"""Contract: data lives as long as its TTL says: unset means never expires; created jobs that were never
executed expire too; a job caught in PREPARING by a crash ends with the reason."""

from __future__ import annotations

import asyncio
from pathlib import Path

import grpc
import pytest
from google.protobuf import duration_pb2
from yandex.cloud.datasphere.v2.jobs import jobs_pb2
from yandex.cloud.datasphere.v2.jobs import project_job_service_pb2 as service_pb2

from dsjobs_lsp.backends.local import LOCAL_PROJECT_ID, LocalServer
from tests.backends.local.local_backend_helpers import Client, file_entry
from tests.support.local_backend import running_local_server
from tests.support.reference_cli import run_reference_cli

OUTPUTS = [jobs_pb2.FileDesc(path="result.txt")]


async def test_unset_ttl_means_the_data_never_expires(client: Client) -> None:
    job_id, _ = await client.run("echo kept > result.txt", outputs=OUTPUTS)
    await client.jobs.SetDataTtl(service_pb2.SetProjectJobDataTtlRequest(job_id=job_id), metadata=client.md)
    job = await client.get(job_id)
    assert not job.HasField("data_expires_at")
    assert await client.server.sweep() == 0
    job = await client.get(job_id)
    assert not job.data_cleared
    assert [f.desc.path for f in job.output_files] == ["result.txt"]


async def test_reference_cli_sets_an_infinite_ttl(
    server: LocalServer, client: Client, reference: Path, tmp_path: Path
) -> None:
    job_id, _ = await client.run("echo kept > result.txt", outputs=OUTPUTS)
    run = await run_reference_cli(
        server.endpoints.jobs,
        server.token,
        ["project", "job", "set-data-ttl", "--id", job_id, "--days", "infinity"],
        cwd=tmp_path,
        launcher_dir=tmp_path,
    )
    assert run.returncode == 0, run.output
    assert not (await client.get(job_id)).HasField("data_expires_at")


async def test_a_created_job_never_executed_expires_with_its_ttl(client: Client) -> None:
    parameters = jobs_pb2.JobParameters(cmd="cat input.txt", input_files=[file_entry("input.txt", b"x")[0]])
    operation = await client.jobs.Create(
        service_pb2.CreateProjectJobRequest(
            project_id=LOCAL_PROJECT_ID, job_parameters=parameters, data_ttl=duration_pb2.Duration(seconds=1)
        ),
        metadata=client.md,
    )
    response = service_pb2.CreateProjectJobResponse()
    operation.response.Unpack(response)
    await asyncio.sleep(1.2)
    assert await client.server.sweep() == 1
    job = await client.get(response.job_id)
    assert job.status == jobs_pb2.ERROR
    assert job.data_cleared
    assert "never executed" in job.status_details
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await client.execute(response.job_id)
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION


async def test_a_job_caught_preparing_by_a_crash_ends_with_the_reason(tmp_path: Path) -> None:
    data = tmp_path / "data"
    async with running_local_server(data) as first:
        async with grpc.aio.insecure_channel(first.endpoints.jobs) as channel:
            job_id, _ = await Client(first, channel, first.token).create("true")
        row = first.engine.state.jobs[job_id]
        row.job.status = jobs_pb2.PREPARING  # where a crash during preparation leaves it
        await first.engine.state.save_job(row)
    async with running_local_server(data) as second:
        job = second.engine.state.jobs[job_id].job
        assert job.status == jobs_pb2.ERROR
        assert "while the job was being prepared" in job.status_details
        assert "run it again" in job.status_details
