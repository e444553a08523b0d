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

Process handling, as a job container would have it: the wrapper forks a *guard* that is a child subreaper
(``PR_SET_CHILD_SUBREAPER``) and starts the command in a process group of its own. The job ends when the
command's main process exits: the guard then kills every process the command left behind (a background child,
a grandchild that called ``setsid``: all of them are re-parented to the guard) and reports the main process's
status. The guard gets ``SIGTERM`` when the wrapper dies (``PR_SET_PDEATHSIG``), so a wrapper killed with
``kill -9`` takes the job's processes with it. A journal that cannot be written (a full disk) stops the job.

``EXIT_FILE`` holds the exit code (negative: killed by that signal) and, on a second line, why the wrapper
ended the job, if it did.
"""

from __future__ import annotations

import contextlib
import ctypes
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
PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
JOURNAL_FAILED_EXIT = 74
"""The wrapper's own exit code when it could not record the job's end (the exit file could not be written)."""


def encode_record(kind: int, created_at: float, content: bytes) -> bytes:
    """One journal record: header followed by the content (one or more whole lines)."""
    return RECORD_HEADER.pack(kind, created_at, len(content)) + content


def _write_atomically(path: str, text: str) -> None:
    tmp = f"{path}.tmp"
    with open(tmp, "w") as file:
        file.write(text)
    os.replace(tmp, path)


def _prctl(option: int, value: int) -> bool:
    libc = ctypes.CDLL(None, use_errno=True)
    return int(libc.prctl(option, value, 0, 0, 0)) == 0


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


class _JobStop:
    """Stops the job through its guard: on the server's ``SIGUSR1``, or when the journal cannot be written."""

    def __init__(self, guard_pid: int) -> None:
        self._guard_pid = guard_pid
        self._lock = threading.Lock()
        self.reason = ""

    def stop(self, reason: str = "") -> None:
        with self._lock:
            if reason and not self.reason:
                self.reason = reason
        with contextlib.suppress(ProcessLookupError):
            os.kill(self._guard_pid, signal.SIGTERM)


def _widen(fd: int) -> None:
    """Let the pipe hold ``PIPE_SIZE`` bytes (Linux): one read takes what a chatty job wrote meanwhile."""
    with contextlib.suppress(AttributeError, OSError):
        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_SIZE)


def _pump(stream: BinaryIO, kind: int, journal: _Journal, stop: _JobStop) -> None:
    """Journal the stream read by read: one record per read holding the lines it completed."""
    fd = stream.fileno()
    _widen(fd)
    pending = b""
    while data := os.read(fd, READ_SIZE):
        if stop.reason:
            continue  # the journal failed: keep draining so the job's writes never block
        pending += data
        cut = pending.rfind(b"\n") + 1
        if cut == 0 and len(pending) >= MAX_LINE:
            cut = len(pending)
        if cut:
            _append(journal, kind, pending[:cut], stop)
            pending = pending[cut:]
    if pending and not stop.reason:
        _append(journal, kind, pending, stop)


def _append(journal: _Journal, kind: int, content: bytes, stop: _JobStop) -> None:
    try:
        journal.append(kind, content)
    except OSError as error:
        stop.stop(f"the job's log could not be written: {error}")


def _descendants(root: int) -> list[int]:
    """Every live process below ``root`` (by the parent pids in ``/proc``)."""
    children: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as stat:
                fields = stat.read().rpartition(b")")[2].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(name))
    found: list[int] = []
    pending = [root]
    while pending:
        for child in children.get(pending.pop(), []):
            found.append(child)
            pending.append(child)
    return found


def _kill_descendants() -> None:
    """Kill and reap every process below this one (a subreaper: orphans of the job come back to it)."""
    me = os.getpid()
    while True:
        for pid in _descendants(me):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        try:
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
        except ChildProcessError:
            return
        time.sleep(0.01)


def _stop_guard(*_: object) -> None:
    """The guard's SIGTERM handler (the wrapper died or gave up on the job): stop the job, then exit."""
    _kill_descendants()
    os._exit(1)


def _guard(
    command: list[str], wrapper_pid: int, out_fd: int, err_fd: int, status_fd: int, pid_path: str
) -> None:
    """The guard (the forked child): start the command, wait for it, stop what it left; never returns."""
    try:
        signal.signal(signal.SIGTERM, _stop_guard)
        _prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != wrapper_pid:  # the wrapper died before the death signal was armed
            return
        _prctl(PR_SET_CHILD_SUBREAPER, 1)
        code = _run_command(command, out_fd, err_fd, pid_path)
        _kill_descendants()
        os.write(status_fd, f"{code}\n".encode())
    finally:
        _kill_descendants()
        os._exit(0)


def _run_command(command: list[str], out_fd: int, err_fd: int, pid_path: str) -> int:
    """Start the command in a process group of its own and wait for it; its exit code."""
    try:
        child = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=out_fd,
            stderr=err_fd,
            start_new_session=True,
            preexec_fn=lambda: _prctl(PR_SET_PDEATHSIG, signal.SIGKILL),
        )
    except OSError as exc:
        os.write(err_fd, f"cannot start the job command: {exc}\n".encode())
        return 127
    finally:
        os.close(out_fd)
        os.close(err_fd)
    with contextlib.suppress(OSError):  # a full disk: the server then stops the job through the wrapper
        _write_atomically(pid_path, f"{child.pid}\n")
    _, status = os.waitpid(child.pid, 0)
    return os.waitstatus_to_exitcode(status)


def _read_all(fd: int) -> str:
    chunks = []
    while chunk := os.read(fd, 4096):
        chunks.append(chunk)
    os.close(fd)
    return b"".join(chunks).decode()


def main(argv: list[str]) -> int:
    """Run the command after ``--``; return 0 once its exit code is recorded."""
    journal_path, exit_path, pid_path, separator, *command = argv
    if separator != "--" or not command:
        print("usage: wrapper.py JOURNAL EXIT_FILE PID_FILE -- ARGV...", file=sys.stderr)
        return 2
    # The server signals the job's own process group (or SIGUSR1 here: stop the job); stray terminal
    # signals must not kill the wrapper.
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda *_: None)
    journal = _Journal(journal_path)
    out_read, out_write = os.pipe()
    err_read, err_write = os.pipe()
    status_read, status_write = os.pipe()
    wrapper_pid = os.getpid()
    guard_pid = os.fork()
    if guard_pid == 0:
        for fd in (out_read, err_read, status_read):
            os.close(fd)
        _guard(command, wrapper_pid, out_write, err_write, status_write, pid_path)
    for fd in (out_write, err_write, status_write):
        os.close(fd)
    stop = _JobStop(guard_pid)
    signal.signal(signal.SIGUSR1, lambda *_: stop.stop())
    pumps = [
        threading.Thread(target=_pump, args=(os.fdopen(f, "rb"), kind, journal, stop), daemon=True)
        for f, kind in ((out_read, KIND_OUT), (err_read, KIND_ERR))
    ]
    for pump in pumps:
        pump.start()
    reported = _read_all(status_read).strip()
    os.waitpid(guard_pid, 0)
    for pump in pumps:
        pump.join(timeout=5)  # every process of the job is gone; this only drains what is in the pipes
    code = int(reported) if reported else -int(signal.SIGKILL)
    try:
        _write_atomically(exit_path, f"{code}\n{stop.reason}\n")
    except OSError as error:
        with contextlib.suppress(OSError):  # stderr is a file on the same full disk, likely
            print(f"cannot record the job's exit code {code}: {error}; {stop.reason}", file=sys.stderr)
        return JOURNAL_FAILED_EXIT
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
