"""A finished job's logs as files (stdout, stderr, system log): ``Job.log_files`` for DownloadJobFiles."""

from __future__ import annotations

from pathlib import Path

from .journal import KIND_ERR, KIND_OUT, KIND_SYSTEM, read_records

LOG_FILE_NAMES = {KIND_OUT: "stdout.txt", KIND_ERR: "stderr.txt", KIND_SYSTEM: "system.log"}
"""The name of each log file, by journal record kind."""


def split_journal(journal: Path, target: Path) -> list[tuple[str, Path]]:
    """Write the journal's lines into one file per stream under ``target`` (blocking); (name, path) pairs."""
    target.mkdir(parents=True, exist_ok=True)
    paths = {kind: target / name for kind, name in LOG_FILE_NAMES.items()}
    handles = {kind: open(path, "wb") for kind, path in paths.items()}  # noqa: SIM115 - closed below
    try:
        offset = 0
        while True:
            records, offset = read_records(journal, offset)
            if not records:
                break
            for record in records:
                handles[record.kind].write(record.content)
    finally:
        for handle in handles.values():
            handle.close()
    return [(LOG_FILE_NAMES[kind], path) for kind, path in paths.items()]
