"""sha256 of files, read once in 1 MiB chunks in worker threads, cached in SQLite by (path, size, mtime).

Many files at once (``hash_many``) cost a few thread hops, not one per file: one for every cache lookup, one
per worker for the files it reads, one to remember every new digest in a single transaction."""

from __future__ import annotations

import asyncio
import hashlib
import os
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

from dsjobs_lsp.backends.sqlite_db import open_shared_database

CHUNK_SIZE = 1 << 20
DEFAULT_CONCURRENCY = 4
_SCHEMA = """
CREATE TABLE IF NOT EXISTS digests (
    path TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    PRIMARY KEY (path, size, mtime_ns)
)
"""


@dataclass(frozen=True)
class FileDigest:
    """The sha256 (hex) and size in bytes of a file's contents."""

    sha256: str
    size: int


@dataclass
class HasherStats:
    """How many digests came from the cache and how many files were actually read."""

    hits: int = 0
    misses: int = 0
    bytes_read: int = 0


def sha256_of_file(path: Path) -> FileDigest:
    """Hash a file in 1 MiB chunks (blocking; run it in a worker thread)."""
    digest = hashlib.sha256()
    size = 0
    buffer = bytearray(CHUNK_SIZE)
    view = memoryview(buffer)
    with path.open("rb", buffering=0) as stream:
        while count := stream.readinto(buffer):
            digest.update(view[:count])
            size += count
    return FileDigest(digest.hexdigest(), size)


class FileHasher:
    """Hashes files concurrently (bounded), remembering digests across runs and processes.

    The cache is an SQLite database (WAL mode, busy timeout), so two processes may share it. A file whose
    absolute path, size and mtime_ns are unchanged is never read again.
    """

    def __init__(self, cache_path: Path, *, concurrency: int = DEFAULT_CONCURRENCY) -> None:
        self.cache_path = cache_path
        self.stats = HasherStats()
        self._concurrency = concurrency
        self._limit = asyncio.Semaphore(concurrency)
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None

    def __repr__(self) -> str:
        return f"FileHasher({str(self.cache_path)!r}, stats={self.stats})"

    async def hash(self, path: Path) -> FileDigest:
        """The digest of ``path``'s contents, from the cache when the file is unchanged."""
        async with self._limit:
            return await asyncio.to_thread(self.hash_blocking, path)

    async def hash_many(self, paths: list[Path]) -> list[FileDigest]:
        """Digests of several files in the order given: every cache lookup in one thread hop, the files that
        changed read by up to ``concurrency`` workers (a share each), the new digests stored in one
        transaction (so an unchanged project costs one hop, and a new one a few, not one per file)."""
        cached = await asyncio.to_thread(self._lookup_many, paths)
        missing = [i for i, digest in enumerate(cached) if digest is None]
        shares = [missing[start :: self._concurrency] for start in range(self._concurrency)]
        read = await asyncio.gather(
            *(asyncio.to_thread(self._read_many, [paths[i] for i in share]) for share in shares if share)
        )
        fresh: list[tuple[tuple[str, int, int], FileDigest]] = []
        for share, results in zip((share for share in shares if share), read, strict=True):
            for index, (key, digest) in zip(share, results, strict=True):
                cached[index] = digest
                if digest.size == key[1]:  # not modified while we read it
                    fresh.append((key, digest))
        if fresh:
            await asyncio.to_thread(self._store_many, fresh)
        return [digest for digest in cached if digest is not None]

    def _read_many(self, paths: list[Path]) -> list[tuple[tuple[str, int, int], FileDigest]]:
        """Read and hash ``paths`` (blocking); each with the cache key it had before it was read."""
        results = []
        for path in paths:
            key = self._key(path)
            digest = sha256_of_file(Path(key[0]))
            results.append((key, digest))
        with self._lock:
            self.stats.misses += len(results)
            self.stats.bytes_read += sum(digest.size for _, digest in results)
        return results

    def hash_blocking(self, path: Path) -> FileDigest:
        """``hash`` for callers already on a worker thread."""
        key = self._key(path)
        cached = self._lookup(key)
        if cached is not None:
            self.stats.hits += 1
            return FileDigest(cached, key[1])
        digest = sha256_of_file(Path(key[0]))
        self.stats.misses += 1
        self.stats.bytes_read += digest.size
        if digest.size == key[1]:  # not modified while we read it
            self._store(key, digest.sha256)
        return digest

    def remember(self, path: Path, sha256: str) -> FileDigest:
        """Note the digest of a file just written and hashed on the way (blocking): the next ``hash`` of the
        unchanged file reads nothing."""
        key = self._key(path)
        self._store(key, sha256)
        return FileDigest(sha256, key[1])

    def close(self) -> None:
        """Close the cache database (it reopens on the next use)."""
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    @staticmethod
    def _key(path: Path) -> tuple[str, int, int]:
        absolute = os.path.abspath(path)
        stat = os.stat(absolute)
        return absolute, stat.st_size, stat.st_mtime_ns

    def _lookup_many(self, paths: list[Path]) -> list[FileDigest | None]:
        found: list[FileDigest | None] = []
        for path in paths:
            key = self._key(path)
            cached = self._lookup(key)
            found.append(None if cached is None else FileDigest(cached, key[1]))
        self.stats.hits += sum(1 for digest in found if digest is not None)
        return found

    def _connection(self) -> sqlite3.Connection:
        if self._db is None:
            # synchronous=NORMAL: a cache, a crash may lose the last digests, never more
            self._db = open_shared_database(self.cache_path, _SCHEMA)
        return self._db

    def _lookup(self, key: tuple[str, int, int]) -> str | None:
        with self._lock:
            row = (
                self._connection()
                .execute("SELECT sha256 FROM digests WHERE path = ? AND size = ? AND mtime_ns = ?", key)
                .fetchone()
            )
        return None if row is None else str(row[0])

    def _store(self, key: tuple[str, int, int], sha256: str) -> None:
        self._store_many([(key, FileDigest(sha256, key[1]))])

    def _store_many(self, found: list[tuple[tuple[str, int, int], FileDigest]]) -> None:
        with self._lock:
            db = self._connection()
            db.execute("BEGIN IMMEDIATE")
            try:
                db.executemany("DELETE FROM digests WHERE path = ?", [(key[0],) for key, _ in found])
                db.executemany(
                    "INSERT OR REPLACE INTO digests VALUES (?, ?, ?, ?)",
                    [(*key, digest.sha256) for key, digest in found],
                )
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
