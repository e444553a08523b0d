"""Fixtures: an in-process local backend on 127.0.0.1 (port 0, tmp data dir, offline), a client, and the
reference CLI's python."""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import grpc
import pytest

from dsjobs_lsp.backends.local import LocalServer
from tests.backends.local.local_backend_helpers import Client, daemons_of
from tests.support.local_backend import running_local_server
from tests.support.reference import reference_python


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[LocalServer]:
    """The local backend, in process, on a free port."""
    async with running_local_server(tmp_path / "data") as local:
        yield local


@pytest.fixture
async def client(server: LocalServer) -> AsyncIterator[Client]:
    """A gRPC client of `server`, with its token."""
    async with grpc.aio.insecure_channel(server.endpoints.jobs) as channel:
        yield Client(server, channel, server.token)


@pytest.fixture
def daemon_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A data dir for daemons started with `ensure_local_backend` (offline); they are stopped at the end."""
    monkeypatch.setenv("DSJOBS_LOCAL_OFFLINE", "1")
    monkeypatch.delenv("DSJOBS_LOCAL_TOKEN", raising=False)
    data = tmp_path / "daemon"
    yield data
    for pid in daemons_of(data):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)


@pytest.fixture(scope="module")
def reference() -> Path:
    """The official `datasphere` 0.10.0 CLI's python (the test is skipped when it cannot be had)."""
    try:
        return Path(reference_python())
    except Exception as error:  # the venv is built from the registry on first use
        pytest.skip(f"reference datasphere venv unavailable: {error}")
