"""The official `datasphere` 0.10.0 CLI pointed at a local backend (shared by tests and benchmarks).

A launcher run by the reference venv's python replaces the CLI's channels with an insecure one to the local
gRPC address, polls operations and logs every 0.2 s, skips the PyPI version check (no network), then runs
the CLI's `main` with the remaining arguments.
"""

from __future__ import annotations

import asyncio
import os
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.support.reference import reference_python

LAUNCHER_NAME = "datasphere_local_launcher.py"
RUN_TIMEOUT_SECONDS = 240.0
LAUNCHER = textwrap.dedent("""
    import sys
    import grpc
    address = sys.argv[1]
    import datasphere.channel
    import datasphere.client
    import datasphere.main

    def local_channel(*_args, **_kwargs):
        return grpc.insecure_channel(address)

    datasphere.channel._get_channel = local_channel
    datasphere.client.get_job_channel = local_channel
    datasphere.client.get_project_channel = local_channel
    datasphere.client.get_op_channel = local_channel
    datasphere.client.operation_check_interval_seconds = 0.2
    datasphere.client.log_read_interval_seconds = 0.2
    datasphere.main.check_package_version = lambda: None
    sys.argv = ["datasphere", *sys.argv[2:]]
    datasphere.main.main()
""")


@dataclass(frozen=True)
class ReferenceRun:
    """How a reference CLI run ended: its exit code and its stdout+stderr."""

    returncode: int
    output: str


def write_launcher(folder: Path) -> Path:
    """Write the launcher script into ``folder`` and return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    launcher = folder / LAUNCHER_NAME
    launcher.write_text(LAUNCHER)
    return launcher


def reference_command(launcher: Path, address: str, args: Sequence[str]) -> list[str]:
    """argv running the reference CLI with ``args`` against the local gRPC ``address`` (host:port)."""
    return [str(reference_python()), str(launcher), address, *args]


def reference_env(token: str, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """``base`` (default: this process's environment) without PYTHONPATH, with the server's IAM token."""
    env = {k: v for k, v in (os.environ if base is None else base).items() if k != "PYTHONPATH"}
    env["YC_IAM_TOKEN"] = token
    return env


async def run_reference_cli(
    address: str, token: str, args: Sequence[str], *, cwd: Path, launcher_dir: Path
) -> ReferenceRun:
    """Run the reference CLI with ``args`` in ``cwd`` against a local backend; its output is captured.
    A run over ``RUN_TIMEOUT_SECONDS`` is killed (``TimeoutError``)."""
    argv = reference_command(write_launcher(launcher_dir), address, args)
    process = await asyncio.create_subprocess_exec(
        *argv,
        cwd=cwd,
        env=reference_env(token),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        output, _ = await asyncio.wait_for(process.communicate(), RUN_TIMEOUT_SECONDS)
    except asyncio.TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode is not None
    return ReferenceRun(process.returncode, output.decode())
