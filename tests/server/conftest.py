"""The language server as a real subprocess (`python -m dsjobs_lsp`) over stdio, with isolated state.

`lsp` starts servers (several in a row for restart tests), each with the same tmp data/state dirs, and
collects the dsjobs notifications; teardown stops the servers and the local backend daemon they started.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import pytest
import pytest_asyncio
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from tests.support.local_backend import isolated_env, stop_local_daemon

SERVER_COMMAND = [sys.executable, "-m", "dsjobs_lsp"]
WAIT_S = 60.0


def _plain(params: Any) -> Any:
    """Notification params as plain JSON data (pygls may hand over attrs-like objects)."""
    if isinstance(params, dict | list | str | int | float | bool) or params is None:
        return params
    if hasattr(params, "_asdict"):
        return {key: _plain(value) for key, value in params._asdict().items()}
    if hasattr(params, "__dict__"):
        return {key: _plain(value) for key, value in vars(params).items()}
    return params


@dataclass
class Notifications:
    """Every dsjobs notification received, in order."""

    console: list[dict[str, Any]] = field(default_factory=list)
    logs: list[dict[str, Any]] = field(default_factory=list)
    jobs: list[dict[str, Any]] = field(default_factory=list)
    progress: list[dict[str, Any]] = field(default_factory=list)
    ended: list[dict[str, Any]] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def add(self, bucket: list[dict[str, Any]], params: Any) -> None:
        bucket.append(_plain(params))
        self.changed.set()

    async def wait_for(self, predicate: Callable[[], bool], limit_s: float = WAIT_S) -> None:
        """Wait until `predicate()` holds."""

        async def until_true() -> None:
            while not predicate():
                self.changed.clear()
                await self.changed.wait()

        await asyncio.wait_for(until_true(), limit_s)

    def log_lines(self, job_id: str, stream: str = "stdout") -> list[str]:
        """Every line of one stream of a job, in arrival order."""
        return [
            line for n in self.logs if n["jobId"] == job_id and n["stream"] == stream for line in n["lines"]
        ]

    def console_lines(self, job_id: str | None = None) -> list[str]:
        """Console lines (of one job, or all)."""
        return [n["line"] for n in self.console if job_id is None or n["jobId"] in (job_id, None)]

    def run_end(self, job_id: str) -> dict[str, Any] | None:
        """The `dsjobs/runEnded` of a job's run or attach, once it came."""
        return next((n for n in self.ended if n["jobId"] == job_id), None)

    async def wait_run_end(self, job_id: str) -> dict[str, Any]:
        """Wait for the end of the job's run (outputs downloaded) and return `dsjobs/runEnded`."""
        await self.wait_for(lambda: self.run_end(job_id) is not None)
        end = self.run_end(job_id)
        assert end is not None
        return end

    def final_job(self, job_id: str) -> dict[str, Any] | None:
        """The last `jobChanged` of a job once it is finished."""
        for n in reversed(self.jobs):
            if n["job"]["id"] == job_id:
                return n["job"] if n["job"]["status"] in ("SUCCESS", "ERROR", "CANCELLED") else None
        return None


@dataclass
class Server:
    """One running server: its client and what it sent."""

    client: LanguageClient
    notes: Notifications
    capabilities: types.ServerCapabilities

    async def command(self, command: str, argument: dict[str, Any] | None = None) -> Any:
        """`workspace/executeCommand` with one object argument."""
        arguments = [] if argument is None else [argument]
        return await self.client.workspace_execute_command_async(
            types.ExecuteCommandParams(command=command, arguments=arguments)
        )


@dataclass
class ServerFactory:
    """Starts servers sharing one isolated environment; stops them all at teardown."""

    env: dict[str, str]
    data_dir: Path
    state_dir: Path
    servers: list[Server] = field(default_factory=list)

    async def start(self, initialization_options: dict[str, Any] | None = None) -> Server:
        """A started and initialized server (VS Code's capabilities, work-done progress included)."""
        client = cast(LanguageClient, await ClientServerConfig(SERVER_COMMAND, server_env=self.env).start())
        notes = Notifications()
        _collect(client, notes)
        options = {"storagePath": str(self.state_dir), **(initialization_options or {})}
        initialized = await client.initialize_session(
            types.InitializeParams(
                capabilities=client_capabilities("visual-studio-code"),
                initialization_options=options,
                root_uri=None,
            )
        )
        server = Server(client, notes, initialized.capabilities)
        self.servers.append(server)
        return server

    async def stop(self, server: Server) -> None:
        """Shut one server down (the local backend daemon keeps running)."""
        with contextlib.suppress(Exception):
            await asyncio.wait_for(server.client.shutdown_session(), 10)
        with contextlib.suppress(Exception):
            await server.client.stop()  # type: ignore[no-untyped-call]
        self.servers.remove(server)


def _collect(client: LanguageClient, notes: Notifications) -> None:
    buckets = {
        "dsjobs/console": notes.console,
        "dsjobs/log": notes.logs,
        "dsjobs/jobChanged": notes.jobs,
        "dsjobs/progress": notes.progress,
        "dsjobs/runEnded": notes.ended,
    }
    for method, bucket in buckets.items():

        def handler(_ls: LanguageClient, params: Any, bucket: list[dict[str, Any]] = bucket) -> None:
            notes.add(bucket, params)

        client.feature(method)(handler)


def error_data(error: JsonRpcException) -> dict[str, Any]:
    """The `data` of a command's error response."""
    assert isinstance(error.data, dict), error
    return error.data


@pytest.fixture
def server_env(tmp_path: Path) -> dict[str, str]:
    """Environment of the server: tmp data and state dirs, offline local backend, no user config."""
    return isolated_env(tmp_path)


@pytest_asyncio.fixture
async def lsp(server_env: dict[str, str], tmp_path: Path) -> AsyncIterator[ServerFactory]:
    """A factory of language servers over stdio; all stopped, and the local daemon killed, at teardown."""
    factory = ServerFactory(server_env, tmp_path / "data", tmp_path / "state")
    try:
        yield factory
    finally:
        for server in list(factory.servers):
            await factory.stop(server)
        stop_local_daemon(factory.data_dir)


@pytest_asyncio.fixture
async def server(lsp: ServerFactory) -> Server:
    """One started server."""
    return await lsp.start()
