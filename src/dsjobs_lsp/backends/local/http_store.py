"""The HTTP side of the local backend: presigned PUT/GET of stored files and the read-only job page.

Built on h11 over asyncio streams. Bodies are streamed in both directions (never a whole file in memory);
uploads are hashed while they arrive and refused unless the bytes match the sha256 in the URL.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import h11

from .blobs import SHA256_PATTERN, BlobStore, SignatureError, UrlSigner

logger = logging.getLogger(__name__)

READ_SIZE = 1 << 20
FLUSH_SIZE = 4 << 20
JOB_PAGE = re.compile(r"^/communities/[^/]+/projects/[^/]+/job/([^/]+)$")


class _HttpError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class _Sink:
    """Hashes and writes an upload in large batches on a worker thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.digest = hashlib.sha256()
        self.size = 0
        self._file: BinaryIO | None = None
        self._pending: list[bytes] = []
        self._pending_size = 0

    async def feed(self, data: bytes) -> None:
        self._pending.append(data)
        self._pending_size += len(data)
        if self._pending_size >= FLUSH_SIZE:
            await self.flush()

    async def flush(self, *, final: bool = False) -> None:
        if not self._pending and not final:
            return
        batch = b"".join(self._pending)
        self._pending.clear()
        self._pending_size = 0
        self.size += len(batch)
        await asyncio.to_thread(self._write, batch)

    def _write(self, batch: bytes) -> None:
        if self._file is None:
            self._file = open(self.path, "wb")  # noqa: SIM115 - closed in close()
        self.digest.update(batch)
        self._file.write(batch)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


class HttpStore:
    """Serves presigned URLs of a ``BlobStore`` and job pages on 127.0.0.1."""

    def __init__(
        self,
        store: BlobStore,
        signer_key: bytes,
        *,
        host: str = "127.0.0.1",
        on_stored: Callable[[str, int], object] | None = None,
    ) -> None:
        self._store = store
        self._key = signer_key
        self._host = host
        self._on_stored = on_stored
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()
        self.page_renderer: Callable[[str], object] | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://{self._host}:{self.port}"

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
                await self._serve_blob(conn, reader, writer, method, path, query)
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
        method: str,
        path: str,
        query: str,
    ) -> None:
        sha256 = path.removeprefix("/blobs/")
        if not SHA256_PATTERN.match(sha256):
            raise _HttpError(404, "no such file")
        try:
            UrlSigner(self._key, self.base_url).verify(method, path, query)
        except SignatureError as error:
            raise _HttpError(403, str(error)) from None
        if method == "PUT":
            await self._receive_upload(conn, reader, sha256)
            await self._send_simple(conn, writer, 200, "stored\n")
        elif method == "GET":
            await self._drain_body(conn, reader)
            await self._send_file(conn, writer, sha256)
        else:
            raise _HttpError(405, f"method {method} not allowed")

    async def _receive_upload(self, conn: h11.Connection, reader: asyncio.StreamReader, sha256: str) -> None:
        scratch = self._store.incoming_path()
        sink = _Sink(scratch)
        try:
            while True:
                event = await self._next_event(conn, reader)
                if isinstance(event, h11.Data):
                    await sink.feed(bytes(event.data))
                elif isinstance(event, h11.EndOfMessage):
                    break
                else:
                    raise _HttpError(400, "incomplete upload")
            await sink.flush(final=True)
            sink.close()
            if sink.digest.hexdigest() != sha256:
                raise _HttpError(400, f"uploaded bytes do not match sha256 {sha256}")
            await asyncio.to_thread(self._store.commit, scratch, sha256)
            if self._on_stored is not None:
                result = self._on_stored(sha256, sink.size)
                if asyncio.iscoroutine(result):
                    await result
        finally:
            sink.close()
            scratch.unlink(missing_ok=True)

    async def _send_file(self, conn: h11.Connection, writer: asyncio.StreamWriter, sha256: str) -> None:
        path = self._store.path(sha256)
        try:
            file = await asyncio.to_thread(open, path, "rb")
        except FileNotFoundError:
            raise _HttpError(404, "file is no longer stored") from None
        try:
            size = (await asyncio.to_thread(path.stat)).st_size
            headers = [("Content-Type", "application/octet-stream"), ("Content-Length", str(size))]
            writer.write(conn.send(h11.Response(status_code=200, headers=headers)) or b"")
            while chunk := await asyncio.to_thread(file.read, READ_SIZE):
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
        writer.write(conn.send(h11.Response(status_code=status, headers=headers)) or b"")
        writer.write(conn.send(h11.Data(data=body)) or b"")
        writer.write(conn.send(h11.EndOfMessage()) or b"")
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
