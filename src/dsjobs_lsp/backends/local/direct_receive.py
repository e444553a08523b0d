"""Receiving a large upload body straight from the socket, off the event loop.

The HTTP store hands over the connection's socket once a request head with a known ``Content-Length`` has
been read: a worker thread fills a few reusable buffers with ``recv_into`` (the only copy out of the kernel),
writes each to a scratch file while a second thread hashes it, then the blob is verified and committed.
Nothing is stored unless the bytes hash to the expected sha256.
"""

from __future__ import annotations

import hashlib
import os
import queue
import socket
import threading

from .blobs import BlobStore, DigestMismatchError

BUFFER_SIZE = 4 << 20
BUFFERS = 3
RECEIVE_TIMEOUT_SECONDS = 60.0


class IncompleteBodyError(ConnectionError):
    """The client stopped before sending ``Content-Length`` bytes."""


class _Hasher:
    """Hashes buffers on a thread of its own, giving each buffer back once it is hashed."""

    def __init__(self) -> None:
        self.digest = hashlib.sha256()
        self.free: queue.SimpleQueue[bytearray] = queue.SimpleQueue()
        for _ in range(BUFFERS):
            self.free.put(bytearray(BUFFER_SIZE))
        self._work: queue.SimpleQueue[tuple[bytearray, int] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="dsjobs-upload-hash", daemon=True)
        self._thread.start()

    def feed(self, buffer: bytearray, count: int) -> None:
        """Hash the first ``count`` bytes of ``buffer`` (the buffer comes back through ``free``)."""
        self._work.put((buffer, count))

    def hexdigest(self) -> str:
        """Wait for every buffer fed so far, then the digest."""
        self.close()
        return self.digest.hexdigest()

    def close(self) -> None:
        """Stop the thread once it has hashed what it was given."""
        if self._thread.is_alive():
            self._work.put(None)
            self._thread.join()

    def _run(self) -> None:
        while (item := self._work.get()) is not None:
            buffer, count = item
            self.digest.update(memoryview(buffer)[:count])
            self.free.put(buffer)


def _fill(sock: socket.socket, buffer: bytearray, wanted: int) -> int:
    view = memoryview(buffer)
    count = 0
    while count < wanted:
        received = sock.recv_into(view[count:wanted])
        if received == 0:
            raise IncompleteBodyError("the client closed the connection before the whole body arrived")
        count += received
    return count


def receive_body(fd: int, already: bytes, length: int, store: BlobStore, sha256: str) -> None:
    """Read the rest of a ``length``-byte body from socket ``fd`` (``already`` holds its first bytes) and
    store it under ``sha256`` (blocking). Raises ``DigestMismatchError`` (nothing stored) on other bytes,
    ``IncompleteBodyError`` / ``TimeoutError`` when the client stops sending."""
    sock = socket.socket(fileno=os.dup(fd))
    sock.settimeout(RECEIVE_TIMEOUT_SECONDS)
    scratch = store.incoming_path()
    hasher = _Hasher()
    try:
        with sock, open(scratch, "wb", buffering=0) as out:
            try:
                _copy_body(sock, out.fileno(), already[:length], length, hasher)
            except TimeoutError:
                raise IncompleteBodyError(
                    f"no bytes from the client for {RECEIVE_TIMEOUT_SECONDS:.0f} s"
                ) from None
        if hasher.hexdigest() != sha256:
            raise DigestMismatchError(f"uploaded bytes do not match sha256 {sha256}")
        store.commit(scratch, sha256)
    except BaseException:
        hasher.close()
        scratch.unlink(missing_ok=True)
        raise


def _copy_body(sock: socket.socket, out: int, already: bytes, length: int, hasher: _Hasher) -> None:
    remaining = length - len(already)
    hasher.digest.update(already)  # before any buffer is fed: the hashing thread is still idle
    _write_all(out, memoryview(already))
    while remaining:
        buffer = hasher.free.get()
        count = _fill(sock, buffer, min(remaining, BUFFER_SIZE))
        hasher.feed(buffer, count)  # hashed on the other thread while this one writes
        _write_all(out, memoryview(buffer)[:count])
        remaining -= count


def _write_all(fd: int, data: memoryview) -> None:
    while data:
        data = data[os.write(fd, data) :]
