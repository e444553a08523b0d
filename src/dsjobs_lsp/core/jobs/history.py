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
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from dsjobs_lsp.backends.sqlite_db import open_shared_database
from dsjobs_lsp.core.jobs.models import JobRecord

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
_UPSERT = (
    "INSERT INTO jobs (id, project_id, sort_key, data) VALUES (?, ?, ?, ?) "
    "ON CONFLICT(id) DO UPDATE SET project_id = excluded.project_id, sort_key = excluded.sort_key, "
    "data = excluded.data"
)
_IDS_PER_QUERY = 500  # below SQLite's oldest limit of 999 parameters a statement

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
        return await asyncio.to_thread(self._write, record)

    async def get(self, job_id: str) -> JobRecord | None:
        """The record of `job_id`, or None."""
        rows = await asyncio.to_thread(self._query, "SELECT data FROM jobs WHERE id = ?", (job_id,))
        return rows[0] if rows else None

    async def known(self, job_ids: Iterable[str]) -> set[str]:
        """Those of `job_ids` the history has."""
        return await asyncio.to_thread(self._stored_ids, list(job_ids))

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
        """Add jobs from the backend's List we did not know; refresh backend-owned fields of the others.

        `jobs` is read on the worker thread (a generator converting the backend's messages runs there too)."""
        return await asyncio.to_thread(self._merge_remote, jobs)

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
            self._conn = open_shared_database(self.db_path, _SCHEMA)
        return self._conn

    def _query(self, sql: str, args: tuple[object, ...]) -> Records:
        with self._lock:
            rows = self._connection().execute(sql, args).fetchall()
        return [JobRecord.model_validate_json(row[0]) for row in rows]

    def _stored_ids(self, job_ids: Sequence[str]) -> set[str]:
        with self._lock:
            return {row[0] for row in _stored_rows(self._connection(), job_ids, "id")}

    def _execute(self, sql: str, args: tuple[object, ...]) -> None:
        with self._lock:
            self._connection().execute(sql, args)

    def _write(self, record: JobRecord) -> JobRecord:
        [stored] = self._transaction(lambda conn: [_write_one(conn, record)])
        return stored

    def _merge_remote(self, jobs: Iterable[JobRecord]) -> Records:
        records = list(jobs)
        return self._transaction(lambda conn: _merge_remote_rows(conn, records))

    def _transaction(self, work: Callable[[sqlite3.Connection], Records]) -> Records:
        """`work` in one short write transaction (rolled back when it raises)."""
        with self._lock:
            conn = self._connection()
            try:
                conn.execute("BEGIN IMMEDIATE")
                stored = work(conn)
                conn.execute("COMMIT")
                return stored
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise


def _write_one(conn: sqlite3.Connection, record: JobRecord) -> JobRecord:
    row = conn.execute("SELECT data FROM jobs WHERE id = ?", (record.id,)).fetchone()
    merged = record if row is None else _merge_local(JobRecord.model_validate_json(row[0]), record)
    conn.execute(_UPSERT, (merged.id, merged.project_id, _sort_key(merged), merged.model_dump_json()))
    return merged


def _merge_remote_rows(conn: sqlite3.Connection, records: Records) -> Records:
    """A whole List merged at once: the known rows read in a few queries, only the changed rows written."""
    known = _stored_data(conn, [record.id for record in records])
    stored: Records = []
    changed: list[tuple[str, str, str, str]] = []
    for record in records:
        data = known.get(record.id)
        merged = record if data is None else _merge_remote(JobRecord.model_validate_json(data), record)
        text = merged.model_dump_json()
        if text != data:
            changed.append((merged.id, merged.project_id, _sort_key(merged), text))
        stored.append(merged)
    conn.executemany(_UPSERT, changed)
    return stored


def _stored_data(conn: sqlite3.Connection, job_ids: Sequence[str]) -> dict[str, str]:
    """The stored JSON of those of `job_ids` the history has."""
    return dict(_stored_rows(conn, job_ids, "id, data"))


def _stored_rows(conn: sqlite3.Connection, job_ids: Sequence[str], columns: str) -> list[tuple[Any, ...]]:
    """`columns` of the rows of those of `job_ids` the history has (a query per `_IDS_PER_QUERY` ids)."""
    rows: list[tuple[Any, ...]] = []
    for start in range(0, len(job_ids), _IDS_PER_QUERY):
        chunk = job_ids[start : start + _IDS_PER_QUERY]
        marks = ",".join("?" * len(chunk))
        rows += conn.execute(f"SELECT {columns} FROM jobs WHERE id IN ({marks})", chunk).fetchall()
    return rows


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
