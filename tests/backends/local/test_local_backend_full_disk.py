"""Contract: a full disk ends jobs with the cause, never hangs them, never breaks Cancel or List, and an
upload onto it fails at once saying so.

The data dir is a small tmpfs (mounting needs root; the tests skip cleanly where it is not permitted).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import grpc
import pytest
from yandex.cloud.datasphere.v2.jobs import jobs_pb2
from yandex.cloud.datasphere.v2.jobs import project_job_service_pb2 as service_pb2

from dsjobs_lsp.backends.local import LOCAL_PROJECT_ID
from dsjobs_lsp.core.client import TransferError, loopback
from dsjobs_lsp.core.client.targets import UploadTarget
from tests.backends.local.local_backend_helpers import Client, file_entry
from tests.support.local_backend import running_local_server

FINAL: set[int] = {jobs_pb2.SUCCESS, jobs_pb2.ERROR, jobs_pb2.CANCELLED}
CHATTY = file_entry("chatty.py", b"line = 'x' * 1000\nwhile True:\n    print(line)\n")


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 48 MiB tmpfs at ``tmp_path/disk`` (skips the test where mounting is not permitted)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", str(disk)], capture_output=True, check=False
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


@pytest.fixture
async def full_disk_client(small_disk: Path) -> AsyncIterator[Client]:
    async with (
        running_local_server(small_disk / "data") as server,
        grpc.aio.insecure_channel(server.endpoints.jobs) as channel,
    ):
        yield Client(server, channel, server.token)


def fill(disk: Path) -> Path:
    """Write a file until the disk is full; returns it."""
    filler = disk / "filler"
    chunk = b"\0" * (1 << 20)
    with open(filler, "wb", buffering=0) as out:
        try:
            while True:
                out.write(chunk)
        except OSError as error:
            assert error.errno == errno.ENOSPC
        with contextlib.suppress(OSError):
            while True:
                out.write(b"\0" * 512)
    return filler


async def test_a_job_that_fills_the_disk_with_logs_ends_with_the_cause(
    full_disk_client: Client, small_disk: Path
) -> None:
    client = full_disk_client
    job_id, _ = await client.create("python chatty.py", [CHATTY])
    await client.execute(job_id)
    job = await client.wait_status(job_id, FINAL, within=60)
    assert job.status == jobs_pb2.ERROR
    assert "no space left" in job.status_details.lower()


async def test_cancel_works_on_a_full_disk(full_disk_client: Client, small_disk: Path) -> None:
    client = full_disk_client
    job_id, _ = await client.create("sleep 300")
    await client.execute(job_id)
    await client.wait_status(job_id, {jobs_pb2.EXECUTING})
    await asyncio.to_thread(fill, small_disk)
    await client.jobs.Cancel(service_pb2.CancelProjectJobRequest(job_id=job_id), metadata=client.md)
    job = await client.wait_status(job_id, FINAL, within=20)
    assert job.status == jobs_pb2.CANCELLED, job.status_details


async def test_a_create_that_fails_on_a_full_disk_leaves_no_job(
    full_disk_client: Client, small_disk: Path
) -> None:
    client = full_disk_client
    await asyncio.to_thread(fill, small_disk)
    failures = 0
    for index in range(20):  # until the state DB's own free pages are used up too
        try:
            await client.create("true", [file_entry("input.bin", os.urandom(64) + bytes([index]))])
        except grpc.aio.AioRpcError:
            failures += 1
    listed = await client.jobs.List(
        service_pb2.ListProjectJobRequest(project_id=LOCAL_PROJECT_ID, page_size=100), metadata=client.md
    )
    assert failures > 0
    assert len(listed.jobs) == 20 - failures
    assert set(client.server.engine.state.jobs) == {job.id for job in listed.jobs}


@pytest.mark.parametrize("size", [100_000, 3 << 20], ids=["sent whole", "copied by the store"])
async def test_an_upload_onto_a_full_disk_fails_at_once_naming_the_cause(
    full_disk_client: Client, small_disk: Path, tmp_path: Path, size: int
) -> None:
    client = full_disk_client
    content = os.urandom(size)
    source = tmp_path / "big.bin"
    source.write_bytes(content)
    _, [upload] = await client.create("true", [file_entry("big.bin", content)], upload=False)
    await asyncio.to_thread(fill, small_disk)
    target = UploadTarget(upload.url, source, size, upload.file.sha256, "data/big.bin")

    with pytest.raises(TransferError, match=r"upload of data/big\.bin failed: HTTP 507: .*disk is full"):
        await asyncio.wait_for(loopback.upload_files([target]), timeout=10)  # not retried for seconds

    assert list((client.server.layout.blobs / ".incoming").iterdir()) == []
