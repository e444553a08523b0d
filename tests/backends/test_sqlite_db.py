"""The shared SQLite opener: private files, WAL, and processes opening a new database together."""

from __future__ import annotations

import sqlite3
import stat
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

from dsjobs_lsp.backends.sqlite_db import open_shared_database, use_wal

_SCHEMA = "CREATE TABLE IF NOT EXISTS notes (text TEXT NOT NULL);"


def test_switching_to_wal_waits_out_a_lock_sqlite_reports_at_once(tmp_path: Path) -> None:
    """Two processes opening a new database together can get "database is locked" at once from SQLite (no
    busy wait); the switch to WAL tries again until the other one is done."""
    path = tmp_path / "cache.db"
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN EXCLUSIVE")
    threading.Timer(0.3, other.execute, ["COMMIT"]).start()
    impatient = sqlite3.connect(path, timeout=0, isolation_level=None)  # every lock conflict fails at once
    use_wal(impatient)
    assert impatient.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    impatient.close()
    other.close()


def test_processes_opening_a_new_database_together_all_get_it(tmp_path: Path) -> None:
    """Like a CLI run and the language server starting on a fresh machine: every opener gets the database
    and its write lands (it used to fail one of them with "database is locked")."""
    path = tmp_path / "state" / "shared.sqlite3"
    opener = textwrap.dedent(f"""
        import sys, time
        from pathlib import Path
        from dsjobs_lsp.backends.sqlite_db import open_shared_database
        time.sleep(max(0.0, float(sys.argv[2]) - time.time()))
        db = open_shared_database(Path({str(path)!r}), {_SCHEMA!r})
        db.execute("INSERT INTO notes VALUES (?)", (sys.argv[1],))
    """)
    for _ in range(5):  # the race is not won every time
        path.unlink(missing_ok=True)
        start_at = str(time.time() + 1.0)  # all together, once every interpreter has started
        procs = [subprocess.Popen([sys.executable, "-c", opener, str(i), start_at]) for i in range(6)]
        assert [p.wait(60) for p in procs] == [0] * 6
        db = open_shared_database(path, _SCHEMA)
        assert sorted(row[0] for row in db.execute("SELECT text FROM notes")) == [str(i) for i in range(6)]
        db.close()


def test_the_database_and_its_folder_are_private(tmp_path: Path) -> None:
    path = tmp_path / "wide" / "history.sqlite3"
    path.parent.mkdir(mode=0o755)
    path.touch(mode=0o644)
    db = open_shared_database(path, _SCHEMA)
    db.execute("INSERT INTO notes VALUES ('x')")
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in [path.parent, *path.parent.iterdir()]}
    db.close()
    assert modes == {
        "wide": 0o700,
        "history.sqlite3": 0o600,
        "history.sqlite3-wal": 0o600,
        "history.sqlite3-shm": 0o600,
    }
