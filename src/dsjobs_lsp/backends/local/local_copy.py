"""Uploads the store copies from a file on this machine: our client's way to a store on the same machine.

A PUT with an empty body and the headers of ``copy_request`` (the file's path and size) asks the store to
take the file from that path itself. ``copy_file_range`` copies it in the kernel (no socket and no pipe: each
byte is copied once, as ``cp`` copies it) while a second thread hashes the copy as it grows. The answer's
body is a line per step of the copy (the bytes copied so far, for the client's progress), then ``copied``
(or ``failed <status> <reason>``); the verification ends after it (``verifications``): the file is stored
only if it hashes to the sha256 in the URL, and a job that needs it waits for that. A path the store cannot
read is answered 422 at once, and the client sends the bytes instead.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import threading
from pathlib import Path

from .blobs import BlobStore
from .direct_receive import GrowingFileHasher, Written

COPY_SLICE = 16 << 20
"""Bytes per ``copy_file_range`` call (the hashing thread is told of each slice)."""
_NO_COPY_FILE_RANGE = {errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP}


class UnreadableSourceError(OSError):
    """The store cannot copy the named file (missing, unreadable, not a regular file, shorter than told)."""


class FileCopy:
    """A file on this machine being copied into the store's scratch folder: ``open_copy`` opens both files,
    ``run`` copies (``copied`` tells how far it got, for progress), ``verify_and_commit`` stores it."""

    def __init__(self, source_fd: int, size: int, scratch: Path, fd: int) -> None:
        self.size = size
        self.copied = 0
        self.scratch = scratch
        self._source_fd: int | None = source_fd
        self._fd = fd
        self._hasher = GrowingFileHasher(fd)
        self._closed = False
        self._state = threading.Lock()
        self._ended = False  # run is over
        self._dropped = False  # nobody will verify the copy

    def run(self) -> None:
        """Copy ``size`` bytes (blocking), hashing them on a second thread as they land; on failure nothing is
        kept. ``UnreadableSourceError`` when the file ends early."""
        assert self._source_fd is not None, "copied already"
        try:
            _copy(self._source_fd, self._fd, self.size, self._advance)
        except BaseException:
            self.abandon()
            raise
        finally:
            self._close_source()
            with self._state:
                self._ended = True
                dropped = self._dropped
        if dropped:
            self.abandon()

    def drop(self) -> None:
        """Nobody will verify this copy (the store stops): abandon it once ``run`` is over (at once if it is;
        then this blocks for as long as the hashing thread takes to stop, a window at most)."""
        with self._state:
            self._dropped = True
            ended = self._ended
        if ended:
            self.abandon()

    def verify_and_commit(self, store: BlobStore, sha256: str) -> None:
        """After ``run``: wait for the hash (blocking); store the file under ``sha256`` if it matches, else
        drop it and raise ``DigestMismatchError``."""
        try:
            digest = self._hasher.hexdigest()
        finally:
            self._close()
        try:
            store.commit_verified(self.scratch, digest, sha256, hint="the file changed after it was hashed")
        except BaseException:
            self.scratch.unlink(missing_ok=True)
            raise

    def abandon(self) -> None:
        """Stop hashing and remove the scratch file (a copy that failed, or that nobody will verify)."""
        self._close_source()
        if not self._closed:
            self._hasher.close(abandon=True)
            self._close()
        self.scratch.unlink(missing_ok=True)

    def _advance(self, offset: int) -> None:
        self.copied = offset
        self._hasher.advance(offset)

    def _close_source(self) -> None:
        if self._source_fd is not None:
            os.close(self._source_fd)
            self._source_fd = None

    def _close(self) -> None:
        if not self._closed:
            self._closed = True
            os.close(self._fd)


def open_copy(source: str, size: int, store: BlobStore) -> FileCopy:
    """Open file ``source`` and a fresh scratch file of ``store`` for copying ``size`` bytes (blocking).
    Raises ``UnreadableSourceError`` when the file cannot be copied here."""
    try:  # O_NONBLOCK: a FIFO must not hold the thread until a writer comes (no effect on a regular file)
        source_fd = os.open(source, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK)
    except OSError as error:
        raise UnreadableSourceError(error.errno, f"cannot read {source}: {error.strerror}") from None
    try:
        status = os.fstat(source_fd)
        if not stat.S_ISREG(status.st_mode) or status.st_size < size:
            raise UnreadableSourceError(errno.EINVAL, f"{source} is not a regular file of {size} bytes")
        scratch = store.incoming_path()
        fd = os.open(scratch, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    except BaseException:
        os.close(source_fd)
        raise
    return FileCopy(source_fd, size, scratch, fd)


def _copy(source: int, out: int, size: int, written: Written) -> None:
    """The first ``size`` bytes of ``source`` into ``out``: in the kernel where it can, else through a
    buffer. ``UnreadableSourceError`` when the file ends early."""
    offset = 0
    with contextlib.suppress(AttributeError):  # no copy_file_range (not Linux)
        while offset < size:
            try:
                count = os.copy_file_range(source, out, min(COPY_SLICE, size - offset), offset, offset)
            except OSError as error:
                if error.errno not in _NO_COPY_FILE_RANGE or offset:
                    raise
                break
            if count == 0:
                raise UnreadableSourceError(errno.EIO, f"the file ended after {offset} of {size} bytes")
            offset += count
            written(offset)
    while offset < size:
        chunk = os.pread(source, min(COPY_SLICE, size - offset), offset)
        if not chunk:
            raise UnreadableSourceError(errno.EIO, f"the file ended after {offset} of {size} bytes")
        view = memoryview(chunk)
        while view:
            moved = os.pwrite(out, view, offset)
            view = view[moved:]
            offset += moved
        written(offset)
