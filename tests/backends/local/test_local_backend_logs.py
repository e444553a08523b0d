"""Contract: ReadLogs / ReadStdLogs stream while the job runs and resume exactly at an offset."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from yandex.cloud.datasphere.v2.jobs import jobs_pb2
from yandex.cloud.datasphere.v2.jobs import project_job_service_pb2 as service_pb2

from tests.backends.local.local_backend_helpers import Client, file_entry, gate_entry, std_text

COUNTER = file_entry(
    "count.py",
    b"import sys, time\n"
    b"for i in range(int(sys.argv[1])):\n"
    b"    print(f'line {i}')\n"
    b"    time.sleep(float(sys.argv[2]))\n",
)


async def test_lines_arrive_while_the_job_runs(client: Client) -> None:
    gate = gate_entry("before gate", "after gate")
    job_id, _ = await client.create("python gate.py", [gate])
    await client.execute(job_id)
    stream = client.logs(job_id)
    received = ""
    async for response in stream:
        received += std_text(list(response.logs))
        if "before gate" in received:
            break
    job = await client.get(job_id)
    assert job.status == jobs_pb2.EXECUTING
    (client.server.layout.job_dir(job_id) / "work" / "open").touch()
    await client.wait_status(job_id, {jobs_pb2.SUCCESS})
    assert std_text(await client.all_logs(job_id)).endswith("after gate\n")


async def test_resume_from_any_offset_loses_and_doubles_nothing(client: Client) -> None:
    job_id, _ = await client.create("python count.py 40 0.005", [COUNTER])
    await client.execute(job_id)
    lines: list[str] = []
    offset = 0
    # Reconnect after every response, as a client whose stream keeps dropping would.
    while True:
        responses = client.logs(job_id, offset)
        try:
            response = await anext(responses)
        except StopAsyncIteration:
            break
        finally:
            await responses.aclose()
        lines += std_text(list(response.logs)).splitlines()
        offset = response.offset
    assert lines == [f"line {i}" for i in range(40)]
    assert (await client.get(job_id)).status == jobs_pb2.SUCCESS


async def test_a_burst_of_lines_is_a_few_messages_and_keeps_every_line_in_order(client: Client) -> None:
    script = (
        "import sys, time\n"
        "sys.stdout.write(''.join(f'out {i}\\n' for i in range(5000)))\n"
        "sys.stdout.flush()\n"
        "time.sleep(0.2)\n"
        "sys.stderr.write('err 1\\nerr 2\\n')\n"
        "sys.stderr.flush()\n"
        "time.sleep(0.2)\n"
        "print('out last', flush=True)\n"
    )
    job_id, _ = await client.run("python burst.py", [file_entry("burst.py", script.encode())])
    messages = await client.all_logs(job_id)
    out = [m for m in messages if m.standard_stream == service_pb2.OUT and m.HasField("standard_stream")]
    assert std_text(messages).splitlines() == [*(f"out {i}" for i in range(5000)), "out last"]
    assert std_text(messages, service_pb2.ERR) == "err 1\nerr 2\n"
    assert len(out) <= 20, "lines are sent as one message per read of the job's output, not one per line"
    sources = [m.standard_stream for m in messages if m.HasField("standard_stream")]
    assert sources.index(service_pb2.ERR) > sources.index(service_pb2.OUT), "order across streams is kept"
    assert sources[-1] == service_pb2.OUT


async def test_offset_minus_one_reads_from_now(client: Client) -> None:
    gate = gate_entry("old line", "new line")
    job_id, _ = await client.create("python gate.py", [gate])
    await client.execute(job_id)
    async for response in client.logs(job_id):
        if "old line" in std_text(list(response.logs)):
            break
    reader = asyncio.create_task(client.all_logs(job_id, -1))
    await asyncio.sleep(0.2)
    (client.server.layout.job_dir(job_id) / "work" / "open").touch()
    assert std_text(await reader) == "new line\n"


async def test_std_logs_carry_only_program_output(client: Client) -> None:
    job_id, _ = await client.run("echo out; echo err >&2")
    logs = [
        log
        async for r in client.jobs.ReadStdLogs(
            service_pb2.ReadProjectJobStdLogsRequest(job_id=job_id, offset=0), metadata=client.md
        )
        for log in r.logs
    ]
    assert [(log.type, log.content) for log in logs] in (
        [(service_pb2.StdLog.OUT, b"out\n"), (service_pb2.StdLog.ERR, b"err\n")],
        [(service_pb2.StdLog.ERR, b"err\n"), (service_pb2.StdLog.OUT, b"out\n")],
    )


@pytest.mark.parametrize(
    ("offset", "code"),
    [
        (-5, grpc.StatusCode.INVALID_ARGUMENT),
        (10**9, grpc.StatusCode.INVALID_ARGUMENT),
        (3, grpc.StatusCode.INVALID_ARGUMENT),
    ],
)
async def test_bad_offsets_are_refused(client: Client, offset: int, code: grpc.StatusCode) -> None:
    job_id, _ = await client.run("echo one; echo two")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await client.all_logs(job_id, offset)
    assert caught.value.code() == code
