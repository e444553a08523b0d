"""upload_files / download_files against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import hashlib
import io
import os
import threading
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from yandex.cloud.datasphere.v2.jobs import jobs_pb2

from dsjobs_lsp.backends.local import direct_receive
from dsjobs_lsp.core.client import TransferError, UploadTarget, download_files, transfer, upload_files


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(transfer, "RETRY_DELAYS", (0.01,))


class Store:
    """Objects by URL path; ``fail_once`` paths answer 500 the first time."""

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}
        self.fail_once: set[str] = set()
        self.refuse: set[str] = set()
        self.close_each = False
        self.chunked: set[str] = set()
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.peers: set[tuple[str, int]] = set()
        self.lock = threading.Lock()


def _handler(store: Store) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def _failed(self) -> bool:
            with store.lock:
                store.requests.append((self.command, self.path, dict(self.headers.items())))
                store.peers.add(self.client_address)
                if self.path.split("?")[0] in store.refuse:
                    self.send_response(403)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return True
                if self.path.split("?")[0] in store.fail_once:
                    store.fail_once.discard(self.path.split("?")[0])
                    self.send_response(500)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return True
            return False

        def do_PUT(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))  # refusals too: no early answers
            if self._failed():
                return
            store.objects[self.path.split("?")[0]] = body
            self.send_response(200)
            self.send_header("Content-Length", "0")
            if store.close_each:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()

        def do_GET(self) -> None:
            if self._failed():
                return
            body = store.objects.get(self.path.split("?")[0])
            if body is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            if self.path.split("?")[0] in store.chunked:  # one chunk, then the last (empty) one
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                self.wfile.write(b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body))
                return
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


@pytest.fixture
def store() -> Iterator[tuple[Store, str]]:
    state = Store()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield state, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _all_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()]


def _target(path: Path, url: str) -> UploadTarget:
    data = path.read_bytes()
    return UploadTarget(url, path, len(data), hashlib.sha256(data).hexdigest(), path.name)


async def test_upload_streams_with_length_and_retries_a_500(tmp_path: Path, store: tuple[Store, str]) -> None:
    state, base = store
    big = tmp_path / "big.bin"
    big.write_bytes(bytes(range(256)) * 12_000)  # ~3 MiB: several chunks
    small = tmp_path / "small.txt"
    small.write_text("hi")
    state.fail_once.add("/big")
    progress: list[tuple[int, int]] = []
    await upload_files(
        [_target(big, f"{base}/big?X-Signature=secret"), _target(small, f"{base}/small")],
        on_progress=lambda done, total: progress.append((done, total)),
    )
    assert state.objects["/big"] == big.read_bytes() and state.objects["/small"] == b"hi"
    puts = [r for r in state.requests if r[1].startswith("/big")]
    assert len(puts) == 2
    assert puts[1][2]["Content-Length"] == str(big.stat().st_size)
    assert "Transfer-Encoding" not in puts[1][2]
    total = big.stat().st_size + 2
    assert progress[-1] == (total, total)
    assert all(done <= total for done, _ in progress)


async def test_many_small_files_share_a_few_keep_alive_connections(
    tmp_path: Path, store: tuple[Store, str]
) -> None:
    state, base = store
    files = []
    for i in range(40):
        files.append(tmp_path / f"f{i}.txt")
        files[-1].write_text(f"file {i}\n" * i)
    progress: list[tuple[int, int]] = []
    await upload_files(
        [_target(f, f"{base}/{f.name}?sig=s") for f in files],
        concurrency=3,
        on_progress=lambda done, total: progress.append((done, total)),
    )
    assert all(state.objects[f"/{f.name}"] == f.read_bytes() for f in files)
    assert len(state.peers) <= 3  # 40 PUTs, at most one connection per concurrent upload
    total = sum(f.stat().st_size for f in files)
    assert progress[-1] == (total, total)


async def test_connections_closed_by_the_server_are_replaced(
    tmp_path: Path, store: tuple[Store, str]
) -> None:
    state, base = store
    state.close_each = True
    files = [tmp_path / f"f{i}.txt" for i in range(5)]
    for f in files:
        f.write_text(f.name)
    await upload_files([_target(f, f"{base}/{f.name}") for f in files], concurrency=1, retries=0)
    assert all(state.objects[f"/{f.name}"] == f.read_bytes() for f in files)
    assert len(state.peers) == 5


async def test_refused_streamed_upload_is_not_retried(tmp_path: Path, store: tuple[Store, str]) -> None:
    state, base = store
    big = tmp_path / "big.bin"
    big.write_bytes(b"x" * (transfer.SMALL_FILE_SIZE + 1))
    state.refuse.add("/big")
    with pytest.raises(
        TransferError, match=r"upload of big.bin failed: HTTP 403 from http://127.0.0.1:\d+/big$"
    ):
        await upload_files([_target(big, f"{base}/big?sig=TOPSECRET")])
    assert len(state.requests) == 1


async def test_uploads_go_through_a_configured_proxy(
    tmp_path: Path, store: tuple[Store, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    state, base = store
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy", "HTTPS_PROXY", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", base)
    monkeypatch.setenv("http_proxy", base)
    file = tmp_path / "f.txt"
    file.write_text("via proxy")
    await upload_files([_target(file, "http://files.invalid/bucket/f.txt?sig=s")])
    # The proxy (our store) got the absolute-form target only a proxy is sent.
    assert state.objects["http://files.invalid/bucket/f.txt"] == b"via proxy"


async def test_file_changed_since_hashing_is_refused(tmp_path: Path, store: tuple[Store, str]) -> None:
    _, base = store
    file = tmp_path / "f.txt"
    file.write_text("x")
    target = UploadTarget(f"{base}/f", file, 1, "0" * 64, "data/f.txt")
    file.write_text("xy")
    with pytest.raises(TransferError, match=r"upload of data/f.txt: the file changed since it was hashed"):
        await upload_files([target], retries=0)


async def test_http_404_is_not_retried_and_hides_the_signature(
    tmp_path: Path, store: tuple[Store, str]
) -> None:
    state, base = store
    with pytest.raises(TransferError, match=r"download of gone.txt failed: HTTP 404") as caught:
        gone = _storage_file(f"{base}/gone?sig=TOPSECRET", "gone.txt", b"")
        await download_files([gone], dest_dir=tmp_path)
    assert "TOPSECRET" not in str(caught.value)
    assert len([r for r in state.requests if r[1].startswith("/gone")]) == 1


async def test_upload_gives_up_after_retries(tmp_path: Path) -> None:
    file = tmp_path / "f.txt"
    file.write_text("x")
    target = UploadTarget("http://127.0.0.1:9/nothing?sig=TOPSECRET", file, 1, "0" * 64, "f.txt")
    with pytest.raises(TransferError, match=r"upload of f.txt failed after 2 attempts") as caught:
        await upload_files([target], retries=1)
    assert "TOPSECRET" not in str(caught.value)


def _storage_file(url: str, path: str, data: bytes, *, zipped: bool = False) -> jobs_pb2.StorageFile:
    compression = jobs_pb2.FileCompressionType.ZIP if zipped else jobs_pb2.FileCompressionType.NONE
    return jobs_pb2.StorageFile(
        url=url,
        file=jobs_pb2.File(
            desc=jobs_pb2.FileDesc(path=path),
            sha256=hashlib.sha256(data).hexdigest(),
            size_bytes=len(data),
            compression_type=compression,
        ),
    )


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        for name, data in entries.items():
            bundle.writestr(name, data)
    return buffer.getvalue()


async def test_download_writes_files_and_unpacks_zips(tmp_path: Path, store: tuple[Store, str]) -> None:
    state, base = store
    state.objects["/result"] = b"42\n"
    state.objects["/dir"] = _zip({"out/a.txt": b"A", "out/sub/b.txt": b"B"})
    state.fail_once.add("/result")
    dest = tmp_path / "work"
    progress: list[tuple[int, int]] = []
    written = await download_files(
        [
            _storage_file(f"{base}/result", "results/answer.txt", b"42\n"),
            _storage_file(f"{base}/dir", "out", state.objects["/dir"], zipped=True),
        ],
        dest_dir=dest,
        on_progress=lambda done, total: progress.append((done, total)),
    )
    assert (dest / "results" / "answer.txt").read_bytes() == b"42\n"
    assert (dest / "out" / "a.txt").read_bytes() == b"A"
    assert (dest / "out" / "sub" / "b.txt").read_bytes() == b"B"
    assert sorted(written) == sorted(
        [dest / "results" / "answer.txt", dest / "out" / "a.txt", dest / "out" / "sub" / "b.txt"]
    )
    assert not list(dest.rglob("*.download"))
    assert progress[-1][0] == progress[-1][1]


@pytest.mark.parametrize("bad_path", ["../escape.txt", "/etc/passwd", "a/../../b", "C:/x"])
async def test_download_refuses_paths_outside_the_folder(
    tmp_path: Path, store: tuple[Store, str], bad_path: str
) -> None:
    _, base = store
    with pytest.raises(TransferError, match="would land outside"):
        await download_files([_storage_file(f"{base}/x", bad_path, b"")], dest_dir=tmp_path / "dest")
    assert not (tmp_path / "escape.txt").exists()


async def test_download_refuses_zip_slip(tmp_path: Path, store: tuple[Store, str]) -> None:
    state, base = store
    state.objects["/evil"] = _zip({"ok.txt": b"fine", "../../pwned.txt": b"gotcha"})
    dest = tmp_path / "a" / "dest"
    with pytest.raises(TransferError, match=r"refusing to write '\.\./\.\./pwned\.txt'"):
        await download_files(
            [_storage_file(f"{base}/evil", "out", state.objects["/evil"], zipped=True)], dest_dir=dest
        )
    assert not [p for p in _all_files(tmp_path) if p.name in ("pwned.txt", "ok.txt")]


async def test_download_limit_skips_the_largest(tmp_path: Path, store: tuple[Store, str]) -> None:
    state, base = store
    state.objects["/s"], state.objects["/l"] = b"s" * 10, b"l" * 100
    skipped: list[tuple[str, int]] = []
    written = await download_files(
        [
            _storage_file(f"{base}/l", "large.bin", state.objects["/l"]),
            _storage_file(f"{base}/s", "small.bin", state.objects["/s"]),
        ],
        dest_dir=tmp_path,
        max_total=50,
        on_skipped=lambda path, size: skipped.append((path, size)),
    )
    assert written == [tmp_path / "small.bin"] and skipped == [("large.bin", 100)]


async def test_corrupted_download_is_retried_then_reported(tmp_path: Path, store: tuple[Store, str]) -> None:
    state, base = store
    state.objects["/c"] = b"corrupted"
    with pytest.raises(TransferError, match=r"download of c.txt failed after 2 attempts: .*sha256"):
        await download_files([_storage_file(f"{base}/c", "c.txt", b"original")], dest_dir=tmp_path, retries=1)
    assert _all_files(tmp_path) == []


async def test_a_big_file_from_a_loopback_url_is_received_into_the_file_and_verified(
    tmp_path: Path, store: tuple[Store, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A big download from this machine goes the local store's way (into the file, hashed from its pages):
    the bytes land, progress adds up, a 500 is retried and a corrupted body is refused."""
    state, base = store
    received_by_file: list[int] = []
    receive_file = direct_receive.receive_file

    def counting_receive_file(*args: Any, **kwargs: Any) -> str:
        digest: str = receive_file(*args, **kwargs)
        received_by_file.append(args[3])
        return digest

    monkeypatch.setattr(direct_receive, "receive_file", counting_receive_file)
    data = os.urandom(3 * transfer.SMALL_FILE_SIZE)
    state.objects["/big"] = data
    state.fail_once.add("/big")
    progress: list[tuple[int, int]] = []
    written = await download_files(
        [_storage_file(f"{base}/big?sig=s", "out/big.bin", data)],
        dest_dir=tmp_path,
        on_progress=lambda done, total: progress.append((done, total)),
    )
    assert written == [tmp_path / "out" / "big.bin"] and written[0].read_bytes() == data
    assert received_by_file == [len(data)] and progress[-1] == (len(data), len(data))
    state.objects["/chunked"] = data
    state.chunked.add("/chunked")  # no length: the general way reads it
    await download_files([_storage_file(f"{base}/chunked", "chunked.bin", data)], dest_dir=tmp_path)
    assert (tmp_path / "chunked.bin").read_bytes() == data
    state.objects["/bad"] = data[:-1] + b"?"
    with pytest.raises(TransferError, match=r"download of bad.bin failed after 2 attempts: .*sha256"):
        await download_files([_storage_file(f"{base}/bad", "bad.bin", data)], dest_dir=tmp_path, retries=1)
    assert sorted(_all_files(tmp_path)) == [tmp_path / "chunked.bin", tmp_path / "out" / "big.bin"]
