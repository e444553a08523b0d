"""Uploads to a store on this machine (`core.client.loopback`) against a real local backend on 127.0.0.1."""

from __future__ import annotations

import hashlib
import os
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from yandex.cloud.datasphere.v2.jobs import jobs_pb2
from yandex.cloud.datasphere.v2.jobs import project_job_service_pb2 as service_pb2

from dsjobs_lsp.backends.local import LOCAL_PROJECT_ID, LocalServer, http_store, local_copy
from dsjobs_lsp.core.client import TransferError, loopback
from dsjobs_lsp.core.client.targets import UploadTarget
from tests.support.local_backend import running_local_server


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[LocalServer]:
    async with running_local_server(tmp_path / "backend") as local:
        yield local


async def _targets(server: LocalServer, files: list[Path]) -> list[UploadTarget]:
    """Upload targets of `files`, with the presigned URLs a Create of a job needing them gives."""
    digests = {f: hashlib.sha256(f.read_bytes()).hexdigest() for f in files}
    inputs = [
        jobs_pb2.File(desc=jobs_pb2.FileDesc(path=f.name), sha256=digests[f], size_bytes=f.stat().st_size)
        for f in files
    ]
    request = service_pb2.CreateProjectJobRequest(
        project_id=LOCAL_PROJECT_ID, job_parameters=jobs_pb2.JobParameters(cmd="true", input_files=inputs)
    )
    operation = await server.engine.create(request)
    created = service_pb2.CreateProjectJobResponse()
    operation.response.Unpack(created)
    urls = {item.file.sha256: item.url for item in created.upload_files}
    return [UploadTarget(urls[digests[f]], f, f.stat().st_size, digests[f], f.name) for f in files]


async def _stored(server: LocalServer, target: UploadTarget) -> bytes:
    """The bytes the store keeps for ``target`` once it has verified them."""
    await server.engine.verifications.settle([target.sha256])
    return (server.layout.blobs / target.sha256[:2] / target.sha256).read_bytes()


def _count_sendfile(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Bytes our client sends by ``socket.sendfile``, a call at a time (the list fills as it sends)."""
    sent: list[int] = []
    original = socket.socket.sendfile

    def counting(self: socket.socket, file: Any, offset: int = 0, count: int | None = None) -> int:
        moved = original(self, file, offset, count)
        sent.append(moved)
        return moved

    monkeypatch.setattr(socket.socket, "sendfile", counting)
    return sent


async def test_small_and_big_files_all_reach_the_local_store(
    server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Small files are sent whole over kept-alive connections, a big one the store copies itself (no byte of
    it on the wire); all are stored byte for byte, and the progress grows to the total once."""
    files = []
    for i in range(30):
        files.append(tmp_path / f"f{i:02d}.txt")
        files[-1].write_bytes(os.urandom(100 * i))  # one of them empty
    files.append(tmp_path / "big.bin")
    files[-1].write_bytes(os.urandom(loopback.SENDFILE_SLICE + loopback.WHOLE_BODY_MAX_SIZE + 1))
    targets = await _targets(server, files)
    progress: list[tuple[int, int]] = []
    sent_by_sendfile = _count_sendfile(monkeypatch)

    await loopback.upload_files(targets, on_progress=lambda done, total: progress.append((done, total)))

    assert [await _stored(server, t) for t in targets] == [t.local_path.read_bytes() for t in targets]
    assert sent_by_sendfile == []
    total = sum(t.size for t in targets)
    assert progress[-1] == (total, total)
    assert [done for done, _ in progress] == sorted(done for done, _ in progress)


async def test_a_refused_small_upload_fails_naming_the_file_without_the_signature(
    server: LocalServer, tmp_path: Path
) -> None:
    """A failure on the quick way is left to the general one, which reports it as every upload error is."""
    good, bad = tmp_path / "good.txt", tmp_path / "bad.txt"
    good.write_text("good\n")
    bad.write_text("bad\n")
    targets = await _targets(server, [good, bad])
    forged = targets[1].url.replace("signature=", "signature=0")
    refused = UploadTarget(forged, bad, targets[1].size, targets[1].sha256, "data/bad.txt")

    with pytest.raises(TransferError, match=r"upload of data/bad\.txt failed: HTTP 403") as caught:
        await loopback.upload_files([targets[0], refused])

    assert "signature" not in str(caught.value)
    assert await _stored(server, targets[0]) == b"good\n"


async def test_a_big_file_the_store_cannot_read_is_sent_by_sendfile(
    server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store behind a loopback address may not see this machine's files (a container, a tunnel): asked to
    copy a path it cannot read, it says so and the client sends the bytes on."""
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(loopback.SENDFILE_SLICE + 5))
    [target] = await _targets(server, [big])
    monkeypatch.setattr(loopback, "encode_source", lambda _path: "/nowhere/on/the/store/side")
    sent_by_sendfile = _count_sendfile(monkeypatch)
    progress: list[int] = []

    await loopback.upload_files([target], on_progress=lambda done, _total: progress.append(done))

    assert await _stored(server, target) == big.read_bytes()
    assert sum(sent_by_sendfile) == target.size
    assert progress[-1] == target.size


@pytest.mark.parametrize(
    ("url", "loopback_url"),
    [
        ("http://127.0.0.1:8080/blobs/a?signature=s", True),
        ("http://127.1.2.3/blobs/a", True),
        ("http://localhost:9/x", True),
        ("http://[::1]:9/x", True),
        ("https://127.0.0.1:9/x", False),  # TLS: the general way
        ("http://10.0.0.1:9/x", False),
        ("https://storage.yandexcloud.net/bucket/x", False),
    ],
)
def test_only_plain_http_to_this_machine_counts_as_loopback(url: str, loopback_url: bool) -> None:
    assert loopback.is_loopback_url(url) is loopback_url


@pytest.mark.parametrize("size", [100, loopback.WHOLE_BODY_MAX_SIZE + 1])
async def test_a_file_changed_since_it_was_hashed_is_refused_naming_it(
    server: LocalServer, tmp_path: Path, size: int
) -> None:
    """Neither a small nor a big file is sent with other bytes than the ones hashed; the error says why."""
    changed = tmp_path / "changed.bin"
    changed.write_bytes(os.urandom(size))
    [target] = await _targets(server, [changed])
    with changed.open("ab") as stream:
        stream.write(b"more")
    progress: list[int] = []

    with pytest.raises(TransferError, match=r"changed\.bin: the file changed since it was hashed"):
        await loopback.upload_files([target], on_progress=lambda done, _total: progress.append(done))

    assert not (server.layout.blobs / target.sha256[:2] / target.sha256).exists()
    assert all(done <= size for done in progress)


async def test_a_slow_copy_by_the_store_shows_its_progress_and_is_not_sent_again(
    server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a slow disk the store's copy takes longer than the client waits for an answer: the store tells
    how far it got as it goes, the progress moves, and the file is not sent a second time."""
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(loopback.WHOLE_BODY_MAX_SIZE * 3))
    [target] = await _targets(server, [big])
    bodies: list[str] = []
    copy_file_range, receive = os.copy_file_range, http_store.HttpStore._receive_upload

    def slow_copy_file_range(*args: Any) -> int:
        time.sleep(0.05)
        return copy_file_range(*args)

    async def receive_body(self: http_store.HttpStore, *args: Any) -> Any:
        bodies.append("PUT with a body")
        return await receive(self, *args)

    monkeypatch.setattr(os, "copy_file_range", slow_copy_file_range)
    monkeypatch.setattr(local_copy, "COPY_SLICE", 128 << 10)  # 24 slices: 1.2 s
    monkeypatch.setattr(http_store, "COPY_PROGRESS_SECONDS", 0.02)
    monkeypatch.setattr(http_store.HttpStore, "_receive_upload", receive_body)
    monkeypatch.setattr(loopback, "TIMEOUT_SECONDS", 0.5)
    progress: list[int] = []

    await loopback.upload_files([target], on_progress=lambda done, _total: progress.append(done))

    assert await _stored(server, target) == big.read_bytes()
    assert bodies == []
    assert len({done for done in progress if 0 < done < target.size}) >= 5
    assert progress == sorted(progress) and progress[-1] == target.size
