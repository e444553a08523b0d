"""Backend messages (`jobs_pb2.Job`, operation metadata) → our `JobRecord`."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from google.protobuf.timestamp_pb2 import Timestamp
from yandex.cloud.datasphere.v2.jobs import jobs_pb2

from dsjobs_lsp.backends.endpoints import BackendKind
from dsjobs_lsp.core.jobs.models import JobRecord, JobStatus

_EPOCH = datetime(1970, 1, 1)


def naive_utc(ts: Timestamp) -> datetime | None:
    """A naive UTC datetime (microseconds truncated, as `Timestamp.ToDatetime()` gives it, in a fifth of
    its time: a job list converts three timestamps a job), None for an unset timestamp."""
    if ts.seconds == 0 and ts.nanos == 0:
        return None
    return _EPOCH + timedelta(seconds=ts.seconds, microseconds=ts.nanos // 1000)


def timestamp(ts: Timestamp) -> datetime | None:
    """An aware UTC datetime, None for an unset timestamp."""
    naive = naive_utc(ts)
    return None if naive is None else naive.replace(tzinfo=timezone.utc)


_STATUS_OF_NUMBER = {jobs_pb2.JobStatus.Value(status.value): status for status in JobStatus}


def status_of(job: jobs_pb2.Job) -> JobStatus:
    """The job's status by name."""
    known = _STATUS_OF_NUMBER.get(job.status)
    return known if known is not None else JobStatus(jobs_pb2.JobStatus.Name(job.status))


def record_from_job(job: jobs_pb2.Job, *, backend: BackendKind) -> JobRecord:
    """What the backend says about a job, as a history record (local fields left empty)."""
    return JobRecord(
        id=job.id,
        backend=backend,
        project_id=job.project_id,
        name=job.name or None,
        desc=job.desc or None,
        status=status_of(job),
        status_details=job.status_details,
        created_at=timestamp(job.created_at),
        started_at=timestamp(job.started_at),
        finished_at=timestamp(job.finished_at),
    )


def refresh(record: JobRecord, job: jobs_pb2.Job) -> JobRecord:
    """`record` with the backend-owned fields taken from `job`."""
    return record.model_copy(
        update={
            "status": status_of(job),
            "status_details": job.status_details,
            "name": job.name or record.name,
            "desc": job.desc or record.desc,
            "created_at": record.created_at or timestamp(job.created_at),
            "started_at": timestamp(job.started_at) or record.started_at,
            "finished_at": timestamp(job.finished_at) or record.finished_at,
        }
    )


def now() -> datetime:
    """The current time, aware UTC."""
    return datetime.now(timezone.utc)
