"""``LocalServer``: the embedded DataSphere-compatible backend (gRPC + HTTP file store) on 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import time
from pathlib import Path
from typing import TextIO

import grpc
from yandex.cloud.datasphere.v2 import project_service_pb2_grpc
from yandex.cloud.datasphere.v2.jobs import project_job_service_pb2 as service_pb2
from yandex.cloud.datasphere.v2.jobs import project_job_service_pb2_grpc as service_grpc
from yandex.cloud.operation import operation_service_pb2_grpc as operation_service_grpc

from ..endpoints import Endpoints
from .auth import BearerAuthInterceptor, read_or_create_secret, server_token
from .blobs import BlobStore
from .engine import JobEngine
from .http_store import HttpStore
from .journal import LogRecord
from .layout import OFFLINE_ENV, DataLayout
from .page import render_job_page
from .pyenv import EnvironmentCache
from .services import OperationService, ProjectJobService, ProjectService
from .state import StateStore

logger = logging.getLogger(__name__)

DEFAULT_SWEEP_SECONDS = 600.0
PAGE_LINES = 100


class DataDirBusyError(RuntimeError):
    """Another local backend already serves this data dir."""


def _lock_data_dir(layout: DataLayout) -> TextIO:
    """Hold the data dir's server lock (released when the returned file is closed)."""
    handle = open(layout.server_lock, "a")  # noqa: SIM115 - held for the server's life
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise DataDirBusyError(
            f"another local backend already serves {layout.root} (see {layout.server_info} for its pid); "
            "one data dir has one server"
        ) from None
    return handle


def _remove_partial_uploads(store: BlobStore) -> None:
    """Drop what uploads cut short by a crash left in the store's scratch folder."""
    for leftover in store.incoming_path().parent.iterdir():
        with contextlib.suppress(OSError):
            leftover.unlink()


class LocalServer:
    """The local backend: start it, hand ``endpoints`` and ``token`` to a client, stop it.

    ``public_http_url`` is the base clients are given for the file store (presigned URLs, job links) when
    something stands between them and it, e.g. a proxy; by default it is ``http://<host>:<http_port>``.
    """

    def __init__(
        self,
        data_dir: Path,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        http_port: int = 0,
        public_http_url: str | None = None,
        offline: bool | None = None,
        sweep_seconds: float = DEFAULT_SWEEP_SECONDS,
        token: str | None = None,
    ) -> None:
        self.layout = DataLayout(Path(data_dir).absolute())  # jobs run in their own cwd
        self.host = host
        self._port = port
        self._http_port = http_port
        self._public_http_url = public_http_url
        self._offline = offline if offline is not None else os.environ.get(OFFLINE_ENV, "") not in ("", "0")
        self._sweep_seconds = sweep_seconds
        self._grpc: grpc.aio.Server | None = None
        self._http: HttpStore | None = None
        self._state: StateStore | None = None
        self._engine: JobEngine | None = None
        self._sweeper: asyncio.Task[None] | None = None
        self.token = token or ""
        self.grpc_port = 0
        self._lock: TextIO | None = None

    @property
    def engine(self) -> JobEngine:
        """The job engine (started servers only)."""
        assert self._engine is not None, "the server is not started"
        return self._engine

    @property
    def http_port(self) -> int:
        """Port of the HTTP file store."""
        return self._http.port if self._http is not None else 0

    @property
    def endpoints(self) -> Endpoints:
        """Where clients reach this server."""
        address = f"{self.host}:{self.grpc_port}"
        ui = self._http.base_url if self._http is not None else ""
        return Endpoints(
            kind="local", jobs=address, operations=address, projects=address, secure=False, ui_base_url=ui
        )

    async def start(self) -> None:
        """Lock the data dir, open the state, re-adopt running jobs, and start serving.

        Raises ``DataDirBusyError`` when another server holds the data dir.
        """
        await asyncio.to_thread(self.layout.create)
        self._lock = await asyncio.to_thread(_lock_data_dir, self.layout)
        if not self.token:
            self.token = await asyncio.to_thread(server_token, self.layout.token_file)
        key = await asyncio.to_thread(read_or_create_secret, self.layout.signing_key_file)
        self._state = StateStore(self.layout.database)
        await self._state.open()
        store = BlobStore(self.layout.blobs)
        await asyncio.to_thread(_remove_partial_uploads, store)
        state = self._state
        self._http = HttpStore(
            store,
            key.encode(),
            host=self.host,
            on_stored=lambda sha, size: state.record_blob(sha, size, time.time()),
            public_base_url=self._public_http_url,
        )
        await self._http.start(self._http_port)
        http = self._http
        self._engine = JobEngine(
            self.layout,
            self._state,
            store,
            EnvironmentCache(self.layout.envs, offline=self._offline),
            lambda: http.signer,
            http.verifications,
        )
        self._http.page_renderer = self._render_page
        await self._engine.recover()
        self._grpc = grpc.aio.server(interceptors=[BearerAuthInterceptor(self.token)])
        service_grpc.add_ProjectJobServiceServicer_to_server(ProjectJobService(self._engine), self._grpc)
        operation_service_grpc.add_OperationServiceServicer_to_server(
            OperationService(self._engine), self._grpc
        )
        projects = ProjectService()  # type: ignore[abstract]
        project_service_pb2_grpc.add_ProjectServiceServicer_to_server(projects, self._grpc)
        self.grpc_port = self._grpc.add_insecure_port(f"{self.host}:{self._port}")
        await self._grpc.start()
        self._sweeper = asyncio.create_task(self._sweep_forever())
        logger.info("local backend listening on %s (files on %s)", self.endpoints.jobs, self._http.base_url)

    async def stop(self, grace: float | None = 1.0) -> None:
        """Stop serving; running job processes keep running and are re-adopted by the next start."""
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
            self._sweeper = None
        if self._grpc is not None:
            await self._grpc.stop(grace)
            self._grpc = None
        if self._engine is not None:
            await self._engine.close()
        if self._http is not None:
            await self._http.stop()
        if self._state is not None:
            await self._state.close()
            self._state = None
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    async def sweep(self) -> int:
        """Clear expired job data now; returns how many jobs were cleared."""
        return await self.engine.sweep_expired()

    async def _sweep_forever(self) -> None:
        while True:
            try:
                await self.engine.sweep_expired()
            except Exception:
                logger.exception("data TTL sweep failed")
            await asyncio.sleep(self._sweep_seconds)

    async def _render_page(self, job_id: str) -> str | None:
        row = self.engine.state.jobs.get(job_id)
        if row is None:
            return None
        records = [] if row.job.data_cleared else await self._last_records(job_id)
        return_code = None
        operation = self.engine.state.operations.get(row.execute_operation_id or "")
        if operation is not None and operation.HasField("response"):
            response = service_pb2.ExecuteProjectJobResponse()
            operation.response.Unpack(response)
            return_code = response.result.return_code
        return render_job_page(row.job, records, return_code)

    async def _last_records(self, job_id: str) -> list[LogRecord]:
        journal = self.engine.journal(job_id)
        offset, records = 0, list[LogRecord]()
        while True:
            batch, offset = await journal.read(offset)
            if not batch:
                return records
            records = (records + batch)[-PAGE_LINES:]
