"""Fixtures: an in-process local backend (127.0.0.1, tmp data dir, offline), a runner, a train project."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from dsjobs_lsp.backends.local import LOCAL_PROJECT_ID, LocalServer
from dsjobs_lsp.core.jobs.backend import static_target
from dsjobs_lsp.core.jobs.runner import JobRunner
from dsjobs_lsp.core.settings import Settings
from tests.support.local_backend import build_job_venv, copy_example, running_local_server


@pytest.fixture(scope="session")
def job_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Interpreter of a venv holding PyYAML (from uv's cache)."""
    return build_job_venv(tmp_path_factory.mktemp("venv"))


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[LocalServer]:
    """The local backend, in process, on a free port."""
    async with running_local_server(tmp_path / "backend") as local:
        yield local


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
    return copy_example(tmp_path / "train")
