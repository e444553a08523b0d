"""Persistent state of the local backend: jobs and operations in SQLite, cached in memory.

Every change is written through at once (a single writer thread), so a restart loses nothing finished.
"""

from __future__ import annotations

import asyncio
import bisect
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from yandex.cloud.datasphere.v2.jobs import jobs_pb2
from yandex.cloud.operation import operation_pb2

from dsjobs_lsp.backends.sqlite_db import open_shared_database

_T = TypeVar("_T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL,
    created_at REAL NOT NULL,
    status INTEGER NOT NULL,
    execute_operation_id TEXT,
    runner_pid INTEGER,
    proto BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_by_project ON jobs (project_id, created_at);
CREATE TABLE IF NOT EXISTS operations (
    id TEXT PRIMARY KEY,
    job_id TEXT,
    proto BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS blobs (
    sha256 TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    stored_at REAL NOT NULL
);
"""

FINAL_STATUSES = frozenset({jobs_pb2.SUCCESS, jobs_pb2.ERROR, jobs_pb2.CANCELLED})
ACTIVE_STATUSES = frozenset(
    {jobs_pb2.PREPARING, jobs_pb2.EXECUTING, jobs_pb2.UPLOADING_OUTPUT, jobs_pb2.CANCELLING}
)


def count_active_jobs(path: Path) -> int:
    """How many jobs of the state DB at ``path`` are being prepared, run or finished (blocking; read-only)."""
    if not path.exists():
        return 0
    statuses = ",".join(str(int(s)) for s in ACTIVE_STATUSES)
    try:
        db = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
        try:
            row = db.execute(f"SELECT COUNT(*) FROM jobs WHERE status IN ({statuses})").fetchone()
        finally:
            db.close()
    except sqlite3.Error:
        return 0
    return int(row[0])


JobKey = tuple[int, str]
"""Where a job stands in its project's list: (created_at in nanoseconds, id)."""


def job_key(job: jobs_pb2.Job) -> JobKey:
    """The job's place in its project's list (newest first is descending order of keys)."""
    return job.created_at.ToNanoseconds(), job.id


@dataclass
class JobRow:
    """A job as the backend keeps it: the API message plus the bookkeeping the API does not show."""

    job: jobs_pb2.Job
    execute_operation_id: str | None = None
    runner_pid: int | None = None

    @property
    def finished(self) -> bool:
        return self.job.status in FINAL_STATUSES


class StateStore:
    """Jobs and operations, in memory and in ``state.sqlite3``."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dsjobs-state")
        self._db: sqlite3.Connection | None = None
        self.jobs: dict[str, JobRow] = {}
        self.operations: dict[str, operation_pb2.Operation] = {}
        self.operation_jobs: dict[str, str | None] = {}
        self._project_keys: dict[str, list[JobKey]] = {}  # per project, ascending

    async def open(self) -> None:
        """Open (creating if needed) the database and load everything into memory."""
        self._db = await self._run(self._connect)
        rows: list[tuple[Any, ...]] = await self._run(
            self._fetch, "SELECT proto, execute_operation_id, runner_pid FROM jobs"
        )
        for proto, operation_id, runner_pid in rows:
            job = jobs_pb2.Job.FromString(proto)
            self.jobs[job.id] = JobRow(job, operation_id, runner_pid)
            self._index(job)
        operations: list[tuple[Any, ...]] = await self._run(
            self._fetch, "SELECT job_id, proto FROM operations"
        )
        for job_id, proto in operations:
            operation = operation_pb2.Operation.FromString(proto)
            self.operations[operation.id] = operation
            self.operation_jobs[operation.id] = job_id

    async def close(self) -> None:
        """Close the database and its writer thread."""
        if self._db is not None:
            await self._run(self._db.close)
            self._db = None
        self._writer.shutdown(wait=True)

    async def save_job(self, row: JobRow) -> None:
        """Insert or replace a job."""
        previous = self.jobs.get(row.job.id)
        if previous is not None:
            self._unindex(previous.job)
        self.jobs[row.job.id] = row
        self._index(row.job)
        job = row.job
        await self._execute(
            "INSERT OR REPLACE INTO jobs VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                job.id,
                job.project_id,
                job.created_at.ToNanoseconds() / 1e9,
                int(job.status),
                row.execute_operation_id,
                row.runner_pid,
                job.SerializeToString(),
            ),
        )

    async def delete_job(self, job_id: str) -> None:
        """Forget a job and its operations."""
        previous = self.jobs.pop(job_id, None)
        if previous is not None:
            self._unindex(previous.job)
        for operation_id in [op_id for op_id, owner in self.operation_jobs.items() if owner == job_id]:
            self.operations.pop(operation_id, None)
            self.operation_jobs.pop(operation_id, None)
        await self._execute("DELETE FROM jobs WHERE id = ?", (job_id,))
        await self._execute("DELETE FROM operations WHERE job_id = ?", (job_id,))

    def project_jobs(self, project_id: str, *, before: JobKey | None, limit: int) -> list[jobs_pb2.Job]:
        """Up to ``limit`` of a project's jobs, newest first, those whose key is below ``before`` (all when
        None): a keyset page, found by bisection in the project's ordered keys."""
        keys = self._project_keys.get(project_id, [])
        end = len(keys) if before is None else bisect.bisect_left(keys, before)
        return [self.jobs[job_id].job for _, job_id in reversed(keys[max(0, end - limit) : end])]

    def _index(self, job: jobs_pb2.Job) -> None:
        keys = self._project_keys.setdefault(job.project_id, [])
        key = job_key(job)
        if not keys or keys[-1] < key:
            keys.append(key)  # the usual case: a new job is the newest
        else:
            bisect.insort(keys, key)

    def _unindex(self, job: jobs_pb2.Job) -> None:
        keys = self._project_keys.get(job.project_id, [])
        key = job_key(job)
        position = bisect.bisect_left(keys, key)
        if position < len(keys) and keys[position] == key:
            del keys[position]

    async def save_operation(self, operation: operation_pb2.Operation, job_id: str | None) -> None:
        """Insert or replace an operation."""
        self.operations[operation.id] = operation
        self.operation_jobs[operation.id] = job_id
        await self._execute(
            "INSERT OR REPLACE INTO operations VALUES (?, ?, ?)",
            (operation.id, job_id, operation.SerializeToString()),
        )

    async def record_blob(self, sha256: str, size: int, stored_at: float) -> None:
        """Note a stored file."""
        await self._execute("INSERT OR REPLACE INTO blobs VALUES (?, ?, ?)", (sha256, size, stored_at))

    async def forget_blobs(self, digests: list[str]) -> None:
        """Drop stored-file rows."""
        for digest in digests:
            await self._execute("DELETE FROM blobs WHERE sha256 = ?", (digest,))

    async def blob_digests(self) -> list[str]:
        """Every stored file's sha256."""
        rows: list[tuple[Any, ...]] = await self._run(self._fetch, "SELECT sha256 FROM blobs")
        return [str(row[0]) for row in rows]

    def _connect(self) -> sqlite3.Connection:
        return open_shared_database(self._path, _SCHEMA)

    def _fetch(self, query: str) -> list[tuple[Any, ...]]:
        assert self._db is not None
        return self._db.execute(query).fetchall()

    async def _execute(self, query: str, params: tuple[Any, ...]) -> None:
        def run() -> None:
            assert self._db is not None, "state store is closed"
            self._db.execute(query, params)

        await self._run(run)

    async def _run(self, func: Any, *args: Any) -> _T:
        loop = asyncio.get_running_loop()
        result: _T = await loop.run_in_executor(self._writer, func, *args)
        return result
