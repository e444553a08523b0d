"""Job log journals: append-only record files with byte offsets, and readers woken on every write."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from dataclasses import dataclass
from pathlib import Path

from .wrapper import KIND_ERR, KIND_OUT, KIND_SYSTEM, RECORD_HEADER, encode_record

__all__ = ["KIND_ERR", "KIND_OUT", "KIND_SYSTEM", "JobJournal", "JournalError", "LogRecord", "read_records"]

READ_CHUNK = 1 << 20


class JournalError(ValueError):
    """The journal cannot be read from the requested offset (not a record boundary, or beyond its end)."""


@dataclass(frozen=True)
class LogRecord:
    """One journal line."""

    kind: int
    created_at: float
    content: bytes


def read_records(path: Path, offset: int, max_bytes: int = READ_CHUNK) -> tuple[list[LogRecord], int]:
    """Complete records from ``offset`` (blocking: run it in a thread) and the offset after them."""
    try:
        with open(path, "rb") as file:
            size = os.fstat(file.fileno()).st_size
            if offset > size:
                raise JournalError(f"offset {offset} is beyond the end of the log ({size} bytes)")
            file.seek(offset)
            data = file.read(max(max_bytes, 0) or READ_CHUNK)
    except FileNotFoundError:
        if offset > 0:
            raise JournalError(f"offset {offset} is beyond the end of the log (0 bytes)") from None
        return [], offset
    records: list[LogRecord] = []
    position = 0
    while position + RECORD_HEADER.size <= len(data):
        kind, created_at, length = RECORD_HEADER.unpack_from(data, position)
        if kind not in (KIND_OUT, KIND_ERR, KIND_SYSTEM):
            raise JournalError(f"offset {offset + position} is not at a log record boundary")
        end = position + RECORD_HEADER.size + length
        if end > len(data):
            if not records and length + RECORD_HEADER.size > len(data) and len(data) == max_bytes:
                # A single record larger than the read window: read exactly that record.
                return read_records(path, offset, length + RECORD_HEADER.size)
            break
        records.append(LogRecord(kind, created_at, data[position + RECORD_HEADER.size : end]))
        position = end
    return records, offset + position


def journal_size(path: Path) -> int:
    """Current size of a journal file (0 when it does not exist yet)."""
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


class JobJournal:
    """The log journal of one job, with a change signal that log readers wait on."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.version = 0
        self._changed = asyncio.Event()

    async def append_system(self, line: str) -> None:
        """Write one line of the service's own log (`.system.log`) and wake readers."""
        record = encode_record(KIND_SYSTEM, time.time(), (line.rstrip("\n") + "\n").encode())
        await asyncio.to_thread(self._append, record)
        self.notify()

    def _append(self, record: bytes) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, record)
        finally:
            os.close(fd)

    def notify(self) -> None:
        """Wake every reader waiting for new records or a status change."""
        self.version += 1
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    async def wait(self, seen_version: int, at_most: float) -> None:
        """Wait for a change after ``seen_version`` (at once if one happened), at most ``at_most`` seconds."""
        if self.version != seen_version:
            return
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._changed.wait(), at_most)

    async def read(self, offset: int) -> tuple[list[LogRecord], int]:
        """Records from ``offset``; raises ``JournalError`` on a bad offset."""
        return await asyncio.to_thread(read_records, self.path, offset)

    async def size(self) -> int:
        """Current end offset."""
        return await asyncio.to_thread(journal_size, self.path)
