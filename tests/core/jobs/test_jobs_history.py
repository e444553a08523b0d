"""Launch history in SQLite: persistence, ordering, merging with the backend's list, concurrent processes."""

from __future__ import annotations

import asyncio
import sqlite3
import sys
import textwrap
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from dsjobs_lsp.core.jobs.history import History
from dsjobs_lsp.core.jobs.models import JobRecord, JobStatus

T0 = datetime(2026, 11, 24, 10, 0, tzinfo=timezone.utc)


def record(job_id: str, minutes: int = 0, project: str = "p1", **fields: object) -> JobRecord:
    return JobRecord(
        id=job_id, backend="local", project_id=project, created_at=T0 + timedelta(minutes=minutes), **fields
    )  # type: ignore[arg-type]


async def test_records_survive_reopening_and_list_newest_first(tmp_path: Path) -> None:
    db = tmp_path / "h" / "history.sqlite3"
    history = History(db)
    await history.upsert(record("a", 1, working_dir="/w"))
    await history.upsert(record("b", 3))
    await history.upsert(record("c", 2, project="p2"))

    reopened = History(db)
    assert [r.id for r in await reopened.list()] == ["b", "c", "a"]
    assert [r.id for r in await reopened.list("p1")] == ["b", "a"]
    assert [r.id for r in await reopened.list(limit=1)] == ["b"]
    got = await reopened.get("a")
    assert got is not None and got.working_dir == "/w"
    assert await reopened.get("missing") is None


async def test_offset_never_goes_back_and_downloads_stay_done(tmp_path: Path) -> None:
    history = History(tmp_path / "history.sqlite3")
    await history.upsert(record("a", log_offset=500, outputs_downloaded=True))
    stored = await history.upsert(record("a", log_offset=100, status=JobStatus.SUCCESS))
    assert (stored.log_offset, stored.outputs_downloaded, stored.status) == (500, True, JobStatus.SUCCESS)
    updated = await history.update("a", log_offset=900)
    assert updated is not None and updated.log_offset == 900
    assert await history.update("unknown", log_offset=1) is None


async def test_merge_remote_adds_unknown_jobs_and_refreshes_known_ones(tmp_path: Path) -> None:
    history = History(tmp_path / "history.sqlite3")
    await history.upsert(record("mine", 1, working_dir="/proj", log_offset=42, status=JobStatus.EXECUTING))
    await history.merge_remote(
        [
            record("mine", 1, status=JobStatus.SUCCESS, status_details="done"),
            record("other", 5, name="from the web UI", status=JobStatus.ERROR),
        ]
    )
    mine = await history.get("mine")
    assert mine is not None
    assert (mine.status, mine.status_details, mine.working_dir, mine.log_offset) == (
        JobStatus.SUCCESS,
        "done",
        "/proj",
        42,
    )
    assert [r.id for r in await history.list()] == ["other", "mine"]

    await history.merge_remote([record("mine", 1, status=JobStatus.EXECUTING)])
    again = await history.get("mine")
    assert again is not None and again.status == JobStatus.SUCCESS, (
        "a finished job never goes back to running"
    )


async def test_a_long_list_merges_in_one_pass_and_knows_its_jobs(tmp_path: Path) -> None:
    history = History(tmp_path / "history.sqlite3")
    await history.upsert(record("j0700", 1, working_dir="/proj", status=JobStatus.EXECUTING))
    listed = [record(f"j{index:04d}", 1, status=JobStatus.SUCCESS) for index in range(1200)]

    stored = await history.merge_remote(iter(listed))  # more ids than one query of known rows takes

    assert len(stored) == 1200 and len(await history.list(limit=2000)) == 1200
    mine = await history.get("j0700")
    assert mine is not None and (mine.status, mine.working_dir) == (JobStatus.SUCCESS, "/proj")
    assert await history.known(["j0001", "j1199", "j1200", "elsewhere"]) == {"j0001", "j1199"}


async def test_concurrent_processes_lose_no_write(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite3"
    writer = textwrap.dedent(f"""
        import asyncio, sys
        from datetime import datetime, timezone
        from pathlib import Path
        from dsjobs_lsp.core.jobs.history import History
        from dsjobs_lsp.core.jobs.models import JobRecord

        async def main(prefix):
            history = History(Path({str(db)!r}))
            for i in range(40):
                await history.upsert(JobRecord(id=f"{{prefix}}{{i}}", backend="local", project_id="p",
                                               created_at=datetime.now(timezone.utc)))
                await history.update("shared", log_offset=i) if i else await history.upsert(
                    JobRecord(id="shared", backend="local", project_id="p"))
        asyncio.run(main(sys.argv[1]))
    """)
    procs = [await asyncio.create_subprocess_exec(sys.executable, "-c", writer, prefix) for prefix in "xyz"]
    assert [await asyncio.wait_for(p.wait(), 120) for p in procs] == [0, 0, 0]

    records = await History(db).list(limit=1000)
    ids = {r.id for r in records}
    assert {f"{p}{i}" for p in "xyz" for i in range(40)} <= ids
    shared = await History(db).get("shared")
    assert shared is not None and shared.log_offset == 39


async def test_a_history_opens_its_database_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # closing the last connection of a WAL database checkpoints it: a run's writes must not pay that each
    opened: list[object] = []
    connect = sqlite3.connect

    def counting_connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        opened.append(args[0])
        conn: sqlite3.Connection = connect(*args, **kwargs)
        return conn

    monkeypatch.setattr(sqlite3, "connect", counting_connect)
    history = History(tmp_path / "history.sqlite3")
    await history.upsert(record("a", 1))
    await history.update("a", log_offset=10)
    await history.merge_remote([record("b", 2)])
    assert [r.id for r in await history.list()] == ["b", "a"]
    assert len(opened) == 1
    history.close()
    assert [r.id for r in await History(tmp_path / "history.sqlite3").list()] == ["b", "a"]
