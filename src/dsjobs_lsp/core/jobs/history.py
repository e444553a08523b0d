"""Launch history: every job this machine created or saw, in SQLite (WAL), shared by the CLI and the server.

Several processes may write at once (a CLI run and the language server attached to the same job), so each
write is one short `BEGIN IMMEDIATE` transaction and the fields that only grow (`log_offset`,
`outputs_downloaded`) are merged, never moved backwards. A `History` keeps one connection open: closing the
last connection of a WAL database checkpoints it to disk (about 12 ms a write, a run makes several).
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path

from dsjobs_lsp.core.jobs.models import JobRecord
from dsjobs_lsp.core.privacy import private_sqlite_file

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL,
    sort_key TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_by_project ON jobs (project_id, sort_key);
CREATE INDEX IF NOT EXISTS jobs_by_time ON jobs (sort_key);
"""
_BUSY_TIMEOUT_S = 30.0

Records = list[JobRecord]

# Fields the backend knows better than we do; everything else (working dir, offsets...) is ours.
_REMOTE_FIELDS = ("status", "status_details", "name", "desc", "created_at", "started_at", "finished_at")


class History:
    """Async access to the launch history database at `db_path` (created on first use)."""

    def __init__(self, db_path: Path) -> None:
        self.db_path = db_path
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    async def upsert(self, record: JobRecord) -> JobRecord:
        """Insert or replace a record (larger log offset, done download win); returns it as stored."""
        stored: Records = await asyncio.to_thread(self._write, [record], False)
        return stored[0]

    async def get(self, job_id: str) -> JobRecord | None:
        """The record of `job_id`, or None."""
        rows = await asyncio.to_thread(self._query, "SELECT data FROM jobs WHERE id = ?", (job_id,))
        return rows[0] if rows else None

    async def list(self, project_id: str | None = None, limit: int = 200) -> Records:
        """Records newest first, of one project or all."""
        if project_id is None:
            return await asyncio.to_thread(
                self._query, "SELECT data FROM jobs ORDER BY sort_key DESC LIMIT ?", (limit,)
            )
        return await asyncio.to_thread(
            self._query,
            "SELECT data FROM jobs WHERE project_id = ? ORDER BY sort_key DESC LIMIT ?",
            (project_id, limit),
        )

    async def merge_remote(self, jobs: Iterable[JobRecord]) -> Records:
        """Add jobs from the backend's List we did not know; refresh backend-owned fields of the others."""
        return await asyncio.to_thread(self._write, list(jobs), True)

    async def update(
        self, job_id: str, *, log_offset: int | None = None, outputs_downloaded: bool | None = None
    ) -> JobRecord | None:
        """Advance the log offset or mark the outputs downloaded; the stored record (None if unknown)."""
        current = await self.get(job_id)
        if current is None:
            return None
        changes: dict[str, object] = {}
        if log_offset is not None:
            changes["log_offset"] = log_offset
        if outputs_downloaded is not None:
            changes["outputs_downloaded"] = outputs_downloaded
        return await self.upsert(current.model_copy(update=changes))

    async def delete(self, job_id: str) -> None:
        """Forget a job."""
        await asyncio.to_thread(self._execute, "DELETE FROM jobs WHERE id = ?", (job_id,))

    def close(self) -> None:
        """Close the database connection (the next call opens it again)."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    # -- blocking part, run in a worker thread, one at a time (the lock) -----------------------------------

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            private_sqlite_file(self.db_path)
            conn = sqlite3.connect(
                self.db_path, timeout=_BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
            )
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(_SCHEMA)
            conn.execute("PRAGMA synchronous=NORMAL")
            self._conn = conn
        return self._conn

    def _query(self, sql: str, args: tuple[object, ...]) -> Records:
        with self._lock:
            rows = self._connection().execute(sql, args).fetchall()
        return [JobRecord.model_validate_json(row[0]) for row in rows]

    def _execute(self, sql: str, args: tuple[object, ...]) -> None:
        with self._lock:
            self._connection().execute(sql, args)

    def _write(self, records: Records, remote: bool) -> Records:
        with self._lock:
            conn = self._connection()
            try:
                conn.execute("BEGIN IMMEDIATE")
                stored = [self._write_one(conn, record, remote) for record in records]
                conn.execute("COMMIT")
                return stored
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

    @staticmethod
    def _write_one(conn: sqlite3.Connection, record: JobRecord, remote: bool) -> JobRecord:
        row = conn.execute("SELECT data FROM jobs WHERE id = ?", (record.id,)).fetchone()
        merged = record
        if row is not None:
            known = JobRecord.model_validate_json(row[0])
            merged = _merge_remote(known, record) if remote else _merge_local(known, record)
        conn.execute(
            "INSERT INTO jobs (id, project_id, sort_key, data) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET project_id = excluded.project_id, sort_key = excluded.sort_key, "
            "data = excluded.data",
            (merged.id, merged.project_id, _sort_key(merged), merged.model_dump_json()),
        )
        return merged


def _merge_local(known: JobRecord, new: JobRecord) -> JobRecord:
    return new.model_copy(
        update={
            "log_offset": max(known.log_offset, new.log_offset),
            "outputs_downloaded": known.outputs_downloaded or new.outputs_downloaded,
            "created_at": known.created_at or new.created_at,
        }
    )


def _merge_remote(known: JobRecord, remote: JobRecord) -> JobRecord:
    update: dict[str, object] = {name: getattr(remote, name) for name in _REMOTE_FIELDS}
    if known.status.finished and not remote.status.finished:
        update["status"] = known.status  # a finished job never goes back; the list may lag
    update["created_at"] = known.created_at or remote.created_at
    if remote.exit_code is not None:
        update["exit_code"] = remote.exit_code
    if remote.link and not known.link:
        update["link"] = remote.link
    return known.model_copy(update=update)


def _sort_key(record: JobRecord) -> str:
    created = record.created_at or datetime.now(timezone.utc)
    if created.tzinfo is None:
        created = created.replace(tzinfo=timezone.utc)
    return f"{created.astimezone(timezone.utc).isoformat()}|{record.id}"
