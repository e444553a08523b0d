"""Fixtures: an in-process local backend on 127.0.0.1 (port 0, tmp data dir, offline) and a client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from local_backend_helpers import Client

from dsjobs_lsp.backends.local import LocalServer


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[LocalServer]:
    local = LocalServer(tmp_path / "data", offline=True)
    await local.start()
    try:
        yield local
    finally:
        await local.stop(0)


@pytest.fixture
async def client(server: LocalServer) -> AsyncIterator[Client]:
    async with grpc.aio.insecure_channel(server.endpoints.jobs) as channel:
        yield Client(server, channel, server.token)
