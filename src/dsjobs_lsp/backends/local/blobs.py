"""Content-addressed file storage (files kept by sha256) and the presigned URLs that reach it.

Jobs get stored files without a copy where that is safe: a reflink (copy-on-write) where the file system has
them, else a hard link. A hard link shares the inode, so a job writing to its input would write into the
store; the guard: a job gets a link only while it is the file's one holder (link count 2), the inode's size,
mtime and ctime are checked when the job ends (``release``) and a changed file is dropped from the store (any
write, chmod or ``utime`` changes ctime, for root too); every other case gets a copy hashed while it is
written.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import hmac
import itertools
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlencode

from .unpack import make_executable

SHA256_PATTERN = re.compile(r"^[0-9a-f]{64}$")
URL_TTL_SECONDS = 6 * 3600
HASH_CHUNK = 1 << 20
_FANOUT = [f"{i:02x}" for i in range(256)]
FICLONE = 0x40049409  # ioctl: share the extents of another file (copy-on-write), Linux
_NO_REFLINK_ERRNOS = {errno.EOPNOTSUPP, errno.EXDEV, errno.EINVAL, errno.ENOTTY}


class SignatureError(PermissionError):
    """A presigned URL is malformed, tampered with, or expired."""


class DigestMismatchError(ValueError):
    """Received bytes do not have the sha256 they were sent under."""


class BlobChangedError(ValueError):
    """A stored file no longer has its sha256 (a job wrote to it through a link); it was dropped."""


def _signature(status: os.stat_result) -> tuple[int, int, int]:
    return status.st_size, status.st_mtime_ns, status.st_ctime_ns


@dataclass(frozen=True)
class LinkedFile:
    """A stored file hard-linked into a job, with its inode's size and times right after linking."""

    sha256: str
    inode: int
    size: int
    mtime_ns: int
    ctime_ns: int

    def signature(self) -> tuple[int, int, int]:
        """(size, mtime_ns, ctime_ns) as linked."""
        return self.size, self.mtime_ns, self.ctime_ns


@dataclass(frozen=True)
class UrlSigner:
    """Signs ``(method, path, expiry)`` with HMAC-SHA256; the HTTP store checks the signature."""

    key: bytes
    base_url: str

    def url(self, method: str, path: str, *, ttl: float = URL_TTL_SECONDS) -> str:
        """A presigned URL for ``method`` on ``path`` that expires after ``ttl`` seconds."""
        expires = int(time.time() + ttl)
        query = urlencode({"expires": expires, "signature": self._signature(method, path, expires)})
        return f"{self.base_url}{path}?{query}"

    def verify(self, method: str, path: str, query: str) -> None:
        """Raise ``SignatureError`` unless ``query`` carries a valid, unexpired signature for the request."""
        params = parse_qs(query)
        try:
            expires = int(params["expires"][0])
            signature = params["signature"][0]
        except (KeyError, ValueError, IndexError):
            raise SignatureError("the URL is not signed (expires/signature missing)") from None
        if not hmac.compare_digest(signature, self._signature(method, path, expires)):
            raise SignatureError("the URL signature does not match")
        if expires < time.time():
            raise SignatureError("the URL has expired")

    def _signature(self, method: str, path: str, expires: int) -> str:
        message = f"{method.upper()}\n{path}\n{expires}".encode()
        return hmac.new(self.key, message, hashlib.sha256).hexdigest()


def blob_url_path(sha256: str) -> str:
    """The URL path of a stored file."""
    return f"/blobs/{sha256}"


class StoreWriter:
    """A file being written into a ``BlobStore``: a scratch file, hashed as it is written; ``commit`` stores
    it under its sha256. Leaving the ``with`` block without a commit removes the scratch file. Blocking."""

    def __init__(self, store: BlobStore) -> None:
        self._store = store
        self._scratch = store.incoming_path()
        self._file = open(self._scratch, "wb")  # noqa: SIM115 - closed by commit or on exit
        self._digest = hashlib.sha256()
        self._size = 0
        self._committed = False

    def write(self, data: bytes) -> None:
        """Append ``data``."""
        self._file.write(data)
        self._digest.update(data)
        self._size += len(data)

    def commit(self) -> tuple[str, int]:
        """Store what was written; its (sha256, size)."""
        self._file.close()
        sha256 = self._digest.hexdigest()
        self._store.commit(self._scratch, sha256)
        self._committed = True
        return sha256, self._size

    def __enter__(self) -> StoreWriter:
        return self

    def __exit__(self, *_: object) -> None:
        self._file.close()
        if not self._committed:
            self._scratch.unlink(missing_ok=True)


class BlobStore:
    """Files by sha256 under ``<data dir>/blobs/ab/abcdef...``. Blocking methods: call them in a thread."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._incoming = root / ".incoming"
        self._incoming.mkdir(parents=True, exist_ok=True)
        self._scratch_numbers = itertools.count()
        self._reflink_works = True
        if not (root / _FANOUT[-1]).is_dir():
            # A new store gets all 256 ``ab/`` folders at once: a mkdir costs about as much as storing a
            # 64 KiB file, and nearly every one of a first upload's files would otherwise make its own.
            for name in _FANOUT:
                (root / name).mkdir(exist_ok=True)

    def path(self, sha256: str) -> Path:
        """Where the file with this digest lives (whether or not it exists)."""
        return self.root / sha256[:2] / sha256

    def has(self, sha256: str) -> bool:
        """Whether the file is stored."""
        return self.path(sha256).is_file()

    def incoming_path(self) -> Path:
        """A fresh scratch path for a file being received (unique per process and call; no syscall)."""
        return self._incoming / f"{os.getpid()}-{next(self._scratch_numbers)}"

    def commit(self, scratch: Path, sha256: str) -> Path:
        """Move a received, verified file into place (atomic)."""
        target = self.path(sha256)
        try:
            os.replace(scratch, target)
        except FileNotFoundError:  # its ``ab/`` folder was removed since the store was created
            if not scratch.exists():
                raise
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(scratch, target)
        return target

    def commit_verified(self, scratch: Path, digest: str, sha256: str, *, hint: str = "") -> Path:
        """Move a received file into place if its bytes hashed (``digest``) to ``sha256``; else remove it and
        raise ``DigestMismatchError`` (``hint`` says why that may be)."""
        if digest != sha256:
            scratch.unlink(missing_ok=True)
            raise DigestMismatchError(
                f"uploaded bytes do not match sha256 {sha256}" + (f": {hint}" if hint else "")
            )
        return self.commit(scratch, sha256)

    def put_bytes(self, data: bytes, sha256: str) -> Path:
        """Verify and store a received body whole: hash, scratch write, atomic move, in one blocking call.

        Raises ``DigestMismatchError`` (nothing stored) unless ``data`` hashes to ``sha256``.
        """
        if hashlib.sha256(data).hexdigest() != sha256:
            raise DigestMismatchError(f"uploaded bytes do not match sha256 {sha256}")
        scratch = self.incoming_path()
        try:
            with open(scratch, "wb") as stream:
                stream.write(data)
            return self.commit(scratch, sha256)
        except BaseException:
            scratch.unlink(missing_ok=True)
            raise

    def ingest(self, source: Path) -> tuple[str, int]:
        """Copy a local file into the store; returns (sha256, size)."""
        with self.writer() as stored, open(source, "rb") as src:
            while chunk := src.read(HASH_CHUNK):
                stored.write(chunk)
            return stored.commit()

    def writer(self) -> StoreWriter:
        """A new file to write into the store, hashed as it is written (``StoreWriter``)."""
        return StoreWriter(self)

    def place(self, sha256: str, target: Path, *, executable: bool = False) -> LinkedFile | None:
        """Give a job the stored file at ``target``: a reflink where the file system has them, else a hard
        link when the job is the only holder of one (returned: check it with ``release`` after the job), else
        a copy verified against ``sha256`` while it is written. ``executable`` files get ``x`` bits, so they
        are never hard-linked (a mode belongs to the inode, which the store shares). A file already at
        ``target`` is replaced, never written into (it may be a link to the store).

        Raises ``BlobChangedError`` (and drops the blob) when the stored bytes no longer hash to ``sha256``.
        """
        source = self.path(sha256)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.unlink(missing_ok=True)  # a link placed before (an input listed twice): never write into it
        if not (self._reflink_works and self._reflink(source, target)):
            linked = None if executable else self._link_alone(source, target, sha256)
            if linked is not None:
                return linked
            self._verified_copy(source, target, sha256)
        if executable:
            make_executable(target)
        return None

    def release(self, linked: LinkedFile, job_file: Path) -> bool:
        """After the job: whether the stored file is as the job got it. If the job changed it through the
        link (content, mode or times: any change of size, mtime or ctime), the blob is dropped from the store
        so that the next job has it uploaded again. The job's link is removed, so the store's file has no
        other holder again. A store file since replaced by a fresh copy counts as unchanged."""
        stored = self.path(linked.sha256)
        unchanged = True
        with contextlib.suppress(FileNotFoundError):
            status = os.stat(stored)
            if status.st_ino == linked.inode and linked.signature() != _signature(status):
                stored.unlink(missing_ok=True)
                unchanged = False
        with contextlib.suppress(FileNotFoundError):
            if os.stat(job_file).st_ino == linked.inode:
                job_file.unlink()
        return unchanged

    def _link_alone(self, source: Path, target: Path, sha256: str) -> LinkedFile | None:
        if os.stat(source).st_nlink != 1:  # held already (by this job too): linking would touch its ctime
            return None
        try:
            os.link(source, target)
        except OSError:  # another file system, no hard links, too many links, ...
            return None
        status = os.stat(target)
        if status.st_nlink != 2:  # another job holds a link: its writes would reach this job
            target.unlink()
            return None
        return LinkedFile(sha256, status.st_ino, *_signature(status))

    def _reflink(self, source: Path, target: Path) -> bool:
        try:
            with open(source, "rb") as src, open(target, "wb") as dst:
                fcntl.ioctl(dst.fileno(), FICLONE, src.fileno())
            return True
        except OSError as error:
            target.unlink(missing_ok=True)
            if error.errno in _NO_REFLINK_ERRNOS:
                self._reflink_works = False
            return False

    def _verified_copy(self, source: Path, target: Path, sha256: str) -> None:
        digest = hashlib.sha256()
        with open(source, "rb") as src, open(target, "wb") as dst:
            while chunk := src.read(HASH_CHUNK):
                digest.update(chunk)
                dst.write(chunk)
        if digest.hexdigest() != sha256:
            target.unlink(missing_ok=True)
            source.unlink(missing_ok=True)
            raise BlobChangedError(
                f"the stored file {sha256[:12]} was changed by a job that wrote to its input; it is removed "
                "from the store, run the job again to upload it anew"
            )

    def remove(self, sha256: str) -> None:
        """Delete a stored file."""
        self.path(sha256).unlink(missing_ok=True)
