"""Uploads the store copies from a file on this machine: our client's way to a store on the same machine.

A PUT with an empty body and the headers of ``copy_request`` (the file's path and size) asks the store to
take the file from that path itself. ``copy_file_range`` copies it in the kernel (no socket and no pipe: each
byte is copied once, as ``cp`` copies it) while a second thread hashes the copy as it grows. The PUT is
answered once the copy is whole and the verification ends after it (``verifications``): the file is stored
only if it hashes to the sha256 in the URL, and a job that needs it waits for that. A path the store cannot
read is answered 422, and the client sends the bytes instead.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from .blobs import BlobStore, DigestMismatchError
from .direct_receive import GrowingFileHasher, Written

COPY_SLICE = 16 << 20
"""Bytes per ``copy_file_range`` call (the hashing thread is told of each slice)."""
_NO_COPY_FILE_RANGE = {errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP}


class UnreadableSourceError(OSError):
    """The store cannot copy the named file (missing, unreadable, not a regular file, shorter than told)."""


@dataclass
class CopiedFile:
    """A file copied into the store's scratch folder, still being hashed."""

    scratch: Path
    fd: int
    hasher: GrowingFileHasher

    def verify_and_commit(self, store: BlobStore, sha256: str) -> None:
        """Wait for the hash (blocking); store the file under ``sha256`` if it matches, else drop it and
        raise ``DigestMismatchError``."""
        try:
            digest = self.hasher.hexdigest()
        finally:
            os.close(self.fd)
        try:
            if digest != sha256:
                raise DigestMismatchError(
                    f"the copied bytes do not match sha256 {sha256}: the file changed after it was hashed"
                )
            store.commit(self.scratch, sha256)
        except BaseException:
            self.scratch.unlink(missing_ok=True)
            raise


def copy_to_scratch(source: str, size: int, store: BlobStore) -> CopiedFile:
    """Copy ``size`` bytes of file ``source`` into a fresh scratch file of ``store`` (blocking), hashing it on
    a second thread as it grows. Raises ``UnreadableSourceError`` when the file cannot be copied here."""
    try:
        source_fd = os.open(source, os.O_RDONLY | os.O_CLOEXEC)
    except OSError as error:
        raise UnreadableSourceError(error.errno, f"cannot read {source}: {error.strerror}") from None
    try:
        status = os.fstat(source_fd)
        if not stat.S_ISREG(status.st_mode) or status.st_size < size:
            raise UnreadableSourceError(errno.EINVAL, f"{source} is not a regular file of {size} bytes")
        scratch = store.incoming_path()
        fd = os.open(scratch, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        hasher = GrowingFileHasher(fd)
        try:
            _copy(source_fd, fd, size, hasher.advance)
        except BaseException:
            hasher.close(abandon=True)
            os.close(fd)
            scratch.unlink(missing_ok=True)
            raise
        return CopiedFile(scratch, fd, hasher)
    finally:
        os.close(source_fd)


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
