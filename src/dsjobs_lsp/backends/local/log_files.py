"""A finished job's logs as stored files (stdout, stderr, system log): ``Job.log_files``, for
DownloadJobFiles."""

from __future__ import annotations

import contextlib
from pathlib import Path

from .blobs import BlobStore
from .journal import KIND_ERR, KIND_OUT, KIND_SYSTEM, read_records

LOG_FILE_NAMES = {KIND_OUT: "stdout.txt", KIND_ERR: "stderr.txt", KIND_SYSTEM: "system.log"}
"""The name of each log file, by journal record kind."""


def store_log_files(journal: Path, store: BlobStore) -> list[tuple[str, str, int]]:
    """Write the journal's lines into one stored file per stream (blocking): (name, sha256, size) of each.
    The journal is read once; each file is hashed as it is written and moved into the store as it is."""
    with contextlib.ExitStack() as stack:
        writers = {kind: stack.enter_context(store.writer()) for kind in LOG_FILE_NAMES}
        offset = 0
        while True:
            records, offset = read_records(journal, offset)
            if not records:
                break
            for record in records:
                writers[record.kind].write(record.content)
        return [(LOG_FILE_NAMES[kind], *writer.commit()) for kind, writer in writers.items()]
