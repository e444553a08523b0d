"""Receiving a large HTTP body straight from the socket into a file, off the event loop.

The HTTP store hands over the connection's socket once a request head with a known ``Content-Length`` has
been read. A worker thread moves the body into a scratch file: on Linux with ``splice`` (socket -> pipe ->
file: the kernel copies each byte once, from the socket's pages into the file's page cache), elsewhere with
``recv_into`` a reused buffer and ``write``. A second thread hashes the file as it grows, reading its pages
in place (``mmap``: no copy), so the digest is of the bytes as stored. Then the blob is verified and
committed: nothing is stored unless the bytes hash to the expected sha256. Our client receives a big download
from the local store the same way (``receive_file``).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import mmap
import os
import select
import socket
import threading
from collections.abc import Callable

from .blobs import BlobStore

BUFFER_SIZE = 4 << 20
"""Bytes per ``recv_into`` (where there is no ``splice``)."""
PIPE_SIZE = 1 << 20
"""Bytes per ``splice`` through the pipe (the default largest pipe an unprivileged process may ask for)."""
HASH_CHUNK = 4 << 20
"""The hashing thread waits for this many new bytes (or the end) before it reads more."""
HASH_WINDOW = 64 << 20
"""Largest part of the file mapped at once for hashing (a multiple of the page size)."""
RECEIVE_TIMEOUT_SECONDS = 60.0
_F_SETPIPE_SZ = 1031  # fcntl: resize a pipe (Linux)

Written = Callable[[int], None]
"""Told how many bytes of the body are in the file so far."""


class IncompleteBodyError(ConnectionError):
    """The peer stopped before sending ``Content-Length`` bytes."""


class GrowingFileHasher:
    """Hashes a file on a thread of its own while another thread appends to it (told through ``advance``)."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._digest = hashlib.sha256()
        self._written = 0
        self._ended = False
        self._abandoned = False
        self._error: BaseException | None = None
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="dsjobs-upload-hash", daemon=True)
        self._thread.start()

    def advance(self, written: int) -> None:
        """The first ``written`` bytes of the file are final."""
        with self._changed:
            self._written = written
            self._changed.notify()

    def hexdigest(self) -> str:
        """Hash the rest of what was written, stop the thread, return the digest."""
        self.close()
        if self._error is not None:
            raise self._error
        return self._digest.hexdigest()

    def close(self, *, abandon: bool = False) -> None:
        """Stop the thread once it has hashed what was written (``abandon``: at once, the digest unused)."""
        with self._changed:
            self._ended = True
            self._abandoned = self._abandoned or abandon
            self._changed.notify()
        self._thread.join()

    def _next_end(self, hashed: int) -> int | None:
        """Up to where the next pass hashes (None: nothing more will come)."""
        with self._changed:
            while not self._ended and self._written - hashed < HASH_CHUNK:
                self._changed.wait()
            if self._abandoned:
                return None
            if self._ended:
                return self._written if self._written > hashed else None
            return hashed + (self._written - hashed) // HASH_CHUNK * HASH_CHUNK

    def _run(self) -> None:
        hashed = 0
        try:
            while (end := self._next_end(hashed)) is not None:
                while hashed < end:
                    size = min(end - hashed, HASH_WINDOW)
                    with mmap.mmap(self._fd, size, offset=hashed, access=mmap.ACCESS_READ) as pages:
                        self._digest.update(pages)
                    hashed += size
        except BaseException as error:  # raised again by hexdigest
            self._error = error


def receive_body(fd: int, already: bytes, length: int, store: BlobStore, sha256: str) -> None:
    """Read the rest of a ``length``-byte body from socket ``fd`` (``already`` holds its first bytes) and
    store it under ``sha256`` (blocking). Raises ``DigestMismatchError`` (nothing stored) on other bytes,
    ``IncompleteBodyError`` when the client closes early or sends nothing for ``RECEIVE_TIMEOUT_SECONDS``."""
    sock = socket.socket(fileno=os.dup(fd))
    sock.settimeout(RECEIVE_TIMEOUT_SECONDS)
    scratch = store.incoming_path()
    try:
        with sock, open(scratch, "w+b", buffering=0) as out:
            digest = receive_file(sock, out.fileno(), already, length)
        store.commit_verified(scratch, digest, sha256)
    except BaseException:
        scratch.unlink(missing_ok=True)
        raise


def receive_file(
    sock: socket.socket, out: int, already: bytes, length: int, written: Written | None = None
) -> str:
    """Write a ``length``-byte body into file ``out`` (opened for reading too): ``already``, then the rest
    from ``sock`` (blocking); its sha256, hashed from the file's pages as they land. ``written`` hears how
    many bytes are in the file so far (it may raise to stop). Raises ``IncompleteBodyError`` when the peer
    closes early or sends nothing for the socket's timeout. Also our client's way to download a big file
    from the local store."""
    hasher = GrowingFileHasher(out)

    def advance(offset: int) -> None:
        hasher.advance(offset)
        if written is not None:
            written(offset)

    try:
        _receive_into(sock, out, already, length, advance)
    except BaseException:
        hasher.close(abandon=True)
        raise
    return hasher.hexdigest()


def _receive_into(sock: socket.socket, out: int, already: bytes, length: int, written: Written) -> None:
    head = memoryview(already)[:length]
    _write_all(out, head)
    written(len(head))
    receive = _splice_body if hasattr(os, "splice") else _copy_body
    try:
        receive(sock, out, len(head), length, written)
    except TimeoutError:
        raise IncompleteBodyError(f"no bytes from the peer for {sock.gettimeout():.0f} s") from None


def _splice_body(sock: socket.socket, out: int, start: int, length: int, written: Written) -> None:
    """Move bytes ``start..length`` of the body from ``sock`` into file ``out`` through a pipe."""
    pipe_out, pipe_in = os.pipe()
    try:
        with contextlib.suppress(OSError):
            fcntl.fcntl(pipe_in, _F_SETPIPE_SZ, PIPE_SIZE)
        offset = start
        while offset < length:
            moved = _splice_from_socket(sock, pipe_in, min(PIPE_SIZE, length - offset))
            while moved:
                count = os.splice(pipe_out, out, moved, offset_dst=offset)
                offset += count
                moved -= count
            written(offset)
    finally:
        os.close(pipe_out)
        os.close(pipe_in)


def _splice_from_socket(sock: socket.socket, pipe_in: int, wanted: int) -> int:
    """Up to ``wanted`` bytes from ``sock`` into the (empty) pipe, waiting up to the socket's timeout."""
    while True:
        try:
            count = os.splice(sock.fileno(), pipe_in, wanted)
        except BlockingIOError:  # the socket is non-blocking (it came from the event loop)
            if not select.select([sock], [], [], sock.gettimeout())[0]:
                raise TimeoutError from None
            continue
        if count == 0:
            raise IncompleteBodyError("the connection closed before the whole body arrived")
        return count


def _copy_body(sock: socket.socket, out: int, start: int, length: int, written: Written) -> None:
    """``_splice_body`` without ``splice``: ``recv_into`` one reused buffer, then ``write``."""
    buffer = memoryview(bytearray(BUFFER_SIZE))
    offset = start
    while offset < length:
        count = sock.recv_into(buffer[: min(length - offset, BUFFER_SIZE)])
        if count == 0:
            raise IncompleteBodyError("the connection closed before the whole body arrived")
        _write_all(out, buffer[:count])
        offset += count
        written(offset)


def _write_all(fd: int, data: memoryview) -> None:
    while data:
        data = data[os.write(fd, data) :]
