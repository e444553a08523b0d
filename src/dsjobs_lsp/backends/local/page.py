"""The read-only HTML page of a local job (what "Open job" shows)."""

from __future__ import annotations

import html
from datetime import datetime, timezone

from google.protobuf import timestamp_pb2
from yandex.cloud.datasphere.v2.jobs import jobs_pb2

from .journal import KIND_ERR, KIND_OUT, LogRecord

LAST_LINES = 50
_STREAM_NAMES = {KIND_OUT: "out", KIND_ERR: "err"}


def _time(stamp: timestamp_pb2.Timestamp) -> str:
    if stamp.seconds == 0 and stamp.nanos == 0:
        return "—"
    return datetime.fromtimestamp(stamp.ToNanoseconds() / 1e9, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def render_job_page(job: jobs_pb2.Job, records: list[LogRecord], return_code: int | None) -> str:
    """A small self-contained HTML page: status, times, exit code, the last log lines."""
    status = jobs_pb2.JobStatus.Name(job.status)
    rows = [
        ("Job", job.id),
        ("Name", job.name or "—"),
        ("Project", job.project_id),
        ("Status", status),
        ("Details", job.status_details or "—"),
        ("Created", _time(job.created_at)),
        ("Started", _time(job.started_at)),
        ("Finished", _time(job.finished_at)),
        ("Exit code", "—" if return_code is None else str(return_code)),
        ("Data expires", "cleared" if job.data_cleared else _time(job.data_expires_at)),
    ]
    table = "\n".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in rows)
    lines = "\n".join(
        f"[{_STREAM_NAMES.get(r.kind, 'sys')}] {html.escape(r.content.decode('utf-8', 'replace').rstrip())}"
        for r in records[-LAST_LINES:]
    )
    refresh = (
        ""
        if job.status in (jobs_pb2.SUCCESS, jobs_pb2.ERROR, jobs_pb2.CANCELLED)
        else '<meta http-equiv="refresh" content="3">'
    )
    return f"""<!doctype html>
<html><head><meta charset="utf-8">{refresh}<title>{html.escape(job.name or job.id)} — {status}</title>
<style>body{{font-family:sans-serif;margin:2em}}th{{text-align:left;padding-right:1em}}
pre{{background:#f4f4f4;padding:1em;overflow:auto}}</style></head>
<body><h1>Local DataSphere job</h1><table>
{table}
</table><h2>Last log lines</h2><pre>{lines}</pre></body></html>
"""
