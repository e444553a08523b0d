"""The local backend's HTTP file store: whole and streamed uploads, copies of files on this machine,
verification, keep-alive, public URL."""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest

from dsjobs_lsp.backends.local import LocalServer, http_store, local_copy
from dsjobs_lsp.backends.local.blobs import BlobStore, blob_url_path
from dsjobs_lsp.backends.local.copy_request import COPY_FROM_HEADER, COPY_SIZE_HEADER, encode_source
from dsjobs_lsp.core.client import TransferError, UploadTarget, upload_files
from tests.backends.local.local_backend_helpers import Client, file_entry


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    """Bodies over 64 KiB take the streamed path, written in 64 KiB batches."""
    monkeypatch.setattr(http_store, "WHOLE_BODY_MAX_SIZE", 64 << 10)
    monkeypatch.setattr(http_store, "FLUSH_SIZE", 64 << 10)


async def _chunks(data: bytes, size: int = 10_000) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def _incoming(server: LocalServer) -> list[Path]:
    return list((server.layout.blobs / ".incoming").iterdir())


async def _until_no_scratch(server: LocalServer) -> None:
    """Wait (up to 5 s) for the store's scratch folder to be empty."""
    for _ in range(100):
        if not _incoming(server):
            break
        await asyncio.sleep(0.05)
    assert _incoming(server) == []


async def test_streamed_upload_is_stored_verified_and_leaves_no_scratch(
    client: Client, small_batches: None
) -> None:
    content = os.urandom(300_000)
    _, [upload] = await client.create("true", [file_entry("big.bin", content)], upload=False)
    async with httpx.AsyncClient() as http:
        stored = await http.put(upload.url, content=_chunks(content))  # chunked: no Content-Length
    assert stored.status_code == 200
    assert client.server.engine.store.path(upload.file.sha256).read_bytes() == content
    assert _incoming(client.server) == []


async def test_streamed_upload_with_wrong_bytes_is_refused_and_nothing_kept(
    client: Client, small_batches: None
) -> None:
    content = os.urandom(300_000)
    _, [upload] = await client.create("true", [file_entry("big.bin", content)], upload=False)
    tampered = content[:-1] + bytes([content[-1] ^ 1])
    async with httpx.AsyncClient() as http:
        refused = await http.put(upload.url, content=tampered)
    assert refused.status_code == 400 and upload.file.sha256 in refused.text
    assert not client.server.engine.store.has(upload.file.sha256)
    assert _incoming(client.server) == []


async def test_many_uploads_over_one_keep_alive_connection(client: Client) -> None:
    entries = [file_entry(f"f{i}.bin", os.urandom(1000 + i)) for i in range(20)]
    _, uploads = await client.create("true", entries, upload=False)
    contents = {f.sha256: data for f, data in entries}
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=1)) as http:
        for item in uploads:
            (await http.put(item.url, content=contents[item.file.sha256])).raise_for_status()
    assert all(client.server.engine.store.has(f.sha256) for f, _ in entries)
    _, again = await client.create("true", entries, upload=False)
    assert again == []  # every file is known now


async def test_public_url_is_what_clients_are_given(tmp_path: Path) -> None:
    public = "http://files.example.test:8080"
    server = LocalServer(tmp_path / "data", offline=True, public_http_url=public + "/")
    await server.start()
    try:
        assert server.endpoints.ui_base_url == public
        entry, _ = file_entry("a.txt", b"a")
        async with grpc.aio.insecure_channel(server.endpoints.jobs) as channel:
            jobs = Client(server, channel, server.token)
            _, [upload] = await jobs.create("true", [(entry, b"a")], upload=False)
        assert upload.url.startswith(f"{public}/blobs/{entry.sha256}?")
        # The signature covers method and path only: the same URL on the real port is accepted.
        real = upload.url.replace(public, f"http://127.0.0.1:{server.http_port}")
        await upload_files([_target(tmp_path, real, b"a")])
        assert server.engine.store.has(entry.sha256)
    finally:
        await server.stop(0)


def _target(folder: Path, url: str, data: bytes) -> UploadTarget:
    path = folder / "upload.bin"
    path.write_bytes(data)
    return UploadTarget(url, path, len(data), hashlib.sha256(data).hexdigest(), "upload.bin")


async def test_our_client_uploads_a_mixed_project_to_the_store(
    client: Client, tmp_path: Path, small_batches: None
) -> None:
    """Small files sent whole, big ones by sendfile and taken by the store in batches, all verify."""
    blobs = [os.urandom(size) for size in (3 << 20, 10, 70_000, 0, 1 << 20)]
    entries = [file_entry(f"f{i}.bin", data) for i, data in enumerate(blobs)]
    _, uploads = await client.create("true", entries, upload=False)
    targets = []
    for item in uploads:
        data = next(d for f, d in entries if f.sha256 == item.file.sha256)
        path = tmp_path / item.file.desc.path
        path.write_bytes(data)
        targets.append(UploadTarget(item.url, path, len(data), item.file.sha256, item.file.desc.path))
    await upload_files(targets, concurrency=2)
    for data in blobs:
        stored = client.server.engine.store.path(hashlib.sha256(data).hexdigest())
        assert stored.read_bytes() == data


async def test_in_process_client_holding_every_default_thread_still_uploads(
    client: Client, tmp_path: Path
) -> None:
    """A client in the same process may hold all of asyncio's default threads in blocking PUTs: the store
    works on threads of its own, so the uploads complete (they used to wait for the client's timeouts)."""
    loop = asyncio.get_running_loop()
    loop.set_default_executor(ThreadPoolExecutor(max_workers=2))
    blobs = [os.urandom(4096 + i) for i in range(24)]
    entries = [file_entry(f"f{i}.bin", data) for i, data in enumerate(blobs)]
    _, uploads = await client.create("true", entries, upload=False)
    contents = {f.sha256: data for f, data in entries}

    def put(url: str, data: bytes) -> int:
        return httpx.put(url, content=data, timeout=120).status_code

    statuses = await asyncio.wait_for(
        asyncio.gather(*(asyncio.to_thread(put, u.url, contents[u.file.sha256]) for u in uploads)), 50
    )
    assert statuses == [200] * len(uploads)
    assert all(client.server.engine.store.has(f.sha256) for f, _ in entries)


async def test_big_upload_read_from_the_socket_is_stored_then_the_connection_closes(
    client: Client, small_batches: None
) -> None:
    """A body with a length over the whole-body size is read off the event loop, straight from the socket;
    h11 never sees it, so the connection is closed after the response."""
    content = os.urandom(5 << 20)
    _, [upload] = await client.create("true", [file_entry("big.bin", content)], upload=False)
    async with httpx.AsyncClient() as http:
        stored = await http.put(upload.url, content=content)
    assert stored.status_code == 200 and stored.headers["connection"] == "close"
    assert client.server.engine.store.path(upload.file.sha256).read_bytes() == content
    assert _incoming(client.server) == []


async def test_body_cut_short_stores_nothing_and_the_store_keeps_serving(
    client: Client, small_batches: None
) -> None:
    content = os.urandom(300_000)
    _, [upload] = await client.create("true", [file_entry("cut.bin", content)], upload=False)
    target = upload.url.removeprefix(f"http://127.0.0.1:{client.server.http_port}")
    reader, writer = await asyncio.open_connection("127.0.0.1", client.server.http_port)
    head = f"PUT {target} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(content)}\r\n\r\n"
    writer.write(head.encode() + content[:100_000])
    await writer.drain()
    writer.close()
    assert await reader.read() == b""  # closed without an answer
    async with httpx.AsyncClient() as http:
        stored = await http.put(upload.url, content=content)
    assert stored.status_code == 200
    assert client.server.engine.store.path(upload.file.sha256).read_bytes() == content
    await _until_no_scratch(client.server)  # the cut upload's thread may still be ending: our EOF came first


async def test_stopping_the_store_during_a_big_upload_ends_it_and_keeps_nothing(
    tmp_path: Path, small_batches: None
) -> None:
    """The worker thread reading a body is woken when the store stops (it does not wait for the client)."""
    server = LocalServer(tmp_path / "data", offline=True)
    await server.start()
    content = os.urandom(300_000)
    async with grpc.aio.insecure_channel(server.endpoints.jobs) as channel:
        _, [upload] = await Client(server, channel, server.token).create(
            "true", [file_entry("half.bin", content)], upload=False
        )
    target = upload.url.removeprefix(f"http://127.0.0.1:{server.http_port}")
    reader, writer = await asyncio.open_connection("127.0.0.1", server.http_port)
    writer.write(f"PUT {target} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(content)}\r\n\r\n".encode())
    writer.write(content[:100_000])
    await writer.drain()
    await asyncio.sleep(0.2)  # the store is now reading the body on its worker thread
    await server.stop(0)
    assert await asyncio.wait_for(reader.read(), 30) == b""  # the store's 60 s read timeout is not waited for
    writer.close()
    assert not server.engine.store.has(upload.file.sha256)
    await _until_no_scratch(server)


async def test_an_upload_is_answered_while_the_store_notes_it(tmp_path: Path) -> None:
    """The 200 goes out while ``on_stored`` (the state DB's record) still runs; the connection serves its next
    request only once that note is done, so no note is lost or reordered."""
    release = asyncio.Event()
    noted: list[str] = []

    async def on_stored(sha256: str, size: int) -> None:
        await release.wait()
        noted.append(sha256)

    store = http_store.HttpStore(BlobStore(tmp_path / "blobs"), b"key", on_stored=on_stored)
    await store.start()
    first, second = os.urandom(1000), os.urandom(1000)
    urls = [store.signer.url("PUT", blob_url_path(hashlib.sha256(b).hexdigest())) for b in (first, second)]
    try:
        async with httpx.AsyncClient(limits=httpx.Limits(max_connections=1)) as http:
            answer = await asyncio.wait_for(http.put(urls[0], content=first), timeout=10)
            assert answer.status_code == 200 and noted == []
            later = asyncio.ensure_future(http.put(urls[1], content=second))
            await asyncio.sleep(0.2)
            assert not later.done()  # the same connection waits for the first note
            release.set()
            assert (await asyncio.wait_for(later, timeout=10)).status_code == 200
        assert noted == [hashlib.sha256(b).hexdigest() for b in (first, second)]
    finally:
        release.set()
        await store.stop()


@pytest.mark.skipif(not hasattr(os, "splice"), reason="splice is Linux-only")
async def test_a_big_upload_is_spliced_into_the_store_and_hashed_as_stored(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The body goes socket -> pipe -> file in the kernel; the digest is of the file's bytes."""
    spliced_into_files: list[int] = []
    splice = os.splice

    def counting_splice(src: int, dst: int, count: int, *args: Any, **kwargs: Any) -> int:
        moved = splice(src, dst, count, *args, **kwargs)
        if kwargs.get("offset_dst") is not None:
            spliced_into_files.append(moved)
        return moved

    monkeypatch.setattr(os, "splice", counting_splice)
    content = os.urandom(9 << 20)
    _, [upload] = await client.create("true", [file_entry("big.bin", content)], upload=False)
    async with httpx.AsyncClient() as http:
        assert (await http.put(upload.url, content=content)).status_code == 200
    assert client.server.engine.store.path(upload.file.sha256).read_bytes() == content
    assert 0 < sum(spliced_into_files) <= len(content)
    assert _incoming(client.server) == []


async def test_without_splice_a_big_upload_is_received_and_verified_all_the_same(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delattr(os, "splice", raising=False)
    content = os.urandom(9 << 20)
    _, [upload] = await client.create("true", [file_entry("big.bin", content)], upload=False)
    tampered = content[:-1] + bytes([content[-1] ^ 1])
    async with httpx.AsyncClient() as http:
        refused = await http.put(upload.url, content=tampered)
        assert refused.status_code == 400 and not client.server.engine.store.has(upload.file.sha256)
        assert (await http.put(upload.url, content=content)).status_code == 200
    assert client.server.engine.store.path(upload.file.sha256).read_bytes() == content
    assert _incoming(client.server) == []


async def test_a_big_upload_refused_before_its_body_is_read_reports_the_status(
    client: Client, tmp_path: Path
) -> None:
    """The store answers a bad signature at once and closes; our client reports that answer, not the reset."""
    content = os.urandom(9 << 20)
    _, [upload] = await client.create("true", [file_entry("big.bin", content)], upload=False)
    source = tmp_path / "big.bin"
    source.write_bytes(content)
    forged = upload.url.split("?")[0] + "?expires=1&signature=forged"
    target = UploadTarget(forged, source, len(content), upload.file.sha256, "big.bin")
    with pytest.raises(TransferError, match=r"upload of big.bin failed: HTTP 403 from http://127\.0\.0\.1"):
        await upload_files([target], retries=0)
    assert not client.server.engine.store.has(upload.file.sha256)


async def test_a_big_stored_file_is_sent_by_sendfile_then_the_connection_closes(client: Client) -> None:
    content = os.urandom(9 << 20)
    entry = file_entry("big.bin", content)
    _, [upload] = await client.create("true", [entry], upload=False)
    small = file_entry("small.txt", b"small")
    await client.create("true", [small])
    [big_url, small_url] = [f.url for f in client.server.engine.download_urls([entry[0], small[0]])]
    async with httpx.AsyncClient() as http:
        assert (await http.put(upload.url, content=content)).status_code == 200
        got = await http.get(big_url)
        assert got.status_code == 200 and got.content == content and got.headers["connection"] == "close"
        kept = await http.get(small_url)  # a small one keeps the connection open
        assert kept.content == b"small" and "connection" not in kept.headers


def _copy_headers(path: Path | str, size: int) -> dict[str, str]:
    """The headers of a request for the store to copy ``path`` itself (what our loopback client sends)."""
    return {COPY_FROM_HEADER: encode_source(Path(path)), COPY_SIZE_HEADER: str(size)}


async def test_a_file_on_this_machine_is_copied_by_the_store_and_stored_once_verified(
    client: Client, tmp_path: Path
) -> None:
    content = os.urandom(9 << 20)
    source = tmp_path / "naïve data.bin"  # a name that needs encoding in a header
    source.write_bytes(content)
    job_id, [upload] = await client.create("true", [file_entry("big.bin", content)], upload=False)
    async with httpx.AsyncClient() as http:
        copied = await http.put(upload.url, headers=_copy_headers(source, len(content)))
    assert copied.status_code == 200 and copied.text.splitlines()[-1] == "copied"
    assert await client.server.engine.verifications.settle([upload.file.sha256]) == {}
    assert client.server.engine.store.path(upload.file.sha256).read_bytes() == content
    assert _incoming(client.server) == []
    finished = await client.wait(await client.execute(job_id))  # the job has its file
    assert not finished.HasField("error")


async def test_a_copied_file_that_changed_after_hashing_is_not_stored_and_execute_says_why(
    client: Client, tmp_path: Path
) -> None:
    content = os.urandom(6 << 20)
    source = tmp_path / "data.bin"
    source.write_bytes(content[:-1] + bytes([content[-1] ^ 1]))  # same size, other bytes
    job_id, [upload] = await client.create("true", [file_entry("data.bin", content)], upload=False)
    async with httpx.AsyncClient() as http:
        assert (await http.put(upload.url, headers=_copy_headers(source, len(content)))).status_code == 200

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await client.execute(job_id)

    assert caught.value.code() is grpc.StatusCode.FAILED_PRECONDITION
    assert "data.bin" in str(caught.value.details())
    assert "the file changed after it was hashed" in str(caught.value.details())
    assert not client.server.engine.store.has(upload.file.sha256)
    assert _incoming(client.server) == []


@pytest.mark.parametrize("what", ["missing", "folder", "shorter", "fifo"])
async def test_a_file_the_store_cannot_copy_is_answered_422_naming_why(
    client: Client, tmp_path: Path, what: str
) -> None:
    content = os.urandom(2 << 20)
    (tmp_path / "short.bin").write_bytes(content[:100])
    os.mkfifo(tmp_path / "pipe")  # opening it for reading would wait for a writer
    source = {
        "missing": tmp_path / "gone.bin",
        "folder": tmp_path,
        "shorter": tmp_path / "short.bin",
        "fifo": tmp_path / "pipe",
    }[what]
    _, [upload] = await client.create("true", [file_entry("big.bin", content)], upload=False)
    async with httpx.AsyncClient(timeout=10) as http:
        refused = await http.put(upload.url, headers=_copy_headers(source, len(content)))
        assert refused.status_code == 422 and str(source) in refused.text
        assert (await http.put(upload.url, content=content)).status_code == 200  # the bytes go through
    assert client.server.engine.store.path(upload.file.sha256).read_bytes() == content
    assert _incoming(client.server) == []


async def test_without_copy_file_range_the_store_copies_through_a_buffer(
    client: Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delattr(os, "copy_file_range", raising=False)
    content = os.urandom((5 << 20) + 123)
    source = tmp_path / "data.bin"
    source.write_bytes(content)
    _, [upload] = await client.create("true", [file_entry("data.bin", content)], upload=False)
    async with httpx.AsyncClient() as http:
        assert (await http.put(upload.url, headers=_copy_headers(source, len(content)))).status_code == 200
    assert await client.server.engine.verifications.settle([upload.file.sha256]) == {}
    assert client.server.engine.store.path(upload.file.sha256).read_bytes() == content


async def test_a_file_that_shrinks_while_the_store_copies_it_ends_the_answer_failed_and_keeps_nothing(
    client: Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    content = os.urandom(3 << 20)
    source = tmp_path / "data.bin"
    source.write_bytes(content)
    copy_file_range = os.copy_file_range

    def shrinking(src: int, dst: int, count: int, offset_src: int, offset_dst: int) -> int:
        moved = copy_file_range(src, dst, count, offset_src, offset_dst)
        os.truncate(source, 1 << 20)  # the user overwrites the file meanwhile
        return moved

    monkeypatch.setattr(os, "copy_file_range", shrinking)
    monkeypatch.setattr(local_copy, "COPY_SLICE", 1 << 20)
    _, [upload] = await client.create("true", [file_entry("data.bin", content)], upload=False)
    async with httpx.AsyncClient() as http:
        answer = await http.put(upload.url, headers=_copy_headers(source, len(content)))

    assert answer.text.splitlines()[-1] == f"failed 422 the file ended after {1 << 20} of {3 << 20} bytes"
    await client.server.engine.verifications.settle([upload.file.sha256])
    assert not client.server.engine.store.has(upload.file.sha256)
    assert _incoming(client.server) == []
