"""Inputs reach a job without a copy (a hard link from the store); a job writing to one cannot corrupt it."""

from __future__ import annotations

import asyncio
import os
import stat
from pathlib import Path

from yandex.cloud.datasphere.v2.jobs import jobs_pb2

from dsjobs_lsp.backends.local import LocalServer
from tests.backends.local.local_backend_helpers import (
    Client,
    execute_response,
    file_entry,
    std_text,
    system_text,
    zip_bytes,
)

CONTENT = b"0123456789" * 100_000


def stored(server: LocalServer, item: jobs_pb2.File) -> Path:
    """The store's file of ``item``."""
    return server.layout.blobs / item.sha256[:2] / item.sha256


async def run_ok(client: Client, cmd: str, files: list[tuple[jobs_pb2.File, bytes]]) -> tuple[str, str]:
    """Run to the end; (job id, stdout); the job must succeed."""
    job_id, operation = await client.run(cmd, files)
    logs = await client.all_logs(job_id)
    assert execute_response(operation).result.return_code == 0, system_text(logs) + std_text(logs, 2)
    return job_id, std_text(logs)


async def test_an_input_is_a_link_to_the_store_and_stays_stored_after_a_clean_job(
    client: Client, server: LocalServer
) -> None:
    data = file_entry("data.bin", CONTENT)
    blob = stored(server, data[0])
    for _ in range(2):
        job_id, out = await run_ok(client, "stat -c %i data.bin && wc -c < data.bin", [data])
        assert out.split() == [str(blob.stat().st_ino), str(len(CONTENT))]
        assert blob.read_bytes() == CONTENT and blob.stat().st_nlink == 1
        assert not (server.layout.job_dir(job_id) / "work" / "data.bin").exists()


async def test_a_job_writing_to_its_input_gets_the_blob_dropped_and_uploaded_again(
    client: Client, server: LocalServer
) -> None:
    data = file_entry("data.bin", CONTENT)
    job_id, _ = await run_ok(client, "echo appended >> data.bin", [data])
    assert not stored(server, data[0]).exists()
    note = f"the job changed its input {data[0].sha256[:12]} through its link to the store"
    assert note in system_text(await client.all_logs(job_id))
    _, asked = await client.create("true", [data], upload=False)
    assert [f.file.sha256 for f in asked] == [data[0].sha256]
    _, out = await run_ok(client, "wc -c < data.bin", [data])
    assert out.strip() == str(len(CONTENT))
    assert stored(server, data[0]).read_bytes() == CONTENT


async def test_a_chmod_or_touch_through_the_link_drops_the_blob_too(
    client: Client, server: LocalServer
) -> None:
    for cmd in ("chmod 777 data.bin", "touch -d 2001-01-01 data.bin"):
        data = file_entry("data.bin", CONTENT)
        await run_ok(client, cmd, [data])
        assert not stored(server, data[0]).exists(), cmd


async def test_a_second_job_never_shares_a_link_and_refuses_bytes_another_job_changed(
    client: Client, server: LocalServer, tmp_path: Path
) -> None:
    data = file_entry("data.bin", CONTENT)
    gate = tmp_path / "open"
    wait_for_gate = f"while [ ! -e {gate} ]; do sleep 0.01; done"
    holder_id, _ = await client.create(f"echo changed >> data.bin; {wait_for_gate}", [data])
    holder = await client.execute(holder_id)
    await client.wait_status(holder_id, {jobs_pb2.EXECUTING})
    for _ in range(200):
        if stored(server, data[0]).stat().st_size != len(CONTENT):
            break
        await asyncio.sleep(0.02)
    second_id, _ = await client.run("true", [data], upload=False)
    second = await client.get(second_id)
    assert second.status == jobs_pb2.ERROR
    assert "was changed by a job" in second.status_details
    gate.touch()
    await client.wait(holder)
    assert not stored(server, data[0]).exists()


async def test_an_executable_input_is_a_private_copy_and_the_store_keeps_its_mode(
    client: Client, server: LocalServer
) -> None:
    script = file_entry("run.sh", b"#!/bin/sh\necho ran\n")
    blob = stored(server, script[0])
    _, out = await run_ok(client, "./run.sh && stat -c %i run.sh", [script])
    assert out.splitlines()[0] == "ran" and out.splitlines()[1] != str(blob.stat().st_ino)
    assert not blob.stat().st_mode & (stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    assert os.access(blob, os.R_OK)


async def test_an_input_declared_as_an_output_too_is_collected(client: Client, server: LocalServer) -> None:
    data = file_entry("db.bin", CONTENT)
    _, same = await client.run("true", [data], outputs=[jobs_pb2.FileDesc(path="db.bin")])
    [kept] = execute_response(same).output_files
    assert kept.file.sha256 == data[0].sha256 and stored(server, data[0]).read_bytes() == CONTENT
    _, grown = await client.run("echo more >> db.bin", [data], outputs=[jobs_pb2.FileDesc(path="db.bin")])
    [changed] = execute_response(grown).output_files
    assert changed.file.size_bytes == len(CONTENT) + 5
    assert not stored(server, data[0]).exists()


async def test_a_job_failing_before_it_starts_gives_its_links_back(
    client: Client, server: LocalServer
) -> None:
    data = file_entry("data.bin", CONTENT)
    failed, _ = await client.run("cat data.bin ${DS_PROJECT_HOME}", [data])
    assert (await client.get(failed)).status == jobs_pb2.ERROR
    assert stored(server, data[0]).stat().st_nlink == 1
    _, out = await run_ok(client, "stat -c %i data.bin", [data])
    assert out.strip() == str(stored(server, data[0]).stat().st_ino)


async def test_two_inputs_with_the_same_bytes_keep_the_blob_stored(
    client: Client, server: LocalServer
) -> None:
    first, second = file_entry("a/same.bin", CONTENT), file_entry("b/same.bin", CONTENT)
    _, out = await run_ok(client, "stat -c %i a/same.bin b/same.bin", [first, second])
    inodes = out.split()
    assert inodes[0] == str(stored(server, first[0]).stat().st_ino) and inodes[1] != inodes[0]
    _, asked = await client.create("true", [first, second], upload=False)
    assert asked == []


async def test_an_input_listed_twice_keeps_the_stored_bytes(client: Client, server: LocalServer) -> None:
    # the reference CLI sends its main script twice when the config lists it as an input too
    data = file_entry("data.bin", CONTENT)
    _, out = await run_ok(client, "wc -c < data.bin", [data, data])
    assert out.strip() == str(len(CONTENT))
    assert stored(server, data[0]).read_bytes() == CONTENT
    _, asked = await client.create("true", [data], upload=False)
    assert asked == []


async def test_a_folder_input_unpacked_over_a_linked_input_keeps_the_stored_bytes(
    client: Client, server: LocalServer
) -> None:
    data = file_entry("data/x.bin", CONTENT)
    folder = file_entry("data", zip_bytes({"data/x.bin": "other"}), zip_=True)
    _, out = await run_ok(client, "cat data/x.bin", [data, folder])
    assert out == "other"
    blob = stored(server, data[0])
    assert not blob.exists() or blob.read_bytes() == CONTENT  # dropped (its link was replaced) or intact
    _, out = await run_ok(client, "wc -c < data/x.bin", [data])
    assert out.strip() == str(len(CONTENT))
