"""Uploads to a file store on this machine: small files over the standard library's HTTP client.

A job's start on the local backend PUTs every input to its store on 127.0.0.1, most of them small. Over
loopback a request costs what client and server spend on it in Python, and httpx spends about 1 ms a
request where ``http.client`` on a kept-alive connection spends a tenth of that. So a file of up to
``LOOPBACK_UPLOAD_MAX_SIZE`` bytes bound for a loopback address is read whole and sent as one body by
``http.client``, over ``CONNECTIONS`` keep-alive connections (a worker thread each). Everything else — a
bigger file, another host, or a small file whose upload failed here for any reason — goes the general way
(``transfer.upload_files``: streaming, proxies, retries with backoff, the error messages), which is only
imported when something takes it.
"""

from __future__ import annotations

import asyncio
import http.client
import ipaddress
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

from dsjobs_lsp.core.client.targets import UploadTarget

LOOPBACK_UPLOAD_MAX_SIZE = 4 << 20
CONNECTIONS = 4
TIMEOUT_SECONDS = 60.0


ProgressCallback = Callable[[int, int], None]
"""Called with (bytes done, bytes in all)."""


class _Refused(Exception):
    """The store answered with a status other than 2xx."""


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


async def upload_files(
    targets: Sequence[UploadTarget], *, on_progress: ProgressCallback | None = None
) -> None:
    """PUT every target's file to its presigned URL: small files to this machine over ``http.client``, the
    rest (and any that failed that way) through ``transfer.upload_files``; raises ``TransferError`` naming a
    file that could not be uploaded. ``on_progress`` hears (bytes done, bytes in all)."""
    total = sum(target.size for target in targets)
    done = 0

    def add(count: int) -> None:
        nonlocal done
        done += count
        if on_progress is not None:
            on_progress(done, total)

    small = [t for t in targets if t.size <= LOOPBACK_UPLOAD_MAX_SIZE and is_loopback_url(t.url)]
    chosen = {id(target) for target in small}
    rest = [target for target in targets if id(target) not in chosen]
    loop = asyncio.get_running_loop()
    failed, _ = await asyncio.gather(
        asyncio.to_thread(_put_all, small, lambda count: loop.call_soon_threadsafe(add, count)),
        _upload_generally(rest, add),
    )
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


def _put_all(targets: list[UploadTarget], report: Callable[[int], object]) -> list[UploadTarget]:
    """Upload ``targets`` over a few connections (blocking); the ones that did not go through."""
    if not targets:
        return []
    pending = deque(targets)
    workers = min(CONNECTIONS, len(targets))
    with ThreadPoolExecutor(workers, thread_name_prefix="dsjobs-upload") as pool:
        shares = list(pool.map(lambda _: _put_pending(pending, report), range(workers)))
    return [target for share in shares for target in share]


def _put_pending(pending: deque[UploadTarget], report: Callable[[int], object]) -> list[UploadTarget]:
    """Take targets from ``pending`` until it is empty, each PUT on this thread's connection to its host."""
    failed: list[UploadTarget] = []
    connections: dict[tuple[str, int], http.client.HTTPConnection] = {}
    try:
        while True:
            try:
                target = pending.popleft()
            except IndexError:
                return failed
            parts = urlsplit(target.url)
            address = (parts.hostname or "", parts.port or 80)
            connection = connections.get(address)
            if connection is None:
                connection = http.client.HTTPConnection(*address, timeout=TIMEOUT_SECONDS)
                connections[address] = connection
            try:
                _put(connection, f"{parts.path}?{parts.query}", target)
            except (OSError, http.client.HTTPException, _Refused):
                connection.close()
                failed.append(target)
            else:
                report(target.size)
    finally:
        for connection in connections.values():
            connection.close()


def _put(connection: http.client.HTTPConnection, path: str, target: UploadTarget) -> None:
    """One PUT of a whole small file; raises ``_Refused`` for a non-2xx answer (or a file whose size
    changed since it was hashed: the general way then reports that)."""
    with open(target.local_path, "rb") as stream:
        data = stream.read(target.size + 1)
    if len(data) != target.size:
        raise _Refused
    connection.request("PUT", path, body=data, headers={"Content-Length": str(target.size)})
    response = connection.getresponse()
    response.read()
    if not 200 <= response.status < 300:
        raise _Refused
