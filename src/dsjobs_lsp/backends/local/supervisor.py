"""Process supervision of local jobs: spawn the wrapper, watch it, signal the job, reap it, adopt it again.

Each job runs under ``wrapper.py`` (see there: a guard process that is a child subreaper ends everything the
command left running when its main process exits, and dies with the wrapper). The wrapper runs in a session
of its own so that it outlives this server; a restarted server re-adopts it from the files it writes in the
job dir: ``job.pid`` (the command's process group), ``exit_code`` (the exit code, and the reason when the
wrapper ended the job itself) and ``cancel_deadline`` (when a graceful cancel turns into SIGKILL).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from . import wrapper

ADOPTED_POLL_SECONDS = 0.05
PID_WAIT_SECONDS = 2.0
EXIT_FILE = "exit_code"
PID_FILE = "job.pid"
DEADLINE_FILE = "cancel_deadline"
WRAPPER_LOG = "wrapper.log"


@dataclass(frozen=True)
class JobExit:
    """How a job's command ended: its exit code (None when unknown) and why, when the wrapper says."""

    code: int | None
    reason: str = ""

    def describe(self) -> str:
        """One sentence for the job's status details."""
        if self.reason:
            return self.reason
        if self.code is None:
            return "the job's exit code is unknown"
        return describe_exit(self.code)


def describe_exit(code: int) -> str:
    """``the job exited with code N`` or ``the job was killed by signal NAME``."""
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"the job was killed by signal {signal.Signals(-code).name}"
        return f"the job was killed by signal {-code}"
    return f"the job exited with code {code}"


def read_exit(path: Path) -> JobExit | None:
    """The wrapper's record of the job's end, or None when it wrote none."""
    try:
        code_line, _, reason = path.read_text().partition("\n")
        return JobExit(int(code_line.strip()), reason.strip())
    except (OSError, ValueError):
        return None


def _read_int(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def process_alive(pid: int | None, expected_arg: str) -> bool:
    """Whether ``pid`` lives and is the process started with ``expected_arg`` (guards against pid reuse)."""
    if not pid:
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return expected_arg.encode() in cmdline


def deferring_signal(command: str, signal_number: int) -> str:
    """``command`` (a ``/bin/sh -c`` script) whose shell outlives ``signal_number`` until its program ends.

    A graceful cancel signals the whole process group. The shell running ``cmd`` would die of the signal at
    once, the job's main process would be gone, and the guard would kill the program before its handler ran
    (dash does not ``exec`` a lone command). With a trap, the shell waits for the program it runs, then exits
    with that program's code; the program itself gets the signal as usual.
    """
    return f"trap 'exit $?' {int(signal_number)}\n{command}"


def kill_group(pid: int, signal_number: int) -> None:
    """Signal the process group ``pid`` leads (gone or foreign groups are ignored).

    A job's command always leads a group of its own; a pid that names no such group (0, 1, or this server's
    own group, from a damaged pid file) is never signalled, or the server and its caller would be stopped.
    """
    if pid <= 1 or pid == os.getpgrp():
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal_number)


def group_alive(pid: int) -> bool:
    """Whether any process of the group ``pid`` is left (a zombie leader counts until reaped)."""
    try:
        os.killpg(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


@dataclass
class _LiveWrapper:
    """A wrapper this server started: its ``Popen`` and the pipe of its one-byte "new line" ticks.

    Not an asyncio subprocess: closing one of those kills the child, and the wrapper must outlive the
    server so that a restarted server can re-adopt the job.
    """

    popen: subprocess.Popen[bytes]
    ticks: asyncio.StreamReader
    transport: asyncio.BaseTransport


class Supervisor:
    """Starts, watches, signals and re-adopts the job processes of one data dir's jobs."""

    def __init__(self, job_dir: Callable[[str], Path]) -> None:
        self._job_dir = job_dir
        self._live: dict[str, _LiveWrapper] = {}

    async def spawn(
        self, job_id: str, journal: Path, command: str, env: dict[str, str], work_dir: Path
    ) -> int:
        """Start ``/bin/sh -c command`` under a wrapper in ``work_dir``; returns the wrapper's pid."""
        job_dir = self._job_dir(job_id)
        argv = [
            sys.executable,
            wrapper.__file__,
            str(journal),
            str(job_dir / EXIT_FILE),
            str(job_dir / PID_FILE),
            "--",
            "/bin/sh",
            "-c",
            command,
        ]
        read_fd, write_fd = os.pipe()

        def start() -> subprocess.Popen[bytes]:
            with open(job_dir / WRAPPER_LOG, "ab") as log_file:
                return subprocess.Popen(
                    argv,
                    cwd=work_dir,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=write_fd,
                    stderr=log_file,
                    start_new_session=True,
                )

        try:
            popen = await asyncio.to_thread(start)
        except BaseException:
            os.close(read_fd)
            raise
        finally:
            os.close(write_fd)
        ticks = asyncio.StreamReader()
        transport, _ = await asyncio.get_running_loop().connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(ticks), os.fdopen(read_fd, "rb", buffering=0)
        )
        self._live[job_id] = _LiveWrapper(popen, ticks, transport)
        return popen.pid

    def is_running(self, job_id: str, wrapper_pid: int | None) -> bool:
        """Whether the job's wrapper is alive (or has left its exit record)."""
        exit_file = self._job_dir(job_id) / EXIT_FILE
        return exit_file.exists() or process_alive(wrapper_pid, str(exit_file))

    async def wait(self, job_id: str, wrapper_pid: int | None, on_output: Callable[[], None]) -> JobExit:
        """Wait until the job's wrapper ends (calling ``on_output`` as lines arrive); how the job ended."""
        live = self._live.get(job_id)
        if live is not None:
            while await live.ticks.read(65536):
                on_output()
            wrapper_code = await asyncio.to_thread(live.popen.wait)
            live.transport.close()
            self._live.pop(job_id, None)
        else:
            await self._poll_adopted(job_id, wrapper_pid, on_output)
            wrapper_code = None
        on_output()
        recorded = await asyncio.to_thread(read_exit, self._job_dir(job_id) / EXIT_FILE)
        if recorded is not None:
            return recorded
        self.kill(job_id, wrapper_pid)  # the guard has done this already; make sure
        return JobExit(None, _lost_wrapper_reason(wrapper_code, self._job_dir(job_id)))

    async def _poll_adopted(
        self, job_id: str, wrapper_pid: int | None, on_output: Callable[[], None]
    ) -> None:
        exit_file = self._job_dir(job_id) / EXIT_FILE
        journal = self._job_dir(job_id) / "journal.bin"
        size = await asyncio.to_thread(_size, journal)
        while not exit_file.exists() and process_alive(wrapper_pid, str(exit_file)):
            await asyncio.sleep(ADOPTED_POLL_SECONDS)
            new_size = await asyncio.to_thread(_size, journal)
            if new_size != size:
                size = new_size
                on_output()

    async def job_pid(self, job_id: str) -> int | None:
        """The pid (= process group) of the job's command, once the wrapper has started it."""
        job_dir = self._job_dir(job_id)
        deadline = time.monotonic() + PID_WAIT_SECONDS
        while time.monotonic() < deadline:
            pid = await asyncio.to_thread(_read_int, job_dir / PID_FILE)
            if pid is not None:
                return pid
            if (job_dir / EXIT_FILE).exists():
                return None
            await asyncio.sleep(0.02)
        return None

    def signal(self, job_id: str, signal_number: int) -> None:
        """Send a signal to the job command's process group (what it left running is stopped at its end)."""
        pid = _read_int(self._job_dir(job_id) / PID_FILE)
        if pid is not None:
            kill_group(pid, signal_number)

    def kill(self, job_id: str, wrapper_pid: int | None) -> None:
        """SIGKILL the job: its process group, and through its wrapper (``SIGUSR1``) everything else."""
        self.signal(job_id, signal.SIGKILL)
        self._signal_wrapper(job_id, wrapper_pid, signal.SIGUSR1)

    def kill_wrapper(self, job_id: str, wrapper_pid: int | None) -> None:
        """Kill the job's wrapper and so every process of the job (after a restart that cannot adopt it)."""
        self.signal(job_id, signal.SIGKILL)
        self._signal_wrapper(job_id, wrapper_pid, signal.SIGKILL)

    def _signal_wrapper(self, job_id: str, wrapper_pid: int | None, signal_number: int) -> None:
        if wrapper_pid and process_alive(wrapper_pid, str(self._job_dir(job_id) / EXIT_FILE)):
            with contextlib.suppress(ProcessLookupError):
                os.kill(wrapper_pid, signal_number)

    async def stop_gracefully(
        self,
        job_id: str,
        wrapper_pid: int | None,
        signal_number: int,
        grace: float,
        is_finished: Callable[[], bool],
    ) -> bool:
        """Signal the job, then SIGKILL it ``grace`` s later unless it ended; True when it had to be killed.

        The deadline is kept in the job dir first, so a restarted server still kills at the same time.
        """
        deadline = time.time() + grace
        with contextlib.suppress(OSError):  # a full disk must not stop a cancel
            await asyncio.to_thread(_write_text, self._job_dir(job_id) / DEADLINE_FILE, f"{deadline}\n")
        pid = await self.job_pid(job_id)  # a job that has just been started may not have written it yet
        if pid is not None:
            kill_group(pid, signal_number)
        return await self.kill_at_deadline(job_id, wrapper_pid, deadline, is_finished)

    def cancel_deadline(self, job_id: str) -> float | None:
        """The persisted time of a graceful cancel's SIGKILL, if one is pending."""
        try:
            return float((self._job_dir(job_id) / DEADLINE_FILE).read_text().strip())
        except (OSError, ValueError):
            return None

    async def kill_at_deadline(
        self, job_id: str, wrapper_pid: int | None, deadline: float, is_finished: Callable[[], bool]
    ) -> bool:
        """Wait until ``deadline`` (unix time) or the job's end; SIGKILL it if it runs on (then True)."""
        pid = await self.job_pid(job_id)  # None: the job ended, or its pid file could not be written

        def running() -> bool:
            return not is_finished() and (pid is None or group_alive(pid))

        # No event tells when a process group is gone: poll briefly.
        while running() and time.time() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        if not running():
            return False
        self.kill(job_id, wrapper_pid)
        return True

    def close(self) -> None:
        """Stop watching (the wrappers keep running and are re-adopted by the next server)."""
        for live in self._live.values():
            live.transport.close()
        self._live.clear()


def _lost_wrapper_reason(wrapper_code: int | None, job_dir: Path) -> str:
    if wrapper_code == wrapper.JOURNAL_FAILED_EXIT:
        return f"the job's logs could not be written: {_disk_state(job_dir)}"
    if wrapper_code is not None and wrapper_code < 0:
        return (
            f"the job's wrapper process was killed ({describe_exit(wrapper_code).split('by ')[-1]}); "
            "the job's processes were stopped"
        )
    return (
        "the job's wrapper ended without recording an exit code; the job's processes were stopped "
        f"({_disk_state(job_dir)})"
    )


def _disk_state(job_dir: Path) -> str:
    try:
        stats = os.statvfs(job_dir)
    except OSError as error:
        return f"the job dir is unreadable: {error}"
    free = stats.f_bavail * stats.f_frsize
    if free < 1 << 20:
        return f"no space left on the device of {job_dir.parent.parent} ({free} bytes free)"
    return f"{free >> 20} MiB free on the device of {job_dir.parent.parent}"


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _write_text(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
