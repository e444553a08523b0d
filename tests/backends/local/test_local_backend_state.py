"""The local backend's job state: keyset pages of a project's jobs, in order across changes and reopens."""

from __future__ import annotations

from pathlib import Path

from google.protobuf.timestamp_pb2 import Timestamp
from yandex.cloud.datasphere.v2.jobs import jobs_pb2

from dsjobs_lsp.backends.local.state import JobKey, JobRow, StateStore, job_key


def _job(job_id: str, project: str, seconds: int) -> jobs_pb2.Job:
    return jobs_pb2.Job(id=job_id, project_id=project, created_at=Timestamp(seconds=seconds))


def _all_pages(state: StateStore, project: str, size: int) -> list[str]:
    seen: list[str] = []
    before: JobKey | None = None
    while page := state.project_jobs(project, before=before, limit=size):
        seen += [job.id for job in page]
        before = job_key(page[-1])
    return seen


async def test_keyset_pages_return_every_job_once_newest_first(tmp_path: Path) -> None:
    state = StateStore(tmp_path / "state.sqlite3")
    await state.open()
    # Created out of order, some in the same second (the id breaks the tie), two projects mixed.
    jobs = [_job(f"j{i:02d}", "p1" if i % 3 else "p2", (i * 7) % 10) for i in range(30)]
    for job in jobs:
        await state.save_job(JobRow(job))
    await state.save_job(JobRow(jobs[4]))  # a status update: saved again, listed once
    await state.delete_job("j05")
    expected = sorted((job_key(j) for j in jobs if j.project_id == "p1" and j.id != "j05"), reverse=True)
    for size in (1, 3, 50):
        assert _all_pages(state, "p1", size) == [job_id for _, job_id in expected]
    await state.close()

    reopened = StateStore(tmp_path / "state.sqlite3")
    await reopened.open()
    assert _all_pages(reopened, "p1", 4) == [job_id for _, job_id in expected]
    assert len(_all_pages(reopened, "p2", 4)) == 10
    assert reopened.project_jobs("nobody", before=None, limit=5) == []
    await reopened.close()
