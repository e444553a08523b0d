"""Fixtures: an in-process local backend (127.0.0.1, tmp data dir, offline), a runner, a train project."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from dsjobs_lsp.backends.local import LOCAL_PROJECT_ID, LocalServer
from dsjobs_lsp.core.jobs.backend import static_target
from dsjobs_lsp.core.jobs.runner import JobRunner
from dsjobs_lsp.core.settings import Settings

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "train"


def build_job_venv(root: Path) -> Path:
    """A venv with PyYAML installed from uv's cache only (what the job needs; the local backend runs offline).

    The analysis pins the versions of the interpreter it inspects, so pointing it at this venv yields
    requirements that uv's cache holds.
    """
    venv = root / "job-venv"
    if not (venv / "bin" / "python").exists():
        uv = shutil.which("uv") or str(Path(sys.executable).parent / "uv")
        env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never"}
        subprocess.run([uv, "venv", "-q", "--python", sys.executable, str(venv)], check=True, env=env)
        subprocess.run(
            [uv, "pip", "install", "-q", "--offline", "--python", str(venv / "bin" / "python"), "pyyaml"],
            check=True,
            env=env,
        )
    return venv / "bin" / "python"


@pytest.fixture(scope="session")
def job_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Interpreter of a venv holding PyYAML (from uv's cache)."""
    return build_job_venv(tmp_path_factory.mktemp("venv"))


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[LocalServer]:
    """The local backend, in process, on a free port."""
    local = LocalServer(tmp_path / "backend", offline=True)
    await local.start()
    try:
        yield local
    finally:
        await local.stop(0)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings with a private state dir."""
    return Settings(state_dir=tmp_path / "state")


@pytest.fixture
def new_runner(settings: Settings, server: LocalServer) -> Callable[[], JobRunner]:
    """Makes fresh runners (as new processes would) on the same state dir and server."""
    target = static_target(server.endpoints, server.token, default_project_id=LOCAL_PROJECT_ID)
    return lambda: JobRunner(settings, target=target)


@pytest.fixture
def runner(new_runner: Callable[[], JobRunner]) -> JobRunner:
    """A runner talking to the in-process server."""
    return new_runner()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of examples/train."""
    dest = tmp_path / "train"
    shutil.copytree(EXAMPLE, dest, ignore=shutil.ignore_patterns("model.json", "outputs", "__pycache__"))
    return dest
