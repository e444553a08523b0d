"""Fixtures: an in-process local backend on 127.0.0.1 (port 0, tmp data dir, offline), a client, and the
reference CLI's python."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest

from dsjobs_lsp.backends.local import LocalServer
from tests.backends.local.local_backend_helpers import Client
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


@pytest.fixture(scope="module")
def reference() -> Path:
    """The official `datasphere` 0.10.0's python (its venv is built from the registry on first use)."""
    try:
        return Path(reference_python())
    except Exception as error:
        pytest.skip(f"reference datasphere venv unavailable: {error}")
