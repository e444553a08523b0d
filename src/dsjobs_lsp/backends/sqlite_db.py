"""Opening an SQLite database that several processes share: private files, WAL, a busy timeout.

The launch history, the digest cache, the local backend's state and its dataset registry all open their
database this way (blocking; callers on the event loop go through a worker thread).
"""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

from dsjobs_lsp.backends.private_files import PRIVATE_FILE_MODE, private_dir, private_file

BUSY_TIMEOUT_SECONDS = 30.0
WAL_SWITCH_SECONDS = 10.0
SIDE_FILE_SUFFIXES = ("-wal", "-shm", "-journal")


def open_shared_database(path: Path, schema: str, *, synchronous: str = "NORMAL") -> sqlite3.Connection:
    """Open (creating if needed) the database at ``path`` for use from any thread, in autocommit mode.

    The folder is made 0700 and the database files 0600 before SQLite opens them; the journal is WAL, so
    readers never wait for a writer; ``schema`` (``CREATE ... IF NOT EXISTS`` statements) is applied.
    """
    private_database_files(path)
    db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_SECONDS, check_same_thread=False, isolation_level=None)
    try:
        use_wal(db)
        db.execute(f"PRAGMA synchronous={synchronous}")
        db.executescript(schema)
    except BaseException:
        db.close()
        raise
    return db


def use_wal(db: sqlite3.Connection) -> None:
    """Switch ``db`` to WAL mode. Two processes opening the same new database at once may make SQLite answer
    "database is locked" at once, without waiting its busy timeout (a lock upgrade that could deadlock):
    try again for a while."""
    deadline = time.monotonic() + WAL_SWITCH_SECONDS
    while True:
        try:
            db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def private_database_files(path: Path) -> Path:
    """Make the database at ``path`` 0600 in a 0700 folder before it is opened: created empty with that mode
    when missing (SQLite gives its -wal/-shm files the database's mode), restricted when it exists."""
    private_dir(path.parent)
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, PRIVATE_FILE_MODE))
    for suffix in ("", *SIDE_FILE_SUFFIXES):
        try:
            private_file(path.with_name(path.name + suffix))
        except FileNotFoundError:
            continue
    return path
