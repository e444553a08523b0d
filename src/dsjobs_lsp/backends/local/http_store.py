"""The HTTP side of the local backend: presigned PUT/GET of stored files and the read-only job page.

Built on h11 over asyncio streams, with keep-alive. An upload of up to ``WHOLE_BODY_MAX_SIZE`` bytes is taken
whole and verified, written and committed in one thread hop (a many-file upload is mostly such requests);
a bigger or unsized one is streamed to a scratch file, hashed as it arrives, one batch written while the next
comes in. Either way nothing is stored unless the bytes match the sha256 in the URL. A client on this machine
may instead name a file for the store to copy itself (``local_copy``: the answer tells the copy's progress;
the file is stored once verified). Downloads are streamed; a big one is sent by ``sendfile`` (the connection
then closes after it).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import functools
import hashlib
import ipaddress
import logging
import re
import socket
from asyncio.trsock import TransportSocket
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import BinaryIO, NoReturn, TypeVar

import h11

from .blobs import SHA256_PATTERN, BlobStore, DigestMismatchError, SignatureError, UrlSigner
from .copy_request import COPY_FROM_HEADER, COPY_SIZE_HEADER, decode_source
from .direct_receive import receive_body
from .local_copy import FileCopy, UnreadableSourceError, open_copy
from .verifications import PendingVerifications

Buffer = bytes | bytearray | memoryview
_T = TypeVar("_T")

logger = logging.getLogger(__name__)

READ_SIZE = 1 << 20
FLUSH_SIZE = 4 << 20
WHOLE_BODY_MAX_SIZE = 4 << 20
COPY_PROGRESS_SECONDS = 0.2
"""How often the answer to a copy request tells how far the copy got."""
FILE_WORKERS = 4
"""Threads of the store's own executor. Not asyncio's default one: a client in the same process (tests,
benchmarks) may hold every default thread in a blocking PUT that waits for this very store."""
_DISK_FULL = {errno.ENOSPC, errno.EDQUOT}
JOB_PAGE = re.compile(r"^/communities/[^/]+/projects/[^/]+/job/([^/]+)$")


def _content_length(request: h11.Request) -> int | None:
    value = _header(request, "content-length")
    return None if value is None else int(value)


def _header(request: h11.Request, wanted: str) -> str | None:
    name = wanted.lower().encode()
    for key, value in request.headers:
        if key == name:
            return value.decode("latin-1")
    return None


def _disk_full(error: OSError, store: BlobStore) -> str:
    """What an upload refused for want of space says."""
    return f"the local backend's disk is full ({error.strerror}): free space on the disk of {store.root}"


def _copy_refusal(error: OSError, store: BlobStore) -> tuple[int, str]:
    """Why a file could not be copied: 507 when the store's disk is full, else 422 (the client then sends
    the bytes itself)."""
    if error.errno in _DISK_FULL:
        return 507, _disk_full(error, store)
    return 422, str(
        error.strerror if isinstance(error, UnreadableSourceError) else f"cannot copy it: {error}"
    )


def _from_this_machine(writer: asyncio.StreamWriter) -> bool:
    peer = writer.get_extra_info("peername")
    try:
        return isinstance(peer, tuple) and ipaddress.ip_address(peer[0]).is_loopback
    except ValueError:
        return False


def _open_for_reading(path: Path) -> BinaryIO:
    return open(path, "rb")


async def _take_socket(
    conn: h11.Connection, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> tuple[TransportSocket, bytes] | None:
    """Stop the event loop reading this connection and return its socket with the body bytes already read
    ahead (by h11 and by the stream); None when the stream does not allow it."""
    sock = writer.get_extra_info("socket")
    read_ahead = getattr(reader, "_buffer", None)  # no public API tells what the stream holds
    transport = writer.transport
    if sock is None or not isinstance(read_ahead, bytearray) or not hasattr(transport, "pause_reading"):
        return None
    transport.pause_reading()
    await asyncio.sleep(0)  # a read the loop had already picked up lands in the buffer first
    already = conn.trailing_data[0] + bytes(read_ahead)
    read_ahead.clear()
    return sock, already


class _HttpError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class _FileWorkers:
    """The store's own worker threads for blocking file work."""

    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=FILE_WORKERS, thread_name_prefix="dsjobs-http-store")

    async def run(self, func: Callable[..., _T], *args: object) -> _T:
        """``func(*args)`` on one of the store's threads."""
        call = functools.partial(func, *args)
        return await asyncio.get_running_loop().run_in_executor(self._executor, call)

    def shutdown(self) -> None:
        """Let the threads end once their work is done."""
        self._executor.shutdown(wait=False)


class _Sink:
    """Hashes and writes a large upload on a worker thread in batches of ``FLUSH_SIZE`` (one written while the
    next arrives), then verifies and commits it."""

    def __init__(self, store: BlobStore, sha256: str, workers: _FileWorkers) -> None:
        self._store = store
        self._workers = workers
        self._sha256 = sha256
        self._scratch = store.incoming_path()
        self._digest = hashlib.sha256()
        self._file: BinaryIO | None = None
        self._pending: list[Buffer] = []
        self._pending_size = 0
        self._writing: asyncio.Future[None] | None = None
        self.size = 0

    async def feed(self, data: Buffer) -> None:
        """Take the next piece of the body."""
        self._pending.append(data)
        self._pending_size += len(data)
        if self._pending_size >= FLUSH_SIZE:
            await self._written()
            self._writing = asyncio.ensure_future(self._workers.run(self._write, self._take()))

    async def finish(self) -> None:
        """Write the rest, verify and commit; ``DigestMismatchError`` on bad bytes."""
        await self._written()
        await self._workers.run(self._finish, self._take())

    async def discard(self) -> None:
        """Drop the scratch file of an upload that did not finish."""
        with contextlib.suppress(Exception):
            await self._written()
        await self._workers.run(self._discard)

    async def _written(self) -> None:
        if self._writing is not None:
            writing, self._writing = self._writing, None
            await writing

    def _take(self) -> list[Buffer]:
        batch, self._pending = self._pending, []
        self.size += self._pending_size
        self._pending_size = 0
        return batch

    def _write(self, batch: list[Buffer]) -> None:
        if self._file is None:
            self._file = open(self._scratch, "wb")  # noqa: SIM115 - closed in _finish / _discard
        for piece in batch:
            self._digest.update(piece)
            self._file.write(piece)

    def _finish(self, batch: list[Buffer]) -> None:
        self._write(batch)
        assert self._file is not None
        self._file.close()
        self._store.commit_verified(self._scratch, self._digest.hexdigest(), self._sha256)

    def _discard(self) -> None:
        if self._file is not None:
            self._file.close()
            self._scratch.unlink(missing_ok=True)


class HttpStore:
    """Serves presigned URLs of a ``BlobStore`` and job pages on 127.0.0.1."""

    def __init__(
        self,
        store: BlobStore,
        signer_key: bytes,
        *,
        host: str = "127.0.0.1",
        on_stored: Callable[[str, int], object] | None = None,
        public_base_url: str | None = None,
        verifications: PendingVerifications | None = None,
    ) -> None:
        self._store = store
        self.verifications = verifications or PendingVerifications()
        self._public_base_url = public_base_url.rstrip("/") if public_base_url else None
        self._key = signer_key
        self._host = host
        self._on_stored = on_stored
        self._server: asyncio.Server | None = None
        self._workers = _FileWorkers()
        self._connections: set[asyncio.Task[None]] = set()
        self.page_renderer: Callable[[str], object] | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        """Where clients reach this store: ``public_base_url`` if given (e.g. a proxy in front of it), else
        ``http://127.0.0.1:<port>``."""
        return self._public_base_url or f"http://{self._host}:{self.port}"

    @property
    def signer(self) -> UrlSigner:
        """Makes presigned URLs for this server."""
        return UrlSigner(self._key, self.base_url)

    async def start(self, port: int = 0) -> None:
        """Listen on ``host:port`` (0 picks a free port)."""
        self._server = await asyncio.start_server(self._serve_connection, self._host, port, limit=READ_SIZE)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Stop listening and drop open connections."""
        if self._server is not None:
            self._server.close()
            for task in list(self._connections):
                task.cancel()
            await asyncio.gather(*self._connections, return_exceptions=True)
            await self._server.wait_closed()
            self._server = None
        await self.verifications.close()
        self._workers.shutdown()

    async def _serve_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        conn = h11.Connection(h11.SERVER)
        try:
            while conn.our_state is not h11.MUST_CLOSE and not reader.at_eof():
                if not await self._serve_request(conn, reader, writer):
                    break
                if conn.our_state is h11.DONE and conn.their_state is h11.DONE:
                    conn.start_next_cycle()
                else:
                    break
        except (ConnectionError, h11.ProtocolError, asyncio.IncompleteReadError):
            pass
        finally:
            self._connections.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _serve_request(
        self, conn: h11.Connection, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        request = await self._next_event(conn, reader)
        if not isinstance(request, h11.Request):
            return False
        target = request.target.decode("ascii", "replace")
        path, _, query = target.partition("?")
        method = request.method.decode("ascii").upper()
        try:
            if path.startswith("/blobs/"):
                await self._serve_blob(conn, reader, writer, request, path, query)
            elif (match := JOB_PAGE.match(path)) and method == "GET":
                await self._drain_body(conn, reader)
                await self._serve_page(conn, writer, match.group(1))
            else:
                raise _HttpError(404, "not found")
        except _HttpError as error:
            if conn.our_state is not h11.SEND_RESPONSE:
                return False
            await self._send_simple(conn, writer, error.status, error.message + "\n", close=True)
            return False
        return True

    async def _serve_blob(
        self,
        conn: h11.Connection,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        request: h11.Request,
        path: str,
        query: str,
    ) -> None:
        method = request.method.decode("ascii").upper()
        sha256 = path.removeprefix("/blobs/")
        if not SHA256_PATTERN.match(sha256):
            raise _HttpError(404, "no such file")
        try:
            UrlSigner(self._key, self.base_url).verify(method, path, query)
        except SignatureError as error:
            raise _HttpError(403, str(error)) from None
        if method == "PUT" and (source := _header(request, COPY_FROM_HEADER)) is not None:
            await self._copy_local_file(conn, reader, writer, request, sha256, source)
        elif method == "PUT":
            taken_over, size = await self._receive_upload(conn, reader, writer, request, sha256)
            noting = self._note_stored(sha256, size)  # the answer goes out while the file is noted
            try:
                await self._send_simple(conn, writer, 200, "stored\n", close=taken_over)
            finally:
                if noting is not None:
                    await noting
        elif method == "GET":
            await self._drain_body(conn, reader)
            await self._send_file(conn, writer, sha256)
        else:
            raise _HttpError(405, f"method {method} not allowed")

    async def _receive_upload(
        self,
        conn: h11.Connection,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        request: h11.Request,
        sha256: str,
    ) -> tuple[bool, int]:
        """Take, verify and store an upload: a small body whole in memory and one thread hop, a big one with a
        length read straight from the socket by a worker thread, one without a length streamed through h11.
        Nothing is stored unless the bytes hash to ``sha256``. Returns whether the socket was taken over (the
        connection then closes after the response: h11 did not see the body) and the size stored."""
        length = _content_length(request)
        taken_over = False
        try:
            if length is not None and length <= WHOLE_BODY_MAX_SIZE:
                body = await self._read_body(conn, reader)
                await self._workers.run(self._store.put_bytes, body, sha256)
                size = len(body)
            elif length is not None and (socket_and_bytes := await _take_socket(conn, reader, writer)):
                taken_over = True
                sock, already = socket_and_bytes
                await self._receive_directly(sock, already, length, sha256)
                size = length
            else:
                size = await self._stream_upload(conn, reader, sha256)
        except DigestMismatchError as error:
            await self._refuse(conn, writer, 400, str(error), taken_over=taken_over)
        except OSError as error:
            if error.errno not in _DISK_FULL:
                raise
            await self._refuse(conn, writer, 507, _disk_full(error, self._store), taken_over=taken_over)
        return taken_over, size

    async def _refuse(
        self,
        conn: h11.Connection,
        writer: asyncio.StreamWriter,
        status: int,
        message: str,
        *,
        taken_over: bool,
    ) -> NoReturn:
        """Answer an upload the store did not take (on a taken-over socket at once, then close)."""
        if taken_over:
            await self._send_simple(conn, writer, status, message + "\n", close=True)
            raise ConnectionAbortedError("refused upload")
        raise _HttpError(status, message)

    async def _copy_local_file(
        self,
        conn: h11.Connection,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        request: h11.Request,
        sha256: str,
        source: str,
    ) -> None:
        """Copy the file a client on this machine names into the store. The answer's lines tell the bytes
        copied as the copy goes, then ``copied`` (the file is stored once verified) or ``failed <status>
        <reason>``; it is 422 at once when the file cannot be read here (the client then sends it)."""
        await self._drain_body(conn, reader)
        if not _from_this_machine(writer):
            raise _HttpError(403, "only a client on this machine may name a file to copy")
        try:
            size = int(_header(request, COPY_SIZE_HEADER) or "")
        except ValueError:
            raise _HttpError(400, f"{COPY_SIZE_HEADER} must be a number of bytes") from None
        try:
            copy = await self._workers.run(open_copy, decode_source(source), size, self._store)
        except OSError as error:
            raise _HttpError(*_copy_refusal(error, self._store)) from None
        ended: asyncio.Future[OSError | None] = asyncio.get_running_loop().create_future()
        self.verifications.start(sha256, self._copy_and_verify(copy, sha256, ended))
        head = h11.Response(status_code=200, headers=[("Content-Type", "text/plain; charset=utf-8")])
        writer.write(conn.send(head) or b"")
        told = 0
        while not ended.done():
            await asyncio.wait([ended], timeout=COPY_PROGRESS_SECONDS)
            if copy.copied != told and not ended.done():
                told = copy.copied
                writer.write(conn.send(h11.Data(data=b"%d\n" % told)) or b"")
                await writer.drain()
        failure = ended.result()
        outcome = "copied"
        if failure is not None:
            status, reason = _copy_refusal(failure, self._store)
            outcome = f"failed {status} {reason}"
        writer.write(
            (conn.send(h11.Data(data=f"{outcome}\n".encode())) or b"")
            + (conn.send(h11.EndOfMessage()) or b"")
        )
        await writer.drain()

    async def _copy_and_verify(
        self, copy: FileCopy, sha256: str, ended: asyncio.Future[OSError | None]
    ) -> None:
        """Run the copy (``ended`` hears how it went), then verify and store the file."""
        try:
            await self._workers.run(copy.run)
        except BaseException as error:
            if isinstance(error, asyncio.CancelledError):  # the store stops
                copy.drop()
            ended.set_result(error if isinstance(error, OSError) else OSError(f"the copy stopped: {error!r}"))
            raise
        ended.set_result(None)
        await self._workers.run(copy.verify_and_commit, self._store, sha256)
        noting = self._note_stored(sha256, copy.size)
        if noting is not None:
            await noting

    def _note_stored(self, sha256: str, size: int) -> asyncio.Future[object] | None:
        """Start the ``on_stored`` callback of a stored file; what to await for its end (None: nothing)."""
        if self._on_stored is None:
            return None
        result = self._on_stored(sha256, size)
        return asyncio.ensure_future(result) if asyncio.iscoroutine(result) else None

    async def _receive_directly(
        self, sock: TransportSocket, already: bytes, length: int, sha256: str
    ) -> None:
        try:
            await self._workers.run(receive_body, sock.fileno(), already, length, self._store, sha256)
        except asyncio.CancelledError:  # the store stops: end the worker thread's wait for more bytes
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            raise

    async def _read_body(self, conn: h11.Connection, reader: asyncio.StreamReader) -> bytes:
        parts = []
        while True:
            event = await self._next_event(conn, reader)
            if isinstance(event, h11.Data):
                parts.append(event.data)
            elif isinstance(event, h11.EndOfMessage):
                return b"".join(parts)
            else:
                raise _HttpError(400, "incomplete upload")

    async def _stream_upload(self, conn: h11.Connection, reader: asyncio.StreamReader, sha256: str) -> int:
        sink = _Sink(self._store, sha256, self._workers)
        try:
            while True:
                event = await self._next_event(conn, reader)
                if isinstance(event, h11.Data):
                    await sink.feed(event.data)
                elif isinstance(event, h11.EndOfMessage):
                    break
                else:
                    raise _HttpError(400, "incomplete upload")
            await sink.finish()
        except BaseException:
            await asyncio.shield(sink.discard())
            raise
        return sink.size

    async def _send_file(self, conn: h11.Connection, writer: asyncio.StreamWriter, sha256: str) -> None:
        path = self._store.path(sha256)
        try:
            file = await self._workers.run(_open_for_reading, path)
        except FileNotFoundError:
            raise _HttpError(404, "file is no longer stored") from None
        try:
            size = (await self._workers.run(path.stat)).st_size
            headers = [("Content-Type", "application/octet-stream"), ("Content-Length", str(size))]
            by_kernel = size > WHOLE_BODY_MAX_SIZE  # sendfile: h11 never sees the body, so close after it
            if by_kernel:
                headers.append(("Connection", "close"))
            writer.write(conn.send(h11.Response(status_code=200, headers=headers)) or b"")
            if by_kernel:
                await writer.drain()
                await asyncio.get_running_loop().sendfile(writer.transport, file, 0, size)
                return
            while chunk := await self._workers.run(file.read, READ_SIZE):
                writer.write(conn.send(h11.Data(data=chunk)) or b"")
                await writer.drain()
            writer.write(conn.send(h11.EndOfMessage()) or b"")
            await writer.drain()
        finally:
            file.close()

    async def _serve_page(self, conn: h11.Connection, writer: asyncio.StreamWriter, job_id: str) -> None:
        html: object = None
        if self.page_renderer is not None:
            html = self.page_renderer(job_id)
            if asyncio.iscoroutine(html):
                html = await html
        if not isinstance(html, str):
            raise _HttpError(404, f"no job {job_id}")
        await self._send_simple(conn, writer, 200, html, content_type="text/html; charset=utf-8")

    async def _send_simple(
        self,
        conn: h11.Connection,
        writer: asyncio.StreamWriter,
        status: int,
        text: str,
        *,
        content_type: str = "text/plain; charset=utf-8",
        close: bool = False,
    ) -> None:
        body = text.encode()
        headers = [("Content-Type", content_type), ("Content-Length", str(len(body)))]
        if close:
            headers.append(("Connection", "close"))
        head = conn.send(h11.Response(status_code=status, headers=headers)) or b""
        writer.write(head + (conn.send(h11.Data(data=body)) or b"") + (conn.send(h11.EndOfMessage()) or b""))
        await writer.drain()

    async def _drain_body(self, conn: h11.Connection, reader: asyncio.StreamReader) -> None:
        while not isinstance(await self._next_event(conn, reader), h11.EndOfMessage | h11.ConnectionClosed):
            pass

    @staticmethod
    async def _next_event(conn: h11.Connection, reader: asyncio.StreamReader) -> object:
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                conn.receive_data(await reader.read(READ_SIZE))
                continue
            return event
