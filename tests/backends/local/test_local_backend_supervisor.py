"""Signals of the local backend's supervisor never reach the server's own process group."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from dsjobs_lsp.backends.local.supervisor import group_alive, kill_group


def test_a_damaged_pid_never_signals_the_servers_own_group() -> None:
    """A pid file reading 0 or the server's group id must not stop the server and whoever started it."""
    received: list[int] = []
    previous = signal.signal(signal.SIGUSR1, lambda number, _frame: received.append(number))
    try:
        kill_group(0, signal.SIGUSR1)
        kill_group(os.getpgrp(), signal.SIGUSR1)
        kill_group(1, signal.SIGUSR1)
    finally:
        signal.signal(signal.SIGUSR1, previous)
    assert received == []


def test_a_jobs_own_group_is_signalled() -> None:
    """A job's command leads its own group: that group is what a cancel signals."""
    job = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True)
    try:
        assert group_alive(job.pid)
        kill_group(job.pid, signal.SIGKILL)
        assert job.wait(timeout=10) == -signal.SIGKILL
    finally:
        if job.poll() is None:
            job.kill()
            job.wait()
