"""`--format table|json` output of jobs and execution data, field for field like the reference CLI."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TextIO

from google.protobuf.timestamp_pb2 import Timestamp
from yandex.cloud.datasphere.v2.jobs import jobs_pb2

from dsjobs_lsp.core.jobs.records import naive_utc

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
    """The reference's table: tabulate's default layout ("simple"), byte for byte.

    Tabulate guesses each column's type cell by cell (about 6 us a cell: 0.3 s for 5,000 jobs); a table
    whose columns are all plain text is laid out here the same way, anything else by tabulate itself.
    """
    headers = [field.title for field in fields]
    columns = _text_columns(rows, len(headers))
    if columns is None:
        from tabulate import tabulate  # lazy: only unusual tables pay for the import

        return tabulate(rows, headers=headers)
    return _simple_table(headers, columns)


# Characters a number can be written with, as tabulate recognises numbers (float(), int(), thousands
# separators, "inf", "nan", "infinity"): a cell with any other character is text to it.
_NUMBER_CHARS = frozenset("0123456789+-.,_ eEiInNfFtTyYaA")


def _text_columns(rows: Sequence[Sequence[Any]], width: int) -> list[list[str]] | None:
    """The cells column by column, stripped, when tabulate would align every column as text (left);
    None when a cell is not printable ASCII (wide characters, escape codes, line breaks), not a string or a
    bool, or a column might be numeric."""
    if not rows or any(len(row) != width for row in rows):
        return None
    columns: list[list[str]] = []
    for index in range(width):
        cells = [row[index] for row in rows]
        texts = [str(cell) if type(cell) is bool else cell for cell in cells]
        if not all(type(text) is str and text.isascii() and text.isprintable() for text in texts):
            return None
        if not all(type(cell) is bool or cell in ("", "True", "False") for cell in cells) and not any(
            _surely_text(text) for text in texts
        ):
            return None  # every value might be a number: tabulate decides the alignment
        columns.append([text.strip() for text in texts])
    return columns


def _surely_text(cell: str) -> bool:
    """Whether tabulate types this (printable ASCII) cell as text, never as a number."""
    return cell not in ("True", "False") and not _NUMBER_CHARS.issuperset(cell)


def _simple_table(headers: Sequence[str], columns: Sequence[Sequence[str]]) -> str:
    """Tabulate's "simple" layout of left-aligned columns: each at least its title + 2 wide, two spaces
    between columns, a dashed line under the titles, trailing spaces cut."""
    widths = [max(len(title) + 2, *map(len, cells)) for title, cells in zip(headers, columns, strict=True)]
    lines = [
        "  ".join(title.ljust(size) for title, size in zip(headers, widths, strict=True)).rstrip(),
        "  ".join("-" * size for size in widths),
    ]
    padded = [[cell.ljust(size) for cell in cells] for cells, size in zip(columns, widths, strict=True)]
    lines += ["  ".join(row).rstrip() for row in zip(*padded, strict=True)]
    return "\n".join(lines)


def format_json(rows: Sequence[Sequence[Any]], fields: Sequence[Field]) -> str:
    """A JSON object per entity (a bare object when there is exactly one), indented by 4."""
    data: list[dict[str, Any]] = [
        {field.name: value for field, value in zip(fields, row, strict=True)} for row in rows
    ]
    return json.dumps(data[0] if len(data) == 1 else data, ensure_ascii=False, indent=4)


def format_timestamp(ts: Timestamp | None) -> str:
    """ISO time without zone, empty for an unset timestamp (as the reference prints them)."""
    time = None if ts is None else naive_utc(ts)
    return "" if time is None else time.isoformat()


def _plain(value: Any) -> Any:
    return format_timestamp(value) if isinstance(value, Timestamp) else value
