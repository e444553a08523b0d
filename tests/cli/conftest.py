"""Fixtures: `dsjobs` run as a subprocess against a local backend daemon in a tmp data dir (offline)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "train"
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


def _build_job_venv(root: Path) -> Path:
    """A venv with PyYAML from uv's cache: the analysis pins a version the offline backend can install."""
    venv = root / "job-venv"
    uv = shutil.which("uv") or str(Path(sys.executable).parent / "uv")
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never"}
    subprocess.run([uv, "venv", "-q", "--python", sys.executable, str(venv)], check=True, env=env)
    subprocess.run(
        [uv, "pip", "install", "-q", "--offline", "--python", str(venv / "bin" / "python"), "pyyaml"],
        check=True,
        env=env,
    )
    return venv


def _stop_daemon(data_dir: Path) -> None:
    info_file = data_dir / "server.json"
    if not info_file.exists():
        return
    pid = int(json.loads(info_file.read_text())["pid"])
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cli]:
    """One backend daemon (started by the first command) per test module, stopped afterwards."""
    root = tmp_path_factory.mktemp("cli")
    venv = _build_job_venv(root)
    env = {
        **os.environ,
        "DSJOBS_LOCAL_DATA_DIR": str(root / "backend"),
        "DSJOBS_STATE_DIR": str(root / "state"),
        "DSJOBS_LOCAL_OFFLINE": "1",
        "DSJOBS_CONFIG": str(root / "no-user-config.yaml"),
        "DSJOBS_BACKEND": "local",
        "VIRTUAL_ENV": str(venv),
        "PYTHONUNBUFFERED": "1",
    }
    for name in ("DSJOBS_PROJECT", "YC_TOKEN", "YC_OAUTH_TOKEN", "YC_IAM_TOKEN"):
        env.pop(name, None)
    cli = Cli(env, root / "backend")
    try:
        yield cli
    finally:
        _stop_daemon(cli.data_dir)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of examples/train."""
    dest = tmp_path / "train"
    shutil.copytree(EXAMPLE, dest, ignore=shutil.ignore_patterns("model.json", "outputs", "__pycache__"))
    return dest
