"""File transfers against presigned URLs: concurrent, retried, with byte progress.

Both directions use httpx over a few keep-alive HTTP/1.1 connections. An upload of a file up to 1 MiB is
read and sent as one body, a bigger one is streamed; each in one worker-thread hop; the biggest files start
first (uploads to a store on this machine go ``loopback``'s way, and come here only when that failed). A
download of a bigger file from a plain-http loopback URL (the local backend's store) goes over a socket of its
own, received the way the store receives an upload (spliced into the file, hashed from its pages on a second
thread).
Downloads never write outside their target folder: absolute paths, ``..`` and zip-slip entries are refused.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import os
import socket
import ssl
import threading
import uuid
import zipfile
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path, PurePosixPath
from typing import BinaryIO, TypeVar
from urllib.parse import urlsplit

import h11
import httpx
from yandex.cloud.datasphere.v2.jobs import jobs_pb2

from dsjobs_lsp.core.client.errors import TransferError
from dsjobs_lsp.core.client.loopback import is_loopback_url
from dsjobs_lsp.core.client.targets import UploadTarget as UploadTarget  # defined where no HTTP client loads
from dsjobs_lsp.core.packaging.limits import humanize_bytes_size

logger = logging.getLogger(__name__)

CHUNK_SIZE = 1 << 20
SMALL_FILE_SIZE = 1 << 20
READ_SIZE = 64 << 10
"""Bytes per read of a response head."""
DOWNLOAD_FILES_MAX_TOTAL_SIZE_BYTES = 1 << 30
TRANSFER_TIMEOUT = httpx.Timeout(60.0, connect=15.0)
RETRY_DELAYS = (0.5, 2.0, 5.0, 10.0)

T = TypeVar("T")
ProgressCallback = Callable[[int, int], None]
"""Called with (bytes done, bytes in all)."""
SkippedCallback = Callable[[str, int], None]
"""Called with (desc path, size) for an output left on the server because of the download size limit."""


class _Progress:
    """Byte counter shared by concurrent transfers; failed attempts give their bytes back."""

    def __init__(self, total: int, callback: ProgressCallback | None) -> None:
        self.total = total
        self.done = 0
        self._callback = callback

    def add(self, count: int) -> None:
        self.done += count
        if self._callback is not None:
            self._callback(self.done, self.total)


class _RetryableError(Exception):
    """A failure worth another attempt (5xx, 408/429, a corrupted download)."""


def safe_url(url: str) -> str:
    """The URL without its query: a presigned URL's signature is a secret and stays out of messages."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def _check_status(status: int, url: str, what: str) -> None:
    if status >= 500 or status in (408, 429):
        raise _RetryableError(f"HTTP {status}")
    if not 200 <= status < 300:  # uploads follow no redirects: a presigned URL is the object itself
        raise TransferError(f"{what} failed: HTTP {status} from {safe_url(url)}")


_RETRYABLE = (_RetryableError, httpx.TransportError, ConnectionError, TimeoutError, asyncio.TimeoutError)


async def _retrying(attempt: Callable[[], Awaitable[T]], *, what: str, retries: int) -> T:
    for number in range(retries + 1):
        try:
            return await attempt()
        except _RETRYABLE as error:
            reason = str(error) or type(error).__name__
            if number == retries:
                raise TransferError(f"{what} failed after {retries + 1} attempts: {reason}") from None
            delay = RETRY_DELAYS[min(number, len(RETRY_DELAYS) - 1)]
            logger.warning("%s failed (%s); retrying in %.1f s", what, reason, delay)
            await asyncio.sleep(delay)
    raise AssertionError("unreachable")


async def _run_all(jobs: list[Callable[[], Awaitable[T]]], concurrency: int) -> list[T]:
    """Run ``jobs`` with at most ``concurrency`` at once; the first failure cancels the rest and is raised."""
    limit = asyncio.Semaphore(concurrency)

    async def run(job: Callable[[], Awaitable[T]]) -> T:
        async with limit:
            return await job()

    tasks = [asyncio.ensure_future(run(job)) for job in jobs]
    try:
        return list(await asyncio.gather(*tasks))
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


@functools.cache
def _default_tls_context() -> ssl.SSLContext:
    return httpx.create_ssl_context()


async def _tls_verification(urls: list[str]) -> ssl.SSLContext | bool:
    """The TLS context for https URLs, loaded once per process (about 0.1 s); plain-http URLs (the local
    backend's store) need none, so none is loaded for them."""
    if all(url.startswith("http://") for url in urls):
        return False
    return await asyncio.to_thread(_default_tls_context)


def _client() -> httpx.AsyncClient:
    return httpx.AsyncClient(http1=True, http2=False, timeout=TRANSFER_TIMEOUT, follow_redirects=True)


class _Stopped(Exception):
    """The transfer was cancelled while its worker thread was sending or receiving."""


class _NoLength(Exception):
    """The response has no Content-Length (a chunked one): the general way reads it."""


def _put_file(
    client: httpx.Client, target: UploadTarget, on_sent: Callable[[int], None], stop: threading.Event
) -> int:
    """PUT one file (in a worker thread) and return the HTTP status: a small file read whole and sent as one
    body, a bigger one streamed in ``CHUNK_SIZE`` slices; ``on_sent`` hears of every slice sent."""
    changed = f"upload of {target.display_path}: the file changed since it was hashed"
    headers = {"Content-Length": str(target.size)}
    with target.local_path.open("rb") as stream:
        if target.size <= SMALL_FILE_SIZE:
            data = stream.read(target.size + 1)
            if len(data) != target.size:
                raise TransferError(f"{changed} (it no longer has {target.size} bytes)")
            status = client.put(target.url, content=data, headers=headers).status_code
            on_sent(target.size)
            return status
        size = os.fstat(stream.fileno()).st_size
        if size != target.size:
            raise TransferError(f"{changed} ({size} bytes, not {target.size})")

        def slices() -> Iterator[bytes]:
            while chunk := stream.read(CHUNK_SIZE):
                if stop.is_set():
                    raise _Stopped
                yield chunk
                on_sent(len(chunk))

        return client.put(target.url, content=slices(), headers=headers).status_code


async def _upload_one(client: httpx.Client, target: UploadTarget, progress: _Progress, retries: int) -> None:
    what = f"upload of {target.display_path}"
    loop = asyncio.get_running_loop()

    async def attempt() -> None:
        sent = [0]

        def count(size: int) -> None:
            sent[0] += size
            progress.add(size)

        stop = threading.Event()
        try:

            def report(size: int) -> None:
                loop.call_soon_threadsafe(count, size)

            status = await asyncio.to_thread(_put_file, client, target, report, stop)
            await asyncio.sleep(0)  # let the last progress reports of the thread run first
            _check_status(status, target.url, what)
        except BaseException:
            stop.set()
            progress.add(-sent[0])
            raise

    await _retrying(attempt, what=what, retries=retries)


async def upload_files(
    targets: list[UploadTarget],
    *,
    concurrency: int = 8,
    on_progress: ProgressCallback | None = None,
    retries: int = 3,
) -> None:
    """PUT every target's file to its presigned URL (``Content-Length`` set; small files sent whole, big ones
    streamed) over at most ``concurrency`` keep-alive connections, retrying 5xx and connection errors with
    backoff; raises ``TransferError`` naming the file that could not be uploaded. Proxies from the
    environment are honoured (httpx).

    Each file goes through httpx's blocking client in one worker-thread hop (open, read, send): httpx's
    per-request cost there is about half its async client's (measured on loopback, 100 PUTs of 64 KiB one
    after another: 0.22 s against 0.34-0.43 s), and a many-file upload is mostly that cost."""
    progress = _Progress(sum(t.size for t in targets), on_progress)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    verify = await _tls_verification([t.url for t in targets])
    client = await asyncio.to_thread(
        lambda: httpx.Client(http1=True, timeout=TRANSFER_TIMEOUT, limits=limits, verify=verify)
    )
    try:
        # Biggest first: a large file then streams while the small ones go by on the other connections.
        ordered = sorted(targets, key=lambda t: t.size, reverse=True)
        await _run_all([_bind_upload(client, t, progress, retries) for t in ordered], concurrency)
    finally:
        await asyncio.to_thread(client.close)


def _bind_upload(
    client: httpx.Client, target: UploadTarget, progress: _Progress, retries: int
) -> Callable[[], Awaitable[None]]:
    return lambda: _upload_one(client, target, progress, retries)


def safe_destination(base: Path, relative: str) -> Path:
    """``base / relative``, refusing paths that are absolute or would land outside ``base``."""
    normalized = relative.replace("\\", "/")
    pure = PurePosixPath(normalized)
    drive_like = len(normalized) > 1 and normalized[1] == ":"
    if not normalized or pure.is_absolute() or drive_like or ".." in pure.parts:
        raise TransferError(f"refusing to write {relative!r}: it would land outside {base}")
    target = base.joinpath(*pure.parts)
    resolved_base = base.resolve()
    if not target.resolve().is_relative_to(resolved_base) or target.resolve() == resolved_base:
        raise TransferError(f"refusing to write {relative!r}: it would land outside {base}")
    return target


def _unzip_checked(archive: Path, folder: Path) -> list[Path]:
    with zipfile.ZipFile(archive) as bundle:
        members = [m for m in bundle.infolist() if not m.is_dir()]
        targets = [safe_destination(folder, m.filename) for m in members]
        for directory in (m for m in bundle.infolist() if m.is_dir()):
            safe_destination(folder, directory.filename.rstrip("/"))
        bundle.extractall(folder)
    return targets


def _write_chunk(stream: BinaryIO, digest: hashlib._Hash, chunk: bytes) -> None:
    stream.write(chunk)
    digest.update(chunk)


async def _fetch_to(
    client: httpx.AsyncClient, file: jobs_pb2.StorageFile, temp: Path, what: str, progress: _Progress
) -> None:
    received = 0
    digest = hashlib.sha256()
    stream: BinaryIO = await asyncio.to_thread(temp.open, "wb")
    try:
        async with client.stream("GET", file.url) as response:
            _check_status(response.status_code, str(response.url), what)
            async for chunk in response.aiter_bytes(CHUNK_SIZE):
                await asyncio.to_thread(_write_chunk, stream, digest, chunk)
                received += len(chunk)
                progress.add(len(chunk))
    except BaseException:
        progress.add(-received)
        raise
    finally:
        await asyncio.to_thread(stream.close)
    if file.file.sha256 and digest.hexdigest() != file.file.sha256:
        progress.add(-received)
        raise _RetryableError("the downloaded content does not match its sha256")


async def _fetch_loopback(
    client: httpx.AsyncClient, file: jobs_pb2.StorageFile, temp: Path, what: str, progress: _Progress
) -> None:
    """``_fetch_to`` for a big file from this machine: a socket of its own read on a worker thread."""
    loop = asyncio.get_running_loop()
    received = [0]

    def count(size: int) -> None:
        received[0] += size
        progress.add(size)

    def report(size: int) -> None:
        loop.call_soon_threadsafe(count, size)

    stop = threading.Event()
    try:
        digest = await asyncio.to_thread(_get_file, file.url, temp, what, report, stop)
        await asyncio.sleep(0)  # let the last progress reports of the thread run first
    except _NoLength:
        await _fetch_to(client, file, temp, what, progress)
        return
    except BaseException:
        stop.set()
        progress.add(-received[0])
        raise
    if file.file.sha256 and digest != file.file.sha256:
        progress.add(-received[0])
        raise _RetryableError("the downloaded content does not match its sha256")


def _get_file(
    url: str, temp: Path, what: str, on_received: Callable[[int], None], stop: threading.Event
) -> str:
    """GET ``url`` into ``temp`` over a connection of its own (blocking); the sha256 of the body. The body
    is received as the local store receives an upload (``receive_file``: spliced into the file, hashed from
    its pages on a second thread); ``on_received`` hears of the bytes as they land."""
    from dsjobs_lsp.backends.local.direct_receive import receive_file

    parts = urlsplit(url)
    assert parts.hostname is not None
    http = h11.Connection(h11.CLIENT)
    request = h11.Request(
        method="GET",
        target=f"{parts.path}?{parts.query}" if parts.query else parts.path,
        headers=[("Host", parts.netloc), ("Connection", "close")],
    )
    address = (parts.hostname, parts.port or 80)
    reported = 0

    def written(offset: int) -> None:
        nonlocal reported
        on_received(offset - reported)
        reported = offset
        if stop.is_set():
            raise _Stopped

    with (
        socket.create_connection(address, timeout=TRANSFER_TIMEOUT.connect) as sock,
        open(temp, "w+b", buffering=0) as out,
    ):
        sock.settimeout(TRANSFER_TIMEOUT.read)
        sock.sendall(http.send(request) or b"")
        response = _response_head(http, sock)
        _check_status(response.status_code, url, what)
        length = dict(response.headers).get(b"content-length")
        if length is None:
            raise _NoLength
        first, _ = http.trailing_data  # body bytes that came with the head
        return receive_file(sock, out.fileno(), first, int(length), written)


def _response_head(http: h11.Connection, sock: socket.socket) -> h11.Response:
    """The head of the HTTP response on ``sock`` (its body is left to the caller)."""
    try:
        while (event := http.next_event()) is h11.NEED_DATA or isinstance(event, h11.InformationalResponse):
            if event is h11.NEED_DATA:
                http.receive_data(sock.recv(READ_SIZE))
    except h11.RemoteProtocolError as error:
        raise ConnectionError(f"no HTTP response: {error}") from None
    if not isinstance(event, h11.Response):
        raise ConnectionError(f"no HTTP response: got {type(event).__name__}")
    return event


async def _download_one(
    client: httpx.AsyncClient, file: jobs_pb2.StorageFile, dest_dir: Path, progress: _Progress, retries: int
) -> list[Path]:
    desc_path = file.file.desc.path
    target = safe_destination(dest_dir, desc_path)
    what = f"download of {desc_path}"
    await asyncio.to_thread(target.parent.mkdir, parents=True, exist_ok=True)
    # a temp file of its own: two jobs' outputs may be downloaded to one path at once (a sweep's forks)
    temp = target.with_name(f"{target.name}.{uuid.uuid4().hex[:12]}.download")
    fetch = _fetch_to
    if file.file.size_bytes > SMALL_FILE_SIZE and is_loopback_url(file.url):
        fetch = _fetch_loopback
    try:
        await _retrying(lambda: fetch(client, file, temp, what, progress), what=what, retries=retries)
        if file.file.compression_type == jobs_pb2.FileCompressionType.ZIP:
            return await asyncio.to_thread(_unzip_checked, temp, target.parent)
        await asyncio.to_thread(os.replace, temp, target)
        return [target]
    finally:
        await asyncio.to_thread(temp.unlink, missing_ok=True)


def within_download_limit(
    files: list[jobs_pb2.StorageFile], max_total: int, on_skipped: SkippedCallback | None
) -> list[jobs_pb2.StorageFile]:
    """The smallest files that fit in ``max_total`` bytes (as the reference CLI picks them)."""
    kept, total = [], 0
    for file in sorted(files, key=lambda f: f.file.size_bytes):
        total += file.file.size_bytes
        if total > max_total:
            logger.info(
                "%s (%s) is not downloaded: over the %s download limit",
                file.file.desc.path,
                humanize_bytes_size(file.file.size_bytes),
                humanize_bytes_size(max_total),
            )
            if on_skipped is not None:
                on_skipped(file.file.desc.path, file.file.size_bytes)
        else:
            kept.append(file)
    return kept


async def download_files(
    files: list[jobs_pb2.StorageFile],
    *,
    dest_dir: Path,
    on_progress: ProgressCallback | None = None,
    max_total: int = DOWNLOAD_FILES_MAX_TOTAL_SIZE_BYTES,
    on_skipped: SkippedCallback | None = None,
    concurrency: int = 4,
    retries: int = 3,
) -> list[Path]:
    """Download job files into ``dest_dir/<desc.path>`` (via ``.download`` temp files), unpacking ZIP
    outputs into their folder; returns the paths written. Paths escaping ``dest_dir`` raise ``TransferError``
    before anything is written."""
    for file in files:
        safe_destination(dest_dir, file.file.desc.path)
    chosen = within_download_limit(files, max_total, on_skipped)
    progress = _Progress(sum(f.file.size_bytes for f in chosen), on_progress)
    async with _client() as client:
        jobs = [_bind_download(client, f, dest_dir, progress, retries) for f in chosen]
        written = await _run_all(jobs, concurrency)
    return [path for paths in written for path in paths]


def _bind_download(
    client: httpx.AsyncClient, file: jobs_pb2.StorageFile, dest_dir: Path, progress: _Progress, retries: int
) -> Callable[[], Awaitable[list[Path]]]:
    return lambda: _download_one(client, file, dest_dir, progress, retries)
