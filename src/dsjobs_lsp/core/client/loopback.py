"""Uploads to a file store on this machine, over the standard library's HTTP client.

A job's start on the local backend PUTs its inputs to the store on 127.0.0.1: often many small files, or one
archive of many. Over loopback a request costs what client and server spend on it in Python: httpx spends
about 1 ms a request where ``http.client`` on a kept-alive connection spends a tenth of that, and loading
httpx alone costs a start about 30 ms. So every file bound for a loopback address goes over ``http.client``,
``CONNECTIONS`` keep-alive connections (a worker thread each, the biggest files first): a file of up to
``WHOLE_BODY_MAX_SIZE`` bytes is read whole and sent as one body; a bigger one the store is asked to copy from
its path itself (``backends.local.local_copy``: one copy in the kernel, as ``cp`` makes; its answer tells the
progress), and where it cannot (another machine behind the address, an older store) it is sent by ``sendfile``
(the kernel moves its pages, the bytes never pass through Python). Everything else — another host, or a file
whose upload failed here for any reason — goes the general way (``transfer.upload_files``: proxies, TLS,
retries with backoff, the error messages), which is only imported when something takes it. A store whose
disk is full (HTTP 507) is reported at once.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import os
import threading
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from http.client import HTTPConnection, HTTPException
from typing import BinaryIO
from urllib.parse import urlsplit

from dsjobs_lsp.backends.endpoints import Endpoints
from dsjobs_lsp.backends.local.copy_request import COPY_FROM_HEADER, COPY_SIZE_HEADER, encode_source
from dsjobs_lsp.core.client.errors import TransferError
from dsjobs_lsp.core.client.targets import UploadTarget

logger = logging.getLogger(__name__)

WHOLE_BODY_MAX_SIZE = 1 << 20
SENDFILE_SLICE = 8 << 20
"""Bytes per ``sendfile`` call (progress is told and a cancel seen between slices)."""
CONNECTIONS = 4
INSUFFICIENT_STORAGE = 507
"""The store's answer when its disk is full: reported at once, never tried again another way."""
TIMEOUT_SECONDS = 60.0

ProgressCallback = Callable[[int, int], None]
"""Called with (bytes done, bytes in all)."""
Report = Callable[[int], object]
"""Told of bytes sent (negative: given back by a failed upload)."""


class _Refused(Exception):
    """The store answered with a status other than 2xx, or the file is not as it was hashed."""


class _Stopped(Exception):
    """The upload was cancelled."""


def is_loopback_url(url: str) -> bool:
    """Whether ``url`` is plain http to this machine (``localhost``, 127.0.0.0/8, ``::1``)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme != "http":
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_local_store(endpoints: Endpoints) -> bool:
    """Whether a backend's file store is on this machine: a local backend whose store has a loopback
    address (its uploads then go this module's way and never load httpx)."""
    return endpoints.kind == "local" and is_loopback_url(endpoints.ui_base_url)


async def upload_files(
    targets: Sequence[UploadTarget], *, on_progress: ProgressCallback | None = None
) -> None:
    """PUT every target's file to its presigned URL: to this machine over ``http.client``, elsewhere (and
    any that failed that way) through ``transfer.upload_files``; raises ``TransferError`` naming a file that
    could not be uploaded. ``on_progress`` hears (bytes done, bytes in all). Cancelling stops the uploads
    between files (and slices of a big one)."""
    total = sum(target.size for target in targets)
    done = 0

    def add(count: int) -> None:
        nonlocal done
        done += count
        if on_progress is not None:
            on_progress(done, total)

    local: list[UploadTarget] = []
    rest: list[UploadTarget] = []
    for target in targets:
        (local if is_loopback_url(target.url) else rest).append(target)
    loop = asyncio.get_running_loop()
    stop = threading.Event()
    try:
        failed, _ = await asyncio.gather(
            asyncio.to_thread(_put_all, local, lambda count: loop.call_soon_threadsafe(add, count), stop),
            _upload_generally(rest, add),
        )
    finally:
        stop.set()
    await _upload_generally(failed, add)


async def _upload_generally(targets: list[UploadTarget], add: Callable[[int], None]) -> None:
    if not targets:
        return
    from dsjobs_lsp.core.client import transfer

    reported = 0

    def progress(done: int, _total: int) -> None:
        nonlocal reported
        add(done - reported)
        reported = done

    await transfer.upload_files(targets, on_progress=progress)


def _put_all(targets: list[UploadTarget], report: Report, stop: threading.Event) -> list[UploadTarget]:
    """Upload ``targets`` over a few connections, the biggest first (blocking); the ones that did not go
    through."""
    if not targets:
        return []
    pending = deque(sorted(targets, key=lambda target: target.size, reverse=True))
    workers = min(CONNECTIONS, len(targets))
    with ThreadPoolExecutor(workers, thread_name_prefix="dsjobs-upload") as pool:
        shares = list(pool.map(lambda _: _put_pending(pending, report, stop), range(workers)))
    return [target for share in shares for target in share]


def _put_pending(pending: deque[UploadTarget], report: Report, stop: threading.Event) -> list[UploadTarget]:
    """Take targets from ``pending`` until it is empty, each PUT on this thread's connection to its host."""
    failed: list[UploadTarget] = []
    connections: dict[tuple[str, int], HTTPConnection] = {}
    try:
        while not stop.is_set():
            try:
                target = pending.popleft()
            except IndexError:
                break
            parts = urlsplit(target.url)
            address = (parts.hostname or "", parts.port or 80)
            if address not in connections:
                connections[address] = HTTPConnection(*address, timeout=TIMEOUT_SECONDS)
            if not _put(connections[address], f"{parts.path}?{parts.query}", target, report, stop):
                failed.append(target)
        return failed
    finally:
        for connection in connections.values():
            connection.close()


def _put(
    connection: HTTPConnection, path: str, target: UploadTarget, report: Report, stop: threading.Event
) -> bool:
    """One PUT; False (the bytes told of given back, the connection closed) when it did not go through."""
    sent = 0

    def count(size: int) -> None:
        nonlocal sent
        sent += size
        report(size)

    shown = f"http://{connection.host}:{connection.port}{path.partition('?')[0]}"  # no signature in logs
    try:
        copied = target.size > WHOLE_BODY_MAX_SIZE and _copied_by_store(
            connection, path, target, shown, count
        )
        if not copied:
            _send(connection, path, target, count, stop)
            if not 200 <= _answer(connection, shown, target) < 300:
                raise _Refused
    except (OSError, HTTPException, _Refused, _Stopped) as error:
        logger.debug("PUT %s did not go through here (%s)", shown, type(error).__name__)
        connection.close()
        report(-sent)
        return False
    if target.size <= WHOLE_BODY_MAX_SIZE:
        report(target.size)
    return True


def _copied_by_store(
    connection: HTTPConnection, path: str, target: UploadTarget, shown: str, count: Report
) -> bool:
    """Ask the store to copy the file from its path, ``count`` hearing the bytes copied as it goes; False
    (the count given back) when it did not: it cannot read the path, or does not know the request, and the
    bytes must be sent. ``_Refused`` for a file whose size changed; ``TransferError`` when the store's disk is
    full."""
    if os.stat(target.local_path).st_size != target.size:
        raise _Refused
    headers = {
        COPY_FROM_HEADER: encode_source(target.local_path),
        COPY_SIZE_HEADER: str(target.size),
        "Content-Length": "0",
    }
    connection.request("PUT", path, body=b"", headers=headers)
    response = connection.getresponse()
    if response.status != 200:
        _check_answer(response.status, response.read(), shown, target)
        return False
    told = 0
    while (line := response.readline().decode("utf-8", "replace").strip()).isdigit():
        count(int(line) - told)
        told = int(line)
    response.read()
    logger.debug("PUT %s (copy by the store): %s", shown, line or "no outcome")
    count((target.size if line == "copied" else 0) - told)
    if line.startswith(f"failed {INSUFFICIENT_STORAGE} "):
        raise _disk_full(target, line.split(" ", 2)[2])
    return line == "copied"


def _answer(connection: HTTPConnection, shown: str, target: UploadTarget) -> int:
    """The status of the store's answer to the request just sent (its body read)."""
    response = connection.getresponse()
    return _check_answer(response.status, response.read(), shown, target)


def _check_answer(status: int, text: bytes, shown: str, target: UploadTarget) -> int:
    """``status``, logged; ``TransferError`` with the store's reason when its disk is full."""
    logger.debug("PUT %s: HTTP %d", shown, status)
    if status == INSUFFICIENT_STORAGE:
        raise _disk_full(target, text.decode("utf-8", "replace").strip())
    return status


def _disk_full(target: UploadTarget, reason: str) -> TransferError:
    """The error of an upload the store refused for want of space (``reason``: its words)."""
    return TransferError(f"upload of {target.display_path} failed: HTTP {INSUFFICIENT_STORAGE}: {reason}")


def _send(
    connection: HTTPConnection, path: str, target: UploadTarget, count: Report, stop: threading.Event
) -> None:
    """Send the request: a small file read whole as one body, a bigger one by ``sendfile``; ``_Refused``
    for a file whose size changed since it was hashed (the general way then reports that)."""
    with open(target.local_path, "rb") as stream:
        if target.size <= WHOLE_BODY_MAX_SIZE:
            data = stream.read(target.size + 1)
            if len(data) != target.size:
                raise _Refused
            connection.request("PUT", path, body=data, headers={"Content-Length": str(target.size)})
            return
        if os.fstat(stream.fileno()).st_size != target.size:
            raise _Refused
        connection.putrequest("PUT", path, skip_accept_encoding=True)
        connection.putheader("Content-Length", str(target.size))
        connection.endheaders()
        _send_file(connection, stream, target.size, count, stop)


def _send_file(
    connection: HTTPConnection, stream: BinaryIO, size: int, count: Report, stop: threading.Event
) -> None:
    """Send ``size`` bytes of ``stream`` as the request body with ``sendfile``, a slice at a time."""
    assert connection.sock is not None
    offset = 0
    while offset < size:
        if stop.is_set():
            raise _Stopped
        sent = connection.sock.sendfile(stream, offset, min(SENDFILE_SLICE, size - offset))
        if sent == 0:  # the file got shorter
            raise _Refused
        offset += sent
        count(sent)
