"""Job wrapper: runs one job command, journals its output, and records its exit code.

Runs as a standalone script (stdlib only, no package imports) so it starts fast and outlives the server:
the server starts it in a session of its own, and a restarted server re-adopts the job from the files it
writes. Usage::

    python wrapper.py JOURNAL EXIT_FILE PID_FILE -- ARGV...

What one read of the job's stdout or stderr gives becomes one journal record (see ``encode_record``): the
complete lines it ends, the last partial line waiting for the next read (a line longer than ``MAX_LINE`` is
cut). A record is written with a single ``write`` on an ``O_APPEND`` descriptor; after each record one byte
goes to this process's stdout so a live server wakes its log readers at once (a server that went away is
ignored).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import struct
import subprocess
import sys
import threading
import time
from typing import BinaryIO

RECORD_HEADER = struct.Struct("<BdI")
"""Journal record header: kind (1 = stdout, 2 = stderr, 3 = system), created_at (unix seconds), length."""

KIND_OUT = 1
KIND_ERR = 2
KIND_SYSTEM = 3
MAX_LINE = 1 << 20
READ_SIZE = 1 << 19  # records stay within the log readers' 1 MiB window
PIPE_SIZE = 1 << 20


def encode_record(kind: int, created_at: float, content: bytes) -> bytes:
    """One journal record: header followed by the content (one or more whole lines)."""
    return RECORD_HEADER.pack(kind, created_at, len(content)) + content


def _write_atomically(path: str, text: str) -> None:
    tmp = f"{path}.tmp"
    with open(tmp, "w") as file:
        file.write(text)
    os.replace(tmp, path)


class _Journal:
    def __init__(self, path: str) -> None:
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        self._lock = threading.Lock()
        self._server_alive = True

    def append(self, kind: int, line: bytes) -> None:
        with self._lock:
            os.write(self._fd, encode_record(kind, time.time(), line))
            if self._server_alive:
                try:
                    os.write(1, b".")
                except OSError:
                    self._server_alive = False


def _widen(fd: int) -> None:
    """Let the pipe hold ``PIPE_SIZE`` bytes (Linux): one read takes what a chatty job wrote meanwhile."""
    with contextlib.suppress(AttributeError, OSError):
        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_SIZE)


def _pump(stream: BinaryIO, kind: int, journal: _Journal) -> None:
    """Journal the stream read by read: one record per read holding the lines it completed."""
    fd = stream.fileno()
    _widen(fd)
    pending = b""
    while data := os.read(fd, READ_SIZE):
        pending += data
        cut = pending.rfind(b"\n") + 1
        if cut == 0 and len(pending) >= MAX_LINE:
            cut = len(pending)
        if cut:
            journal.append(kind, pending[:cut])
            pending = pending[cut:]
    if pending:
        journal.append(kind, pending)


def main(argv: list[str]) -> int:
    """Run the command after ``--``; return 0 once its exit code is recorded."""
    journal_path, exit_path, pid_path, separator, *command = argv
    if separator != "--" or not command:
        print("usage: wrapper.py JOURNAL EXIT_FILE PID_FILE -- ARGV...", file=sys.stderr)
        return 2
    # The server signals the job's own process group; stray terminal signals must not kill the wrapper.
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda *_: None)
    journal = _Journal(journal_path)
    try:
        child = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
    except OSError as exc:
        journal.append(KIND_SYSTEM, f"cannot start the job command: {exc}\n".encode())
        _write_atomically(exit_path, "127\n")
        return 0
    _write_atomically(pid_path, f"{child.pid}\n")
    assert child.stdout is not None and child.stderr is not None
    pumps = [
        threading.Thread(target=_pump, args=(child.stdout, KIND_OUT, journal)),
        threading.Thread(target=_pump, args=(child.stderr, KIND_ERR, journal)),
    ]
    for pump in pumps:
        pump.start()
    code = child.wait()
    for pump in pumps:
        # A daemonised grandchild may hold the pipes open forever; the job itself is over.
        pump.join(timeout=5)
    _write_atomically(exit_path, f"{code}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
