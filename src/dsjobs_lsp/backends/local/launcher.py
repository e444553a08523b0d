"""Running the local backend as a daemon: ``main(argv)`` (foreground) and ``ensure_local_backend``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fcntl
import json
import logging
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from yandex.cloud.datasphere.v2 import project_service_pb2, project_service_pb2_grpc

from ..endpoints import Endpoints
from .auth import server_token
from .layout import LOCAL_PROJECT_ID, DataLayout, default_data_dir

logger = logging.getLogger(__name__)

START_TIMEOUT_SECONDS = 30.0
PROBE_TIMEOUT_SECONDS = 3.0


@dataclass(frozen=True)
class LocalBackend:
    """A reachable local backend: where it is and the bearer token it wants."""

    endpoints: Endpoints
    token: str


def write_server_info(layout: DataLayout, grpc_port: int, http_port: int, host: str) -> None:
    """Write ``server.json`` (pid, ports; mode 0600) so clients can find this server."""
    info = {"pid": os.getpid(), "host": host, "grpc_port": grpc_port, "http_port": http_port}
    tmp = layout.server_info.with_name("server.json.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as file:
        json.dump(info, file)
    os.replace(tmp, layout.server_info)


def read_server_info(layout: DataLayout) -> dict[str, Any] | None:
    """The running server's ``server.json``, if any."""
    try:
        info: dict[str, Any] = json.loads(layout.server_info.read_text())
    except (OSError, ValueError):
        return None
    return info if {"pid", "grpc_port", "http_port"} <= info.keys() else None


def _backend_from(info: dict[str, Any], token: str) -> LocalBackend:
    host = str(info.get("host", "127.0.0.1"))
    address = f"{host}:{info['grpc_port']}"
    endpoints = Endpoints(
        kind="local",
        jobs=address,
        operations=address,
        projects=address,
        secure=False,
        ui_base_url=f"http://{host}:{info['http_port']}",
    )
    return LocalBackend(endpoints, token)


async def probe(backend: LocalBackend, deadline_seconds: float = PROBE_TIMEOUT_SECONDS) -> bool:
    """Whether the backend answers a real authenticated call."""
    async with grpc.aio.insecure_channel(backend.endpoints.projects) as channel:
        stub = project_service_pb2_grpc.ProjectServiceStub(channel)
        try:
            await stub.Get(
                project_service_pb2.GetProjectRequest(project_id=LOCAL_PROJECT_ID),
                metadata=(("authorization", f"Bearer {backend.token}"),),
                timeout=deadline_seconds,
            )
        except grpc.aio.AioRpcError:
            return False
    return True


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


async def _running_backend(layout: DataLayout) -> LocalBackend | None:
    info = await asyncio.to_thread(read_server_info, layout)
    if info is None or not _pid_alive(int(info["pid"])):
        return None
    backend = _backend_from(info, await asyncio.to_thread(server_token, layout.token_file))
    return backend if await probe(backend) else None


def _lock(path: Path) -> Any:
    handle = open(path, "w")  # noqa: SIM115 - released by the caller
    fcntl.flock(handle, fcntl.LOCK_EX)
    return handle


def _spawn_daemon(layout: DataLayout) -> subprocess.Popen[bytes]:
    with open(layout.server_log, "ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "dsjobs_lsp.backends.local", "--data-dir", str(layout.root)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
            close_fds=True,
        )


async def ensure_local_backend(data_dir: Path | None = None) -> LocalBackend:
    """Reuse the server running on ``data_dir`` or start one (detached) and wait until it answers."""
    layout = DataLayout(Path(data_dir) if data_dir is not None else default_data_dir())
    await asyncio.to_thread(layout.root.mkdir, parents=True, exist_ok=True, mode=0o700)
    running = await _running_backend(layout)
    if running is not None:
        return running
    lock = await asyncio.to_thread(_lock, layout.launch_lock)
    try:
        running = await _running_backend(layout)
        if running is not None:
            return running
        daemon = await asyncio.to_thread(_spawn_daemon, layout)
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            await asyncio.sleep(0.05)
            info = await asyncio.to_thread(read_server_info, layout)
            if info is not None and int(info["pid"]) == daemon.pid:
                backend = _backend_from(info, await asyncio.to_thread(server_token, layout.token_file))
                if await probe(backend):
                    return backend
            if daemon.poll() is not None:
                raise RuntimeError(
                    f"the local backend exited with code {daemon.returncode} while starting; "
                    f"see {layout.server_log}"
                )
        daemon.terminate()
        raise TimeoutError(
            f"the local backend did not answer within {START_TIMEOUT_SECONDS:g} s; see {layout.server_log}"
        )
    finally:
        lock.close()


async def serve(data_dir: Path, host: str, port: int) -> None:
    """Run a server in the foreground until SIGINT/SIGTERM."""
    from .server import LocalServer  # only the daemon needs it; clients just find the daemon

    server = LocalServer(data_dir, host=host, port=port)
    await server.start()
    write_server_info(server.layout, server.grpc_port, server.http_port, host)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print(
        f"dsjobs local backend: gRPC {server.endpoints.jobs}, files {server.endpoints.ui_base_url}, "
        f"data {server.layout.root}",
        flush=True,
    )
    try:
        await stop.wait()
    finally:
        info = read_server_info(server.layout)
        if info is not None and info.get("pid") == os.getpid():
            with contextlib.suppress(OSError):
                server.layout.server_info.unlink()
        await server.stop()


def main(argv: list[str] | None = None) -> int:
    """``python -m dsjobs_lsp.backends.local [--host H] [--port N] [--data-dir DIR]``."""
    parser = argparse.ArgumentParser(
        prog="dsjobs local-server", description="Run the dsjobs local DataSphere backend in the foreground."
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="gRPC port (default: a free port)")
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="state directory (default: $DSJOBS_LOCAL_DATA_DIR or ~/.local/share/dsjobs/local-backend)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    asyncio.run(serve(args.data_dir or default_data_dir(), args.host, args.port))
    return 0
