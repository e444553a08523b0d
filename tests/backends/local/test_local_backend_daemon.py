"""Contract: one daemon per data dir, private and clean.

Jobs never see the user's cloud credentials (the daemon starts with an allow-listed environment); a client
with another token gets a clear error and never a second daemon; an idle daemon of another version is
restarted; the data dir and its state DB are private even when they existed before; partial uploads left
by a crash are removed at start.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import grpc
import httpx
import pytest
from yandex.cloud.datasphere.v2.jobs import jobs_pb2
from yandex.cloud.datasphere.v2.jobs import project_job_service_pb2 as service_pb2

from dsjobs_lsp.backends.local import LocalServer, ensure_local_backend
from dsjobs_lsp.backends.local.launcher import LocalBackendError
from dsjobs_lsp.backends.local.server import DataDirBusyError
from tests.backends.local.local_backend_helpers import Client, daemons_of, file_entry, std_text
from tests.support.local_backend import running_local_server

SECRETS = {
    "YC_TOKEN": "y0_oauth-secret",
    "YC_IAM_TOKEN": "t1.iam-secret",
    "YC_OAUTH_TOKEN": "y0_other-secret",
    "AWS_SECRET_ACCESS_KEY": "aws-secret",
    "SOME_SHELL_VARIABLE": "from-the-shell",
}


def _environment_of(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    return dict(item.decode().partition("=")[::2] for item in raw.split(b"\0") if item)


def _job_env_lines(text: str) -> dict[str, str]:
    return dict(line.partition("=")[::2] for line in text.splitlines() if "=" in line)


async def test_jobs_of_an_auto_started_daemon_never_see_credentials(
    daemon_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("DSJOBS_LOCAL_TOKEN", "local-secret-token")
    backend = await ensure_local_backend(daemon_dir)
    assert backend.token == "local-secret-token"
    daemon_pid = json.loads((daemon_dir / "server.json").read_text())["pid"]
    daemon_env = _environment_of(daemon_pid)
    assert not {*SECRETS, "DSJOBS_LOCAL_TOKEN"} & daemon_env.keys()
    assert daemon_env["PATH"] == os.environ["PATH"]

    async with grpc.aio.insecure_channel(backend.endpoints.jobs) as channel:
        client = Client(None, channel, backend.token)  # type: ignore[arg-type]
        env = jobs_pb2.Environment(vars={"FROM_CONFIG": "yes"})
        job_id, _ = await client.run("env", env=env)
        job_env = _job_env_lines(std_text(await client.all_logs(job_id)))
    assert not {*SECRETS, "DSJOBS_LOCAL_TOKEN"} & job_env.keys()
    assert "secret" not in "".join(job_env.values())
    assert job_env["FROM_CONFIG"] == "yes"
    assert job_env["HOME"] == os.environ["HOME"]


async def test_jobs_of_a_foreground_server_never_see_credentials(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    async with (
        running_local_server(tmp_path / "data") as server,
        grpc.aio.insecure_channel(server.endpoints.jobs) as channel,
    ):
        client = Client(server, channel, server.token)
        job_id, _ = await client.run("env")
        job_env = _job_env_lines(std_text(await client.all_logs(job_id)))
    assert not SECRETS.keys() & job_env.keys()
    assert job_env["PYTHONUNBUFFERED"] == "1"


async def test_a_client_with_another_token_is_told_and_starts_no_second_daemon(
    daemon_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DSJOBS_LOCAL_TOKEN", "started-with-this")
    await ensure_local_backend(daemon_dir)
    first = daemons_of(daemon_dir)
    assert len(first) == 1

    monkeypatch.delenv("DSJOBS_LOCAL_TOKEN")
    with pytest.raises(LocalBackendError) as caught:
        await ensure_local_backend(daemon_dir)
    message = str(caught.value)
    assert "DSJOBS_LOCAL_TOKEN" in message
    assert f"kill {first[0]}" in message
    assert "started-with-this" not in message
    assert daemons_of(daemon_dir) == first


async def test_one_server_per_data_dir(tmp_path: Path) -> None:
    async with running_local_server(tmp_path / "data"):
        second = LocalServer(tmp_path / "data", offline=True)
        with pytest.raises(DataDirBusyError, match="already serves"):
            await second.start()
        await second.stop(0)


async def test_an_idle_daemon_of_another_version_is_restarted(daemon_dir: Path) -> None:
    await ensure_local_backend(daemon_dir)
    info_file = daemon_dir / "server.json"
    info = json.loads(info_file.read_text())
    info_file.write_text(json.dumps({**info, "version": "0.0.1"}))  # as an older dsjobs wrote it

    backend = await ensure_local_backend(daemon_dir)
    restarted = json.loads(info_file.read_text())
    assert restarted["pid"] != info["pid"]
    assert restarted["version"] != "0.0.1"
    assert daemons_of(daemon_dir) == [restarted["pid"]]
    async with grpc.aio.insecure_channel(backend.endpoints.jobs) as channel:
        client = Client(None, channel, backend.token)  # type: ignore[arg-type]
        _, operation = await client.run("true")
        assert not operation.HasField("error")


async def test_pre_created_data_dir_and_state_db_become_private(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    (data / "jobs").mkdir(mode=0o755)
    (data / "state.sqlite3").touch(mode=0o644)
    (data / "state.sqlite3").chmod(0o644)
    async with running_local_server(data) as server:
        async with grpc.aio.insecure_channel(server.endpoints.jobs) as channel:
            await Client(server, channel, server.token).run("true")
        assert data.stat().st_mode & 0o777 == 0o700
        assert (data / "jobs").stat().st_mode & 0o777 == 0o700
        for name in ("state.sqlite3", "state.sqlite3-wal"):
            assert (data / name).stat().st_mode & 0o777 == 0o600, name


async def test_partial_uploads_are_removed_at_start(tmp_path: Path) -> None:
    data = tmp_path / "data"
    async with running_local_server(data):
        pass
    leftover = data / "blobs" / ".incoming" / "4242-0"
    leftover.write_bytes(b"x" * 4096)  # as an upload cut short by a crash leaves it
    async with running_local_server(data):
        assert not leftover.exists()


async def test_a_busy_daemon_of_another_version_is_kept_and_reported(
    daemon_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    backend = await ensure_local_backend(daemon_dir)
    info_file = daemon_dir / "server.json"
    info = json.loads(info_file.read_text())
    async with grpc.aio.insecure_channel(backend.endpoints.jobs) as channel:
        client = Client(None, channel, backend.token)  # type: ignore[arg-type]
        job_id, _ = await client.create("sleep 300")
        await client.execute(job_id)
        await client.wait_status(job_id, {jobs_pb2.EXECUTING})
        info_file.write_text(json.dumps({**info, "version": "0.0.1"}))

        assert await ensure_local_backend(daemon_dir) == backend
        assert "runs dsjobs 0.0.1" in caplog.text
        assert daemons_of(daemon_dir) == [info["pid"]]
        await client.jobs.Cancel(service_pb2.CancelProjectJobRequest(job_id=job_id), metadata=client.md)


async def test_an_upload_cut_short_leaves_nothing_in_the_scratch_folder(client: Client) -> None:
    content = os.urandom(8 << 20)
    _, uploads = await client.create("true", [file_entry("big.bin", content)], upload=False)
    url = httpx.URL(uploads[0].url)
    _, writer = await asyncio.open_connection(url.host, url.port)
    head = f"PUT {url.raw_path.decode()} HTTP/1.1\r\nHost: {url.host}\r\nContent-Length: {len(content)}\r\n"
    writer.write(f"{head}\r\n".encode())
    writer.write(content[: len(content) // 2])
    await writer.drain()
    writer.close()  # the client dies mid-upload
    incoming = client.server.layout.blobs / ".incoming"
    for _ in range(100):
        if not any(incoming.iterdir()):
            break
        await asyncio.sleep(0.05)
    assert list(incoming.iterdir()) == []
