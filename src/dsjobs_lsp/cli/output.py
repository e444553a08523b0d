"""`--format table|json` output of jobs and execution data, field for field like the reference CLI."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TextIO

from google.protobuf.timestamp_pb2 import Timestamp
from yandex.cloud.datasphere.v2.jobs import jobs_pb2

OutputFormat = Literal["table", "json"]


@dataclass(frozen=True)
class Field:
    """One output column: how to read it, its JSON name and its table title."""

    fetch: Callable[[Any], Any]
    name: str
    title: str


JOB_FIELDS: tuple[Field, ...] = (
    Field(lambda job: job.id, "id", "ID"),
    Field(lambda job: job.name, "name", "Name"),
    Field(lambda job: job.desc, "desc", "Description"),
    Field(lambda job: job.created_at, "created_at", "Created at"),
    Field(lambda job: job.finished_at, "finished_at", "Finished at"),
    Field(lambda job: jobs_pb2.JobStatus.Name(job.status), "status", "Status"),
    Field(lambda job: job.created_by_id, "created_by", "Created by"),
    Field(lambda job: job.data_cleared, "data_cleared", "Data cleared"),
    Field(
        lambda job: job.data_expires_at if job.HasField("data_expires_at") else "Never",
        "data_expired_at",
        "Data expires at",
    ),
)


@dataclass(frozen=True)
class ExecutionData:
    """What `execute --async -o FILE` writes: the job and the operation that runs it."""

    job_id: str
    operation_id: str


EXECUTION_FIELDS: tuple[Field, ...] = (
    Field(lambda ed: ed.job_id, "job_id", "Job ID"),
    Field(lambda ed: ed.operation_id, "operation_id", "Operation ID"),
)


def write_entities(
    entities: Sequence[Any], fields: Sequence[Field], target: TextIO, fmt: OutputFormat
) -> None:
    """Print entities as a table or as JSON (one entity: an object, several: a list)."""
    rows = [[_plain(field.fetch(entity)) for field in fields] for entity in entities]
    text = format_table(rows, fields) if fmt == "table" else format_json(rows, fields)
    print(text, file=target)


def format_table(rows: Sequence[Sequence[Any]], fields: Sequence[Field]) -> str:
    """The reference's table: tabulate's default layout ("simple"), byte for byte, by tabulate itself."""
    from tabulate import tabulate  # lazy: only table output pays for the import

    return tabulate(rows, headers=[field.title for field in fields])


def format_json(rows: Sequence[Sequence[Any]], fields: Sequence[Field]) -> str:
    """A JSON object per entity (a bare object when there is exactly one), indented by 4."""
    data: list[dict[str, Any]] = [
        {field.name: value for field, value in zip(fields, row, strict=True)} for row in rows
    ]
    return json.dumps(data[0] if len(data) == 1 else data, ensure_ascii=False, indent=4)


def format_timestamp(ts: Timestamp | None) -> str:
    """ISO time without zone, empty for an unset timestamp (as the reference prints them)."""
    if ts is None or (ts.seconds == 0 and ts.nanos == 0):
        return ""
    return str(ts.ToDatetime().isoformat())


def _plain(value: Any) -> Any:
    return format_timestamp(value) if isinstance(value, Timestamp) else value
