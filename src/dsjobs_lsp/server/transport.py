"""The language server's stdio transport: LSP base-protocol framing that survives any client.

pygls's own reader goes deaf after a malformed `Content-Length` (it never finds the next header), dies with
MemoryError on a huge one, and answers nothing when a request's `params` cannot be read. Here:
- a `Content-Length` that is not a number or over `MAX_MESSAGE_BYTES` is answered with a JSON-RPC error
  (id null), and reading resumes at the next `Content-Length` header;
- a body that is not JSON is a parse error (id null), a request whose `params` do not fit its method gets an
  invalidParams error with its id, a notification's is logged;
- memory stays bounded: header lines are read at most `LINE_LIMIT` bytes at a time, bodies up to the limit;
- stdin is read on one daemon thread of its own, so neither long `@server.thread()` handlers delay reading
  nor a client that keeps stdin open keeps the process alive after `exit`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import queue
import re
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, BinaryIO

from pygls.lsp.server import LanguageServer

log = logging.getLogger("dsjobs_lsp.server.transport")

MAX_MESSAGE_BYTES = 128 * 1024 * 1024
LINE_LIMIT = 64 * 1024
PARSE_ERROR = -32700
INVALID_REQUEST = -32600
INVALID_PARAMS = -32602
_CONTENT_LENGTH = re.compile(rb"content-length:[ \t]*([^\r\n]*)\r?\n\Z", re.IGNORECASE)
_CONTENT_TYPE = "application/vscode-jsonrpc; charset=utf-8"
_CARRY = 64  # bytes of a cut-off line kept, so a header split across two reads is still found


class HeaderError(ValueError):
    """A header block the server cannot frame a message from (the message says why; `code` is the
    JSON-RPC error code of the answer)."""

    def __init__(self, message: str, code: int = PARSE_ERROR) -> None:
        super().__init__(message)
        self.code = code


class BlockingReader:
    """Blocking reads of one stream, done on a daemon thread of their own and awaited on the loop."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self._calls: queue.SimpleQueue[tuple[Callable[[], bytes], Future[bytes]]] = queue.SimpleQueue()
        threading.Thread(target=self._work, name="dsjobs-stdin", daemon=True).start()

    def _work(self) -> None:
        while True:
            call, future = self._calls.get()
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(call())
            except BaseException as error:  # handed to the awaiting coroutine
                future.set_exception(error)

    async def _call(self, call: Callable[[], bytes]) -> bytes:
        future: Future[bytes] = Future()
        self._calls.put((call, future))
        return await asyncio.wrap_future(future)

    async def readline(self) -> bytes:
        """One line, or its first `LINE_LIMIT` bytes; b"" at the end of the stream."""
        return await self._call(lambda: self._stream.readline(LINE_LIMIT))

    async def read(self, size: int) -> bytes:
        """Exactly `size` bytes, fewer only at the end of the stream."""
        return await self._call(lambda: self._stream.read(size))


class MessageReader:
    """Frames messages: header blocks, then bodies of `Content-Length` bytes."""

    def __init__(self, reader: BlockingReader) -> None:
        self._reader = reader
        self._carry = b""

    async def next_body(self) -> bytes | None:
        """The next message body; None at the end of the stream. Raises `HeaderError` for a bad header
        block (the next call resumes at the next `Content-Length` header)."""
        length: bytes | None = None
        while True:
            line = await self._reader.readline()
            if not line:
                return None
            if not line.endswith(b"\n"):  # a cut-off line: garbage, unless a header starts in its tail
                self._carry = (self._carry + line)[-_CARRY:]
                continue
            line, self._carry = self._carry + line, b""
            if line.strip() == b"":
                if length is not None:
                    break
                continue
            found = _CONTENT_LENGTH.search(line)
            if found is not None:
                length = found.group(1).strip()
        size = _content_length(length)
        body = await self._reader.read(size)
        return body if len(body) == size else None


def _content_length(value: bytes) -> int:
    text = value.decode("ascii", errors="replace")
    if not text.isdigit():
        raise HeaderError(f"invalid Content-Length header {text!r}: expected a number of bytes")
    size = int(text)
    if size > MAX_MESSAGE_BYTES:
        raise HeaderError(
            f"message of {size} bytes is over the limit of {MAX_MESSAGE_BYTES} bytes", INVALID_REQUEST
        )
    return size


def send_error(server: LanguageServer, msg_id: Any, code: int, message: str) -> None:
    """Write a JSON-RPC error response (framed as pygls frames its own)."""
    body = json.dumps({"jsonrpc": "2.0", "id": msg_id, "error": {"code": code, "message": message}})
    header = f"Content-Length: {len(body.encode())}\r\nContent-Type: {_CONTENT_TYPE}\r\n\r\n"
    writer = server.protocol.writer
    if writer is not None:
        writer.write((header + body).encode())


def handle_body(server: LanguageServer, body: bytes) -> None:
    """Parse one message and hand it to pygls; answer what pygls would leave unanswered."""
    protocol = server.protocol
    try:
        message = json.loads(body, object_hook=protocol.structure_message)
    except json.JSONDecodeError as error:
        send_error(server, None, PARSE_ERROR, f"the message is not JSON: {error}")
        return
    except Exception as error:  # pygls could not structure it: say so to a request
        _reject(server, body, error)
        return
    if not hasattr(message, "jsonrpc"):
        send_error(server, None, INVALID_REQUEST, "the message is not a JSON-RPC 2.0 object")
        return
    try:
        protocol.handle_message(message)
    except Exception:
        log.exception("cannot handle a message")


def _reject(server: LanguageServer, body: bytes, error: Exception) -> None:
    data = json.loads(body)
    if not isinstance(data, dict) or "method" not in data:
        log.warning("unreadable message ignored: %s", error)
        return
    method = str(data["method"])
    params = data.get("params")
    reason = "`params` must be an object"
    if isinstance(params, dict):
        reason = f"`params` do not fit the method ({error})"
    if "id" not in data:
        log.warning("notification %s ignored: %s", method, reason)
        return
    send_error(server, data["id"], INVALID_PARAMS, f"{method}: {reason}")


async def serve(server: LanguageServer, stdin: BinaryIO, stop: threading.Event) -> None:
    """Read and dispatch messages until the stream ends or `stop` is set."""
    messages = MessageReader(BlockingReader(stdin))
    while not stop.is_set():
        try:
            body = await messages.next_body()
        except HeaderError as error:
            log.warning("bad message header: %s", error)
            send_error(server, None, error.code, str(error))
            continue
        if body is None:
            return
        handle_body(server, body)
