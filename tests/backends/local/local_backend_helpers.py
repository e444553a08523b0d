"""Helpers for the local backend contract tests: a gRPC client over the real stubs and HTTP uploads."""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import zipfile
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import httpx
from yandex.cloud.datasphere.v2 import project_service_pb2_grpc
from yandex.cloud.datasphere.v2.jobs import jobs_pb2
from yandex.cloud.datasphere.v2.jobs import project_job_service_pb2 as service_pb2
from yandex.cloud.datasphere.v2.jobs import project_job_service_pb2_grpc as service_grpc
from yandex.cloud.operation import operation_pb2, operation_service_pb2, operation_service_pb2_grpc

from dsjobs_lsp.backends.local import LOCAL_PROJECT_ID, LocalServer

FINAL = {jobs_pb2.SUCCESS, jobs_pb2.ERROR, jobs_pb2.CANCELLED}


def file_entry(
    path: str, content: bytes, var: str = "", *, zip_: bool = False
) -> tuple[jobs_pb2.File, bytes]:
    """A ``File`` message and its bytes."""
    compression = jobs_pb2.ZIP if zip_ else jobs_pb2.NONE
    return jobs_pb2.File(
        desc=jobs_pb2.FileDesc(path=path, var=var),
        sha256=hashlib.sha256(content).hexdigest(),
        size_bytes=len(content),
        compression_type=compression,
    ), content


def gate_entry(before: str, after: str, then: str = "") -> tuple[jobs_pb2.File, bytes]:
    """`gate.py`: prints `before`, waits for a file `open` in its working dir, prints `after`, runs `then`."""
    source = (
        f"import os, time\nprint({before!r}, flush=True)\n"
        "while not os.path.exists('open'):\n    time.sleep(0.01)\n"
        f"print({after!r})\n{then}"
    )
    return file_entry("gate.py", source.encode())


def zip_bytes(entries: dict[str, str]) -> bytes:
    """A ZIP archive of ``name -> text``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in sorted(entries.items()):
            archive.writestr(name, text)
    return buffer.getvalue()


@dataclass
class Client:
    """Stubs of the three services, authenticated with the server token."""

    server: LocalServer
    channel: grpc.aio.Channel
    token: str
    jobs: Any = field(init=False)
    operations: Any = field(init=False)
    projects: Any = field(init=False)

    def __post_init__(self) -> None:
        self.jobs = service_grpc.ProjectJobServiceStub(self.channel)
        self.operations = operation_service_pb2_grpc.OperationServiceStub(self.channel)
        self.projects = project_service_pb2_grpc.ProjectServiceStub(self.channel)

    @property
    def md(self) -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Bearer {self.token}"),)

    async def create(
        self,
        cmd: str,
        files: Sequence[tuple[jobs_pb2.File, bytes]] = (),
        *,
        outputs: Sequence[jobs_pb2.FileDesc] = (),
        modules: Sequence[tuple[jobs_pb2.File, bytes]] = (),
        upload: bool = True,
        **params: Any,
    ) -> tuple[str, list[jobs_pb2.StorageFile]]:
        """Create a job and (unless told not to) upload what the server asks for."""
        parameters = jobs_pb2.JobParameters(
            cmd=cmd, input_files=[f for f, _ in files], output_files=outputs, **params
        )
        for module, _ in modules:
            parameters.env.python_env.local_modules.append(module)
        operation = await self.jobs.Create(
            service_pb2.CreateProjectJobRequest(
                project_id=LOCAL_PROJECT_ID, job_parameters=parameters, name="test"
            ),
            metadata=self.md,
        )
        assert operation.done
        response = service_pb2.CreateProjectJobResponse()
        operation.response.Unpack(response)
        if upload:
            contents = {f.sha256: data for f, data in [*files, *modules]}
            async with httpx.AsyncClient() as http:
                for item in response.upload_files:
                    (await http.put(item.url, content=contents[item.file.sha256])).raise_for_status()
        return response.job_id, list(response.upload_files)

    async def execute(self, job_id: str) -> operation_pb2.Operation:
        operation: operation_pb2.Operation = await self.jobs.Execute(
            service_pb2.ExecuteProjectJobRequest(job_id=job_id), metadata=self.md
        )
        return operation

    async def wait(self, operation: operation_pb2.Operation, within: float = 60) -> operation_pb2.Operation:
        """Poll the operation until done."""
        deadline = asyncio.get_running_loop().time() + within
        while not operation.done:
            assert asyncio.get_running_loop().time() < deadline, "operation did not finish in time"
            await asyncio.sleep(0.05)
            operation = await self.operations.Get(
                operation_service_pb2.GetOperationRequest(operation_id=operation.id), metadata=self.md
            )
        return operation

    async def run(
        self,
        cmd: str,
        files: Sequence[tuple[jobs_pb2.File, bytes]] = (),
        **kwargs: Any,
    ) -> tuple[str, operation_pb2.Operation]:
        """Create, upload, execute and wait."""
        job_id, _ = await self.create(cmd, files, **kwargs)
        return job_id, await self.wait(await self.execute(job_id))

    async def get(self, job_id: str) -> jobs_pb2.Job:
        job: jobs_pb2.Job = await self.jobs.Get(
            service_pb2.GetProjectJobRequest(job_id=job_id), metadata=self.md
        )
        return job

    async def wait_status(self, job_id: str, statuses: set[int], within: float = 30) -> jobs_pb2.Job:
        deadline = asyncio.get_running_loop().time() + within
        while True:
            job = await self.get(job_id)
            if job.status in statuses:
                return job
            assert asyncio.get_running_loop().time() < deadline, f"job stuck in {job.status}"
            await asyncio.sleep(0.03)

    async def logs(
        self, job_id: str, offset: int = 0
    ) -> AsyncGenerator[service_pb2.ReadProjectJobLogsResponse, None]:
        async for response in self.jobs.ReadLogs(
            service_pb2.ReadProjectJobLogsRequest(job_id=job_id, offset=offset), metadata=self.md
        ):
            yield response

    async def all_logs(self, job_id: str, offset: int = 0) -> list[service_pb2.LogMessage]:
        return [m async for r in self.logs(job_id, offset) for m in r.logs]


def execute_response(operation: operation_pb2.Operation) -> service_pb2.ExecuteProjectJobResponse:
    response = service_pb2.ExecuteProjectJobResponse()
    operation.response.Unpack(response)
    return response


def std_text(messages: list[service_pb2.LogMessage], stream: int = service_pb2.OUT) -> str:
    return "".join(
        m.content.decode() for m in messages if m.HasField("standard_stream") and m.standard_stream == stream
    )


def system_text(messages: list[service_pb2.LogMessage]) -> str:
    return "".join(m.content.decode() for m in messages if m.file_path == ".system.log")


async def download(url: str) -> bytes:
    async with httpx.AsyncClient() as http:
        response = await http.get(url)
        response.raise_for_status()
        return response.content


def write_wheel(directory: Path, name: str, version: str, module_source: str) -> Path:
    """A minimal pure-Python wheel (no build backend needed) for offline environment tests."""
    directory.mkdir(parents=True, exist_ok=True)
    dist = f"{name.replace('-', '_')}-{version}"
    path = directory / f"{dist}-py3-none-any.whl"
    files = {
        f"{name.replace('-', '_')}.py": module_source,
        f"{dist}.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{dist}.dist-info/WHEEL": (
            "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        ),
    }
    record = "".join(f"{n},,\n" for n in files) + f"{dist}.dist-info/RECORD,,\n"
    with zipfile.ZipFile(path, "w") as archive:
        for n, text in files.items():
            archive.writestr(n, text)
        archive.writestr(f"{dist}.dist-info/RECORD", record)
    return path


def daemons_of(data_dir: Path) -> list[int]:
    """Live local backend daemon processes serving ``data_dir`` (by their command lines)."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            args = Path(f"/proc/{name}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"dsjobs_lsp.backends.local" in args and str(data_dir).encode() in args:
            found.append(int(name))
    return found
