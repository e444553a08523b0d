"""JobsClient against a real grpc.aio server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator

import grpc
import pytest
from yandex.cloud.datasphere.v2.jobs import jobs_pb2
from yandex.cloud.datasphere.v2.jobs import project_job_service_pb2 as svc
from yandex.cloud.operation import operation_pb2

from dsjobs_lsp.core.client import (
    BackendError,
    JobsClient,
    LogChunk,
    OperationFailed,
    execute_metadata,
    execute_response,
)
from tests.core.client.client_backend import COMMUNITY, PROJECT, ScriptedBackend


@pytest.fixture
async def backend() -> AsyncIterator[ScriptedBackend]:
    server = ScriptedBackend()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def client(backend: ScriptedBackend) -> AsyncIterator[JobsClient]:
    counter = itertools.count(1)

    async def rotating_token() -> str:
        return f"rotating-{next(counter)}"

    async with JobsClient(backend.endpoints, rotating_token) as jobs_client:
        yield jobs_client


async def _new_job(client: JobsClient) -> str:
    params = jobs_pb2.JobParameters(
        input_files=[jobs_pb2.File(desc=jobs_pb2.FileDesc(path="main.py"), sha256="ab" * 32, size_bytes=10)]
    )
    created = await client.create(PROJECT, params, name="demo")
    return created.job_id


async def test_create_returns_job_and_upload_urls_with_fresh_tokens(
    client: JobsClient, backend: ScriptedBackend
) -> None:
    params = jobs_pb2.JobParameters(
        input_files=[jobs_pb2.File(desc=jobs_pb2.FileDesc(path="main.py"), sha256="ab" * 32, size_bytes=10)]
    )
    created = await client.create(PROJECT, params, name="demo", config="cmd: python main.py")
    assert created.job_id == "job1"
    assert [f.url for f in created.upload_files] == ["http://store/" + "ab" * 32]
    await client.get("job1")
    assert backend.state.tokens_seen == ["Bearer rotating-1", "Bearer rotating-2"]


async def test_execute_and_wait_reports_progress_and_survives_unavailable(
    client: JobsClient, backend: ScriptedBackend
) -> None:
    job_id = await _new_job(client)
    op = await client.execute(job_id)
    assert execute_metadata(op).job.id == job_id
    seen: list[str] = []
    final = await client.wait_operation(
        op,
        on_update=lambda o: seen.append(execute_metadata(o).progress.message),
        interval=0.01,
        max_interval=0.05,
    )
    assert final.done and execute_response(final).result.return_code == 7
    assert seen[-1] == "poll 3" and "poll 2" in seen  # poll 1 failed with UNAVAILABLE and was retried
    assert (await client.get(job_id)).status == jobs_pb2.JobStatus.SUCCESS


async def test_failed_operation_names_code_and_message(client: JobsClient, backend: ScriptedBackend) -> None:
    backend.state.fail_operation = True
    job_id = await _new_job(client)
    expected = r"Job execution exec-job1 failed: FAILED_PRECONDITION: no quota"
    with pytest.raises(OperationFailed, match=expected):
        await client.wait_operation(await client.execute(job_id), interval=0.01)


async def test_errors_are_user_facing_and_tokenless(backend: ScriptedBackend) -> None:
    async def leaked() -> str:
        return "t1.expired-secret-token-0123456789abcdef"

    async with JobsClient(backend.endpoints, leaked) as client:
        with pytest.raises(BackendError) as caught:
            await client.get("abc")
    assert caught.value.code == grpc.StatusCode.UNAUTHENTICATED
    assert str(caught.value).startswith("authentication failed: ")
    assert "t1.expired" not in str(caught.value)


async def test_missing_job_is_named(client: JobsClient) -> None:
    with pytest.raises(BackendError, match="the job nope was not found") as caught:
        await client.get("nope")
    assert caught.value.code == grpc.StatusCode.NOT_FOUND


async def test_list_jobs_pages_through_everything(client: JobsClient, backend: ScriptedBackend) -> None:
    for index in range(7):
        backend.state.jobs[f"j{index}"] = jobs_pb2.Job(id=f"j{index}", project_id=PROJECT)
    backend.state.jobs["other"] = jobs_pb2.Job(id="other", project_id="elsewhere")
    ids = [job.id async for job in client.list_jobs(PROJECT, page_size=3)]
    assert ids == [f"j{i}" for i in range(7)]
    assert backend.state.list_calls == 3


async def test_list_jobs_asks_for_a_thousand_jobs_a_page(
    client: JobsClient, backend: ScriptedBackend
) -> None:
    for index in range(2500):
        backend.state.jobs[f"j{index}"] = jobs_pb2.Job(id=f"j{index}", project_id=PROJECT)
    ids = [job.id async for job in client.list_jobs(PROJECT)]
    assert ids == [f"j{i}" for i in range(2500)]
    assert backend.state.list_calls == 3  # the reference's pages of 50 would take 50 round trips


async def test_a_service_refusing_big_pages_is_listed_in_pages_of_fifty(
    client: JobsClient, backend: ScriptedBackend
) -> None:
    backend.state.max_page_size = 50
    for index in range(120):
        backend.state.jobs[f"j{index}"] = jobs_pb2.Job(id=f"j{index}", project_id=PROJECT)
    ids = [job.id async for job in client.list_jobs(PROJECT)]
    assert ids == [f"j{i}" for i in range(120)]
    assert backend.state.list_calls == 1 + 3  # the refused page, then three of 50

    backend.state.max_page_size = 20  # refuses the reference's pages too: the error is the user's
    with pytest.raises(BackendError) as caught:
        _ = [job.id async for job in client.list_jobs(PROJECT)]
    assert caught.value.code == grpc.StatusCode.INVALID_ARGUMENT and backend.state.list_calls == 4 + 2


async def test_connect_starts_the_connection_before_any_call(
    backend: ScriptedBackend, client: JobsClient
) -> None:
    channel = client._pool.get(client.endpoints.jobs)
    assert channel.get_state() == grpc.ChannelConnectivity.IDLE

    client.connect()

    await asyncio.wait_for(channel.channel_ready(), 10)
    assert backend.state.list_calls == 0 and backend.state.tokens_seen == []


async def test_job_link_is_cached_and_none_on_error(client: JobsClient, backend: ScriptedBackend) -> None:
    job = jobs_pb2.Job(id="j1", project_id=PROJECT)
    link = await client.job_link(job)
    assert link == f"http://127.0.0.1:1/communities/{COMMUNITY}/projects/{PROJECT}/job/j1"
    assert await client.job_link(jobs_pb2.Job(id="j2", project_id=PROJECT)) is not None
    assert backend.state.project_calls == 1
    assert await client.job_link(jobs_pb2.Job(id="j3", project_id="foreign")) is None


async def test_cancel_sends_graceful_and_reason(client: JobsClient, backend: ScriptedBackend) -> None:
    await client.cancel("job9", graceful=True, reason="user asked")
    assert backend.state.cancels == [("job9", True, "user asked")]


def _message(
    content: bytes, *, stream: svc.StandardStream.ValueType | None = None, file_path: str | None = None
) -> svc.LogMessage:
    if file_path is not None:
        return svc.LogMessage(file_path=file_path, content=content)
    return svc.LogMessage(standard_stream=stream or svc.StandardStream.OUT, content=content)


def _script_logs(backend: ScriptedBackend) -> list[str]:
    """Log messages cutting lines and a UTF-8 character in pieces; returns the expected stdout lines."""
    out, err = svc.StandardStream.OUT, svc.StandardStream.ERR
    text = "".join(f"line {i} ✓\n" for i in range(30)).encode()
    pieces = [text[i : i + 7] for i in range(0, len(text), 7)]
    backend.state.log = [_message(p, stream=out) for p in pieces]
    backend.state.log.insert(5, _message(b"warning: x\n", stream=err))
    backend.state.log.insert(9, _message(b"preparing environment\n", file_path=".system.log"))
    backend.state.log.insert(12, _message(b"1\t2\n", file_path="logs/metrics.tsv"))
    backend.state.log.append(_message(b"no newline at the end", stream=out))
    return [f"line {i} ✓" for i in range(30)] + ["no newline at the end"]


async def _read_all(client: JobsClient, job_id: str, offset: int = 0) -> list[LogChunk]:
    return [chunk async for chunk in client.read_logs(job_id, offset)]


async def test_logs_survive_drops_and_early_ends_without_loss_or_duplicates(
    client: JobsClient, backend: ScriptedBackend
) -> None:
    job_id = await _new_job(client)
    expected = _script_logs(backend)
    backend.state.drop_logs_after = 20
    backend.state.end_logs_early_at = 40
    backend.state.jobs[job_id].status = jobs_pb2.JobStatus.EXECUTING
    op = await client.execute(job_id)
    backend.state.fail_poll_once = False

    async def finish_later() -> operation_pb2.Operation:
        await asyncio.sleep(0.3)
        return await client.wait_operation(op, interval=0.01)

    finisher = asyncio.create_task(finish_later())
    chunks = await _read_all(client, job_id)
    await finisher
    stdout = [line for c in chunks if c.stream == "stdout" for line in c.lines]
    assert stdout == expected
    assert [line for c in chunks if c.stream == "stderr" for line in c.lines] == ["warning: x"]
    system = [c for c in chunks if c.is_system_log]
    assert [line for c in system for line in c.lines] == ["preparing environment"]
    user_files = [c for c in chunks if c.file_path == "logs/metrics.tsv"]
    assert user_files[0].stream == "system" and user_files[0].lines == ["1\t2"]
    assert backend.state.read_offsets[:3] == [0, 20, 40]
    assert chunks[-1].offset == len(backend.state.log)


async def test_logs_resume_from_a_given_offset_of_a_finished_job(
    client: JobsClient, backend: ScriptedBackend
) -> None:
    job_id = await _new_job(client)
    backend.state.log = [_message(f"m{i}\n".encode()) for i in range(10)]
    backend.state.jobs[job_id].status = jobs_pb2.JobStatus.SUCCESS
    chunks = await _read_all(client, job_id, offset=6)
    assert [line for c in chunks for line in c.lines] == ["m6", "m7", "m8", "m9"]


async def test_logs_of_unknown_job_fail_clearly(client: JobsClient) -> None:
    backend_error = BackendError
    with pytest.raises(backend_error, match="the job ghost"):
        await _read_all(client, "ghost")
