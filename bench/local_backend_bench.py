"""Benchmark of the embedded local backend (one run; prints figures and ratios against the targets).

1. ReadLogs latency: line printed by the job -> line received by a streaming client (p50/p99; targets
   <= 100 / 500 ms).
2. Upload throughput of our client (`loopback.upload_files`, what a run uploads with) to a presigned URL vs
   `cp` of the same file from the page cache (target >= 60%), each round's ratio, the median of 5 rounds.
   The store copies the file itself, its answer ending when the copy is whole; it stores the file once the
   copy hashes to the sha256 (a job waits for that), so the bench also prints when the file was verified
   and stored, and sha256 of the same file alone: the most a verified upload can reach.
3. With a cached Python environment: Execute -> first log line (target <= 1 s).

Usage: python bench/local_backend_bench.py [--upload-mb 256]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import mmap
import os
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import httpx
from yandex.cloud.datasphere.v2.jobs import jobs_pb2
from yandex.cloud.datasphere.v2.jobs import project_job_service_pb2 as service_pb2
from yandex.cloud.datasphere.v2.jobs import project_job_service_pb2_grpc as service_grpc

from dsjobs_lsp.backends.local import LOCAL_PROJECT_ID, LocalServer
from dsjobs_lsp.core.client.loopback import upload_files
from dsjobs_lsp.core.client.targets import UploadTarget

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.support.local_backend import running_local_server

UPLOAD_ROUNDS = 5
LATENCY_SCRIPT = b"""import time
for i in range(200):
    print(f"{time.time():.6f}", flush=True)
    time.sleep(0.01)
"""


def _file(path: str, content: bytes, var: str = "") -> jobs_pb2.File:
    return jobs_pb2.File(
        desc=jobs_pb2.FileDesc(path=path, var=var),
        sha256=hashlib.sha256(content).hexdigest(),
        size_bytes=len(content),
    )


class Bench:
    def __init__(self, server: LocalServer, channel: grpc.aio.Channel) -> None:
        self.server = server
        self.stub = service_grpc.ProjectJobServiceStub(channel)
        self.md = (("authorization", f"Bearer {server.token}"),)

    async def create(self, params: jobs_pb2.JobParameters, contents: dict[str, bytes]) -> str:
        operation = await self.stub.Create(
            service_pb2.CreateProjectJobRequest(project_id=LOCAL_PROJECT_ID, job_parameters=params),
            metadata=self.md,
        )
        response = service_pb2.CreateProjectJobResponse()
        operation.response.Unpack(response)
        async with httpx.AsyncClient() as http:
            for item in response.upload_files:
                (await http.put(item.url, content=contents[item.file.sha256])).raise_for_status()
        return response.job_id

    async def stream(self, job_id: str) -> list[tuple[float, bytes]]:
        received = []
        async for response in self.stub.ReadLogs(
            service_pb2.ReadProjectJobLogsRequest(job_id=job_id), metadata=self.md
        ):
            now = time.time()
            received += [(now, m.content) for m in response.logs if m.HasField("standard_stream")]
        return received

    async def log_latency(self) -> tuple[float, float]:
        script = _file("lat.py", LATENCY_SCRIPT)
        job_id = await self.create(
            jobs_pb2.JobParameters(cmd="python lat.py", input_files=[script]), {script.sha256: LATENCY_SCRIPT}
        )
        reader = asyncio.create_task(self.stream(job_id))
        await self.stub.Execute(service_pb2.ExecuteProjectJobRequest(job_id=job_id), metadata=self.md)
        lines = await reader
        delays = sorted((got - float(content)) * 1000 for got, content in lines)
        return statistics.median(delays), delays[int(len(delays) * 0.99) - 1]

    async def upload_ratio(self, megabytes: int, scratch: Path) -> UploadFigures:
        """Seconds of `cp` of a file in the page cache, of sha256 of it and of our client's upload of it, in
        turn, `UPLOAD_ROUNDS` times."""
        source = scratch / "payload.bin"
        await asyncio.to_thread(_write_random, source, megabytes)
        digest = await asyncio.to_thread(_sha256_of, source)
        size = source.stat().st_size
        figures = UploadFigures(size)
        for round_ in range(UPLOAD_ROUNDS):
            started = time.perf_counter()
            await asyncio.to_thread(
                subprocess.run, ["cp", str(source), str(scratch / "copy.bin")], check=True
            )
            figures.copies.append(time.perf_counter() - started)
            (scratch / "copy.bin").unlink()
            started = time.perf_counter()
            await asyncio.to_thread(_sha256_of, source)
            figures.hashes.append(time.perf_counter() - started)
            item = jobs_pb2.File(desc=jobs_pb2.FileDesc(path="payload.bin"), sha256=digest, size_bytes=size)
            operation = await self.stub.Create(
                service_pb2.CreateProjectJobRequest(
                    project_id=LOCAL_PROJECT_ID,
                    job_parameters=jobs_pb2.JobParameters(cmd="true", input_files=[item]),
                ),
                metadata=self.md,
            )
            response = service_pb2.CreateProjectJobResponse()
            operation.response.Unpack(response)
            [upload] = response.upload_files
            target = UploadTarget(upload.url, source, size, digest, f"payload.bin ({round_})")
            started = time.perf_counter()
            await upload_files([target])
            figures.uploads.append(time.perf_counter() - started)
            await self.server.engine.verifications.settle([digest])
            figures.verified.append(time.perf_counter() - started)
            assert self.server.engine.store.has(digest)
            await asyncio.to_thread(self.server.engine.store.remove, digest)
        return figures

    async def first_line_with_cached_env(self, wheels: Path) -> float:
        script_bytes = b"import dsjobs_probe\nprint('first line', flush=True)\n"
        script = _file("first.py", script_bytes)
        env = jobs_pb2.Environment(
            python_env=jobs_pb2.PythonEnv(
                python_version=f"{sys.version_info.major}.{sys.version_info.minor}",
                requirements=["dsjobs-probe==1.0"],
                pip_options=jobs_pb2.PipOptions(extra_index_urls=[wheels.as_uri()]),
            )
        )
        params = jobs_pb2.JobParameters(cmd="python first.py", input_files=[script], env=env)
        warmup = await self.create(params, {script.sha256: script_bytes})
        await self.stub.Execute(service_pb2.ExecuteProjectJobRequest(job_id=warmup), metadata=self.md)
        await self.stream(warmup)
        job_id = await self.create(params, {script.sha256: script_bytes})
        started = time.perf_counter()
        await self.stub.Execute(service_pb2.ExecuteProjectJobRequest(job_id=job_id), metadata=self.md)
        async for response in self.stub.ReadLogs(
            service_pb2.ReadProjectJobLogsRequest(job_id=job_id), metadata=self.md
        ):
            if any(m.HasField("standard_stream") for m in response.logs):
                first = time.perf_counter() - started
                await self.stream(job_id)  # let the job end before its folder is removed
                return first
        raise RuntimeError("no output")


@dataclass
class UploadFigures:
    """Seconds per round of the copy, the hash and the upload of a file of `size` bytes."""

    size: int
    copies: list[float] = field(default_factory=list)
    hashes: list[float] = field(default_factory=list)
    uploads: list[float] = field(default_factory=list)
    verified: list[float] = field(default_factory=list)

    def rate(self, seconds: list[float]) -> float:
        """MB/s of the median round."""
        return self.size / statistics.median(seconds) / 1e6

    def share_of_copy(self, seconds: list[float]) -> float:
        """The median of the rounds' copy time / this time."""
        return statistics.median(copy / other for copy, other in zip(self.copies, seconds, strict=True))


def _sha256_of(path: Path) -> str:
    with open(path, "rb") as stream, mmap.mmap(stream.fileno(), 0, access=mmap.ACCESS_READ) as pages:
        return hashlib.sha256(pages).hexdigest()


def _write_random(path: Path, megabytes: int) -> None:
    with open(path, "wb") as out:
        for _ in range(megabytes):
            out.write(os.urandom(1 << 20))


def _write_probe_wheel(directory: Path) -> None:
    dist = "dsjobs_probe-1.0"
    with zipfile.ZipFile(directory / f"{dist}-py3-none-any.whl", "w") as archive:
        archive.writestr("dsjobs_probe.py", "VALUE = 1\n")
        archive.writestr(
            f"{dist}.dist-info/METADATA", "Metadata-Version: 2.1\nName: dsjobs-probe\nVersion: 1.0\n"
        )
        archive.writestr(
            f"{dist}.dist-info/WHEEL",
            "Wheel-Version: 1.0\nGenerator: bench\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        )
        archive.writestr(f"{dist}.dist-info/RECORD", "")


async def main(upload_mb: int) -> None:
    with tempfile.TemporaryDirectory(prefix="dsjobs-bench-") as tmp:
        scratch = Path(tmp)
        async with (
            running_local_server(scratch / "data") as server,
            grpc.aio.insecure_channel(server.endpoints.jobs) as channel,
        ):
            bench = Bench(server, channel)
            p50, p99 = await bench.log_latency()
            print(
                f"ReadLogs latency: p50 {p50:.1f} ms (target <= 100, {p50 / 100:.2f}x of budget), "
                f"p99 {p99:.1f} ms (target <= 500, {p99 / 500:.2f}x of budget)"
            )
            up = await bench.upload_ratio(upload_mb, scratch)
            print(
                f"upload {upload_mb} MB: presigned PUT {up.rate(up.uploads):.0f} MB/s "
                f"vs file copy {up.rate(up.copies):.0f} MB/s "
                f"= {up.share_of_copy(up.uploads):.0%} (target >= 60%); verified and stored "
                f"{up.rate(up.verified):.0f} MB/s = {up.share_of_copy(up.verified):.0%}; sha256 of the "
                f"file alone {up.rate(up.hashes):.0f} MB/s = {up.share_of_copy(up.hashes):.0%} of the copy "
                f"(the most a verified upload can reach); medians of {UPLOAD_ROUNDS} rounds, load "
                f"{os.getloadavg()[0]:.1f}"
            )
            wheels = scratch / "wheels"
            wheels.mkdir()
            _write_probe_wheel(wheels)
            first = await bench.first_line_with_cached_env(wheels)
            print(
                f"Execute -> first log line with a cached environment: {first * 1000:.0f} ms "
                f"(target <= 1000 ms, {first:.2f}x of budget)"
            )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upload-mb", type=int, default=256)
    asyncio.run(main(parser.parse_args().upload_mb))
