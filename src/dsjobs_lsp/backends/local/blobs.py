"""Content-addressed file storage (files kept by sha256) and the presigned URLs that reach it."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import os
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlencode

SHA256_PATTERN = re.compile(r"^[0-9a-f]{64}$")
URL_TTL_SECONDS = 6 * 3600
HASH_CHUNK = 1 << 20
_FANOUT = [f"{i:02x}" for i in range(256)]


class SignatureError(PermissionError):
    """A presigned URL is malformed, tampered with, or expired."""


class DigestMismatchError(ValueError):
    """Received bytes do not have the sha256 they were sent under."""


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


class BlobStore:
    """Files by sha256 under ``<data dir>/blobs/ab/abcdef...``. Blocking methods: call them in a thread."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._incoming = root / ".incoming"
        self._incoming.mkdir(parents=True, exist_ok=True)
        self._scratch_numbers = itertools.count()
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
        digest = hashlib.sha256()
        scratch = self.incoming_path()
        size = 0
        with open(source, "rb") as src, open(scratch, "wb") as dst:
            while chunk := src.read(HASH_CHUNK):
                digest.update(chunk)
                dst.write(chunk)
                size += len(chunk)
        sha256 = digest.hexdigest()
        self.commit(scratch, sha256)
        return sha256, size

    def materialize(self, sha256: str, target: Path) -> None:
        """Copy a stored file to ``target`` (never a hard link: a job may write to its inputs)."""
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.path(sha256), target)

    def remove(self, sha256: str) -> None:
        """Delete a stored file."""
        self.path(sha256).unlink(missing_ok=True)
