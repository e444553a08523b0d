"""`dsjobs` run as a user runs it, for the CLI tests: `Cli` (a private environment, a local backend daemon)
and readers of its stderr narrative."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from dsjobs_lsp.backends.local import LocalServer
from dsjobs_lsp.backends.local.auth import server_token
from dsjobs_lsp.backends.local.launcher import read_server_info, write_server_info
from dsjobs_lsp.backends.local.layout import DataLayout
from tests.support.local_backend import isolated_env, stop_local_daemon
from tests.support.reference_cli import reference_command, reference_env, write_launcher

DSJOBS = [sys.executable, "-m", "dsjobs_lsp.cli.main"]


@dataclass
class Cli:
    """Runs `dsjobs` with an environment of its own (data dir, state dir, offline, the job venv)."""

    env: dict[str, str]
    data_dir: Path

    def run(self, *args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """Run to completion, capturing stdout and stderr."""
        return subprocess.run(
            [*DSJOBS, *args],
            cwd=cwd,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def start(self, *args: str, cwd: Path) -> subprocess.Popen[str]:
        """Start in the background with pipes."""
        return subprocess.Popen(
            [*DSJOBS, *args], cwd=cwd, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )

    def backend_address(self) -> tuple[str, str]:
        """`host:port` of the gRPC server of the daemon this CLI started, and its bearer token."""
        layout = DataLayout(self.data_dir)
        info = read_server_info(layout)
        assert info is not None, "no local backend daemon yet: run a command first"
        return f"{info.get('host', '127.0.0.1')}:{info['grpc_port']}", server_token(layout.token_file)

    def reference(self, *args: str, cwd: Path, timeout: float = 240) -> subprocess.CompletedProcess[str]:
        """The official `datasphere` CLI with `args`, against the same backend (after a first command)."""
        address, token = self.backend_address()
        launcher = write_launcher(self.data_dir.parent / "reference-launcher")
        return subprocess.run(
            reference_command(launcher, address, args),
            cwd=cwd,
            env=reference_env(token, self.env),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )


CONSOLE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} - \[(\w+)\] - (.*)$")


@contextmanager
def running_cli(root: Path, job_venv: Path) -> Iterator[Cli]:
    """`dsjobs` isolated in `root` (data dir `root/data`), analysing jobs with `job_venv`.

    The daemon its commands started is stopped on exit."""
    env = {**isolated_env(root), "VIRTUAL_ENV": str(job_venv), "PYTHONUNBUFFERED": "1"}
    cli = Cli(env, root / "data")
    try:
        yield cli
    finally:
        stop_local_daemon(cli.data_dir)


def console(stderr: str) -> list[str]:
    """The narrative lines (without time and level)."""
    return [m.group(2) for line in stderr.splitlines() if (m := CONSOLE.match(line))]


def job_id_of(stderr: str) -> str:
    found = re.search(r"created job `(\w+)`", stderr)
    assert found, stderr
    return found.group(1)


MODULES_PROBE = """
import sys
from dsjobs_lsp.cli.main import run_cli
code = run_cli(sys.argv[1:])
print(code, " ".join(sorted(sys.modules)))
"""


async def run_probed(server: LocalServer, root: Path, cwd: Path, *args: str) -> tuple[list[str], str]:
    """`dsjobs ARGS` in `cwd` against the in-process `server` (state under `root`), run in a probe process
    that prints the modules loaded by the end of the command: those modules, and the stderr.
    The command must succeed."""
    write_server_info(server.layout, server.grpc_port, server.http_port, server.host)
    env = isolated_env(root)
    env["DSJOBS_LOCAL_DATA_DIR"] = str(server.layout.root)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        MODULES_PROBE,
        *args,
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    last = out.decode().splitlines()[-1] if out else ""
    code, _, modules = last.partition(" ")
    assert process.returncode == 0 and code == "0", out.decode()[-2000:] + err.decode()
    return modules.split(), err.decode()


def loaded(modules: list[str], packages: tuple[str, ...]) -> list[str]:
    """The modules of `modules` that are one of `packages` or inside one."""
    return [name for name in modules if any(name == p or name.startswith(p + ".") for p in packages)]
