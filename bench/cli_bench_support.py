"""What the CLI benches share: a local backend daemon, projects, timed runs of `dsjobs` and `datasphere`.

A run is a real process (the `dsjobs` console script through this Python, or the reference CLI through
`tests/support/reference_cli.py`), its stdout written to a file; the daemon is the one `dsjobs` itself starts.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.support.local_backend import isolated_env, stop_local_daemon
from tests.support.reference_cli import reference_command, reference_env, write_launcher

from dsjobs_lsp.backends.local import LOCAL_PROJECT_ID, LocalBackend, ensure_local_backend

DSJOBS = [sys.executable, "-m", "dsjobs_lsp.cli.main"]
CONFIG = textwrap.dedent("""\
    name: bench
    cmd: {cmd}
    env:
      python:
        type: manual
        version: "{version}"
""")


@dataclass(frozen=True)
class Timed:
    """One finished CLI run: exit code, wall seconds, the unix time it was reaped, its stdout file."""

    returncode: int
    wall: float
    exited_at: float
    stdout: Path


class Workplace:
    """A temporary root with an isolated `dsjobs` environment and its local backend daemon."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.env = {**isolated_env(root), "PYTHONUNBUFFERED": "1"}
        self.backend: LocalBackend | None = None

    async def start_backend(self) -> LocalBackend:
        """Start (or reuse) the daemon of this workplace's data dir."""
        self.backend = await ensure_local_backend(self.root / "data")
        return self.backend

    def daemon_pid(self) -> int:
        """The daemon's pid (from its `server.json`)."""
        return int(json.loads((self.root / "data" / "server.json").read_text())["pid"])

    def project(self, name: str, files: dict[str, str], cmd: str) -> Path:
        """A project folder with `files` and a config.yaml running `cmd` (manual Python, no requirements)."""
        folder = self.root / name
        folder.mkdir(parents=True, exist_ok=True)
        for relative, text in files.items():
            (folder / relative).write_text(text)
        version = f"{sys.version_info.major}.{sys.version_info.minor}"
        (folder / "config.yaml").write_text(CONFIG.format(cmd=cmd, version=version))
        return folder

    def dsjobs_argv(self) -> list[str]:
        """`dsjobs project job execute -c config.yaml`."""
        return [*DSJOBS, "project", "job", "execute", "-c", "config.yaml"]

    def reference_argv(self) -> list[str]:
        """The reference CLI's `project job execute` against this daemon (0.2 s polling)."""
        assert self.backend is not None, "start_backend first"
        launcher = write_launcher(self.root / "launcher")
        args = ["project", "job", "execute", "-p", LOCAL_PROJECT_ID, "-c", "config.yaml"]
        return reference_command(launcher, self.backend.endpoints.jobs, args)

    def reference_env(self) -> dict[str, str]:
        """Environment of the reference CLI (the daemon's token)."""
        assert self.backend is not None, "start_backend first"
        return reference_env(self.backend.token, self.env)


@contextmanager
def workplace(prefix: str) -> Iterator[Workplace]:
    """A temporary workplace with its daemon started; the daemon is stopped and the folder removed after."""
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        place = Workplace(Path(tmp))
        try:
            asyncio.run(place.start_backend())
            yield place
        finally:
            stop_local_daemon(place.root / "data")


def timed_run(argv: Sequence[str], *, cwd: Path, env: dict[str, str], stdout: Path) -> Timed:
    """Run to completion with stdout into `stdout` and stderr next to it (`.err`); wall and reap time."""
    with open(stdout, "wb") as out, open(stdout.with_suffix(".err"), "wb") as err:
        began = time.perf_counter()
        done = subprocess.run(list(argv), cwd=cwd, env=env, stdout=out, stderr=err, check=False)
        exited_at = time.time()
        wall = time.perf_counter() - began
    return Timed(done.returncode, wall, exited_at, stdout)


def process_cpu(pid: int) -> tuple[float, float]:
    """(own user+system seconds, reaped children's user+system seconds) of a live process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    utime, stime, cutime, cstime = (int(fields[i]) for i in (11, 12, 13, 14))
    return (utime + stime) / ticks, (cutime + cstime) / ticks
