"""Running the local backend as a daemon: ``main(argv)`` (foreground) and ``ensure_local_backend``.

One server per data dir: the server holds a lock on it (``server.lock``) while it runs. A client finds the
running daemon through ``server.json``; a client whose token the daemon refuses gets an error saying how to
fix it (never a second daemon), and a daemon of another dsjobs version is restarted when it runs no job.
The daemon starts with an allow-listed environment (``environment.daemon_environment``); a token given to
the client in ``DSJOBS_LOCAL_TOKEN`` reaches it on its stdin, never in its environment.
"""

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

from ... import __version__
from ..endpoints import Endpoints
from .auth import TOKEN_ENV, server_token
from .environment import daemon_environment
from .layout import LOCAL_PROJECT_ID, DataLayout, default_data_dir

logger = logging.getLogger(__name__)

START_TIMEOUT_SECONDS = 30.0
PROBE_TIMEOUT_SECONDS = 3.0
STOP_TIMEOUT_SECONDS = 15.0


class LocalBackendError(RuntimeError):
    """The local backend cannot be used as it is; the message says what to do."""


@dataclass(frozen=True)
class LocalBackend:
    """A reachable local backend: where it is and the bearer token it wants."""

    endpoints: Endpoints
    token: str


def write_server_info(layout: DataLayout, grpc_port: int, http_port: int, host: str) -> None:
    """Write ``server.json`` (pid, ports; mode 0600) so clients can find this server."""
    info = {
        "pid": os.getpid(),
        "host": host,
        "grpc_port": grpc_port,
        "http_port": http_port,
        "version": __version__,
    }
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
    return bool(await _probe_code(backend, deadline_seconds) == grpc.StatusCode.OK)


async def _probe_code(
    backend: LocalBackend, deadline_seconds: float = PROBE_TIMEOUT_SECONDS
) -> grpc.StatusCode:
    async with grpc.aio.insecure_channel(backend.endpoints.projects) as channel:
        stub = project_service_pb2_grpc.ProjectServiceStub(channel)
        try:
            await stub.Get(
                project_service_pb2.GetProjectRequest(project_id=LOCAL_PROJECT_ID),
                metadata=(("authorization", f"Bearer {backend.token}"),),
                timeout=deadline_seconds,
            )
        except grpc.aio.AioRpcError as error:
            return error.code()
    return grpc.StatusCode.OK


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


async def _running_backend(layout: DataLayout) -> LocalBackend | None:
    """The daemon serving ``layout`` if it answers this client (None: none runs, or it must be replaced)."""
    info = await asyncio.to_thread(read_server_info, layout)
    if info is None or not _pid_alive(int(info["pid"])):
        return None
    backend = _backend_from(info, await asyncio.to_thread(server_token, layout.token_file))
    code = await _probe_code(backend)
    if code == grpc.StatusCode.UNAUTHENTICATED:
        raise LocalBackendError(_token_mismatch(layout, int(info["pid"])))
    if code != grpc.StatusCode.OK:
        return None
    version = str(info.get("version", "unknown"))
    if version == __version__:
        return backend
    from .state import count_active_jobs  # the state DB's code loads only when the versions differ

    if await asyncio.to_thread(count_active_jobs, layout.database):
        logger.warning(
            "the local backend on %s runs dsjobs %s, this is dsjobs %s; it keeps serving until its jobs end "
            "(restart it then: `kill %s`; the next command starts the current version)",
            layout.root,
            version,
            __version__,
            info["pid"],
        )
        return backend
    logger.info("restarting the idle local backend of dsjobs %s as dsjobs %s", version, __version__)
    await _stop_daemon(layout, int(info["pid"]))
    return None


def _token_mismatch(layout: DataLayout, pid: int) -> str:
    source = f"${TOKEN_ENV}" if os.environ.get(TOKEN_ENV) else f"the token file {layout.token_file}"
    return (
        f"the local backend running on {layout.root} (pid {pid}) refuses this client's token "
        f"(from {source}): it was started with another one. Set {TOKEN_ENV} to the token the server "
        f"was started with (or unset it if the server uses {layout.token_file}), or stop that server "
        f"(`kill {pid}`) and retry."
    )


async def _stop_daemon(layout: DataLayout, pid: int) -> None:
    """SIGTERM the daemon and wait until it released the data dir's lock."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if await asyncio.to_thread(_lock_is_free, layout.server_lock):
            return
        await asyncio.sleep(0.05)
    raise LocalBackendError(f"the local backend (pid {pid}) did not stop within {STOP_TIMEOUT_SECONDS:g} s")


def _lock_is_free(path: Path) -> bool:
    with open(path, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
    return True


def _lock(path: Path) -> Any:
    handle = open(path, "w")  # noqa: SIM115 - released by the caller
    fcntl.flock(handle, fcntl.LOCK_EX)
    return handle


def _spawn_daemon(layout: DataLayout) -> subprocess.Popen[bytes]:
    """Start the daemon with a clean environment; the client's token (if any) goes to its stdin."""
    argv = [sys.executable, "-m", "dsjobs_lsp.backends.local", "--data-dir", str(layout.root)]
    token = os.environ.get(TOKEN_ENV, "")
    with open(layout.server_log, "ab") as log:
        daemon = subprocess.Popen(
            [*argv, "--token-stdin"] if token else argv,
            stdin=subprocess.PIPE if token else subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            env=daemon_environment(os.environ),
            start_new_session=True,
            close_fds=True,
        )
    if daemon.stdin is not None:
        with daemon.stdin:
            daemon.stdin.write(f"{token}\n".encode())
    return daemon


async def ensure_local_backend(data_dir: Path | None = None) -> LocalBackend:
    """Reuse the server running on ``data_dir`` or start one (detached) and wait until it answers."""
    layout = DataLayout(Path(data_dir) if data_dir is not None else default_data_dir())
    await asyncio.to_thread(layout.create_root)
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
                raise LocalBackendError(
                    f"the local backend exited with code {daemon.returncode} while starting: "
                    f"{_last_line(layout.server_log)} (see {layout.server_log})"
                )
        daemon.terminate()
        raise TimeoutError(
            f"the local backend did not answer within {START_TIMEOUT_SECONDS:g} s; see {layout.server_log}"
        )
    finally:
        lock.close()


def _last_line(path: Path) -> str:
    try:
        lines = path.read_text(errors="replace").strip().splitlines()
    except OSError:
        return "no log"
    return lines[-1] if lines else "no log"


async def serve(data_dir: Path, host: str, port: int, token: str | None = None) -> None:
    """Run a server in the foreground until SIGINT/SIGTERM."""
    from .server import LocalServer  # only the daemon needs it; clients just find the daemon

    server = LocalServer(data_dir, host=host, port=port, token=token)
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
    parser.add_argument("--token-stdin", action="store_true", help="read the server's token from stdin")
    args = parser.parse_args(argv)
    token = (sys.stdin.readline().strip() or None) if args.token_stdin else None
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from .server import DataDirBusyError

    try:
        asyncio.run(serve(args.data_dir or default_data_dir(), args.host, args.port, token))
    except DataDirBusyError as error:
        logger.error("%s", error)
        return 1
    return 0
