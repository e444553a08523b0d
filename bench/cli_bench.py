"""The `dsjobs` CLI against the reference `datasphere` 0.10.0 CLI on the same local backend (one run; prints
every figure and its ratio against the target).

1. `--help`: wall time of the whole process, ours / reference (target <= 0.3x).
2. A folder input of 5,000 x 4 KB files, cold (fresh backend, fresh client state: nothing hashed, zipped or
   stored before): process start -> the `created job` line, ours / reference (target <= 0.6x).
3. 100 separate 4 KB inputs, cold, the same way (target <= 0.7x).
4. `project job list` of a project with 5,000 jobs: wall time, ours / reference (target <= 0.5x).

Each figure is the median of `--repeat` rounds, ours and the reference taking turns. The reference runs
through tests/support/reference_cli.py (its channels replaced by an insecure one, no PyPI version check);
both talk to an in-process local backend. Compile the bytecode first
(`python -m compileall -q .venv/lib src`): without `.pyc` files every start recompiles.

Usage: python bench/cli_bench.py [--repeat 5] [--only help,folder,inputs,list]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from yandex.cloud.datasphere.v2.jobs import jobs_pb2
from yandex.cloud.datasphere.v2.jobs import project_job_service_pb2 as service_pb2

from dsjobs_lsp.backends.local import LOCAL_PROJECT_ID, LocalServer
from dsjobs_lsp.backends.local.launcher import write_server_info

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.support.reference import reference_venv  # noqa: E402
from tests.support.reference_cli import reference_command, reference_env, write_launcher  # noqa: E402

CREATED = b"created job"
Measure = Callable[[str], Awaitable[float]]
"""Runs one side ("ours" or "ref") once and returns its figure in seconds."""


def children_cpu() -> float:
    """CPU seconds (user + system) of every finished child process so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def text_file_bytes(size: int) -> bytes:
    """`size` bytes of text that deflates about as well as source code or CSV (hex digits)."""
    return os.urandom(size // 2 + 1).hex().encode()[:size]


def folder_project(work: Path, count: int, size: int) -> Path:
    """main.py and a folder `data` of `count` files of `size` bytes, shipped as one input."""
    project = work / f"folder-{count}"
    (project / "data").mkdir(parents=True)
    for i in range(count):
        (project / "data" / f"f{i:05d}.txt").write_bytes(text_file_bytes(size))
    (project / "main.py").write_text("import os\nprint(len(os.listdir('data')), 'files')\n")
    (project / "config.yaml").write_text(
        "name: folder\ncmd: python main.py\ninputs:\n  - main.py\n  - data\n"
    )
    return project


def inputs_project(work: Path, count: int, size: int) -> Path:
    """main.py and `count - 1` files of `size` bytes, each its own input (inputs are limited to 100)."""
    project = work / f"inputs-{count}"
    project.mkdir(parents=True)
    names = [f"f{i:03d}.txt" for i in range(count - 1)]
    for name in names:
        (project / name).write_bytes(text_file_bytes(size))
    (project / "main.py").write_text("print('ok')\n")
    listed = "".join(f"  - {name}\n" for name in ["main.py", *names])
    (project / "config.yaml").write_text(f"name: inputs\ncmd: python main.py\ninputs:\n{listed}")
    return project


async def until_created(argv: list[str], *, cwd: Path, env: dict[str, str]) -> float:
    """Seconds from starting `argv` to its `created job` line; then the process is awaited (must succeed)."""
    started = time.perf_counter()
    process = await asyncio.create_subprocess_exec(
        *argv, cwd=cwd, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    assert process.stdout is not None
    created: float | None = None
    output = []
    while line := await process.stdout.readline():
        output.append(line)
        if created is None and CREATED in line:
            created = time.perf_counter() - started
    if await process.wait() != 0 or created is None:
        raise RuntimeError(f"{argv[:4]} failed ({process.returncode}):\n{b''.join(output)[-3000:].decode()}")
    return created


async def wall(argv: list[str], *, cwd: Path, env: dict[str, str]) -> float:
    """Wall seconds of `argv`, which must succeed."""
    started = time.perf_counter()
    process = await asyncio.create_subprocess_exec(
        *argv, cwd=cwd, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    output, _ = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"{argv[:4]} failed ({process.returncode}):\n{output[-3000:].decode()}")
    return time.perf_counter() - started


@asynccontextmanager
async def backend(data_dir: Path) -> AsyncIterator[LocalServer]:
    """A local backend in this process, found by `dsjobs` through its server.json."""
    server = LocalServer(data_dir, offline=True)
    await server.start()
    write_server_info(server.layout, server.grpc_port, server.http_port, server.host)
    try:
        yield server
    finally:
        server.layout.server_info.unlink(missing_ok=True)
        await server.stop(0)


class Sides:
    """How each CLI is started against a given backend."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.base_env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "DSJOBS_PROJECT")}
        self.launcher = write_launcher(work)
        self.rounds = 0

    def ours(self, server: LocalServer, args: list[str]) -> tuple[list[str], dict[str, str]]:
        """argv and environment of `dsjobs args` against `server`, with a fresh client state dir."""
        self.rounds += 1
        env = {
            **self.base_env,
            "DSJOBS_LOCAL_DATA_DIR": str(server.layout.root),
            "DSJOBS_STATE_DIR": str(self.work / f"state-{self.rounds}"),
            "DSJOBS_BACKEND": "local",
            "DSJOBS_CONFIG": str(self.work / "no-user-config.yaml"),
        }
        return [str(Path(sys.executable).parent / "dsjobs"), *args], env

    def reference(self, server: LocalServer, args: list[str]) -> tuple[list[str], dict[str, str]]:
        """argv and environment of `datasphere args` against `server`."""
        return reference_command(self.launcher, server.endpoints.jobs, args), reference_env(
            server.token, self.base_env
        )


async def compare(name: str, target: float, repeat: int, measure: Measure) -> None:
    """Run both sides `repeat` times in turn and print medians and the ratio; also the CPU seconds of each
    whole CLI process (and what it started), the steadier figure on a loaded machine."""
    times: dict[str, list[float]] = {"ours": [], "ref": []}
    cpus: dict[str, list[float]] = {"ours": [], "ref": []}
    for _ in range(repeat):
        for side in ("ours", "ref"):
            before = children_cpu()
            times[side].append(await measure(side))
            cpus[side].append(children_cpu() - before)
    mine, theirs = statistics.median(times["ours"]), statistics.median(times["ref"])
    ratio = mine / theirs
    cpu_ratio = statistics.median(cpus["ours"]) / statistics.median(cpus["ref"])
    verdict = "OK" if ratio <= target else "MISS"
    print(
        f"{name}: dsjobs {mine * 1000:.0f} ms, datasphere {theirs * 1000:.0f} ms (medians of {repeat}) "
        f"= {ratio:.2f}x (target <= {target}x) -> {verdict}; CPU of the whole runs {cpu_ratio:.2f}x",
        flush=True,
    )


async def bench_help(sides: Sides, repeat: int) -> None:
    """1. `--help`."""
    reference = [str(reference_venv() / "bin" / "datasphere"), "--help"]
    ours = [str(Path(sys.executable).parent / "dsjobs"), "--help"]

    async def measure(side: str) -> float:
        return await wall(ours if side == "ours" else reference, cwd=sides.work, env=sides.base_env)

    await compare("--help", 0.3, repeat, measure)


async def bench_cold_start(sides: Sides, project: Path, name: str, target: float, repeat: int) -> None:
    """2./3. start -> `created job` with nothing known beforehand (a new backend and state per run)."""

    async def measure(side: str) -> float:
        sides.rounds += 1
        async with backend(sides.work / f"backend-{name}-{side}-{sides.rounds}") as server:
            if side == "ours":
                argv, env = sides.ours(server, ["project", "job", "execute", "-c", "config.yaml"])
            else:
                args = ["project", "job", "execute", "-p", LOCAL_PROJECT_ID, "-c", "config.yaml"]
                argv, env = sides.reference(server, args)
            return await until_created(argv, cwd=project, env=env)

    await compare(f"{name}, cold: start -> created job", target, repeat, measure)


async def bench_list(sides: Sides, jobs: int, repeat: int) -> None:
    """4. `project job list` over `jobs` jobs."""
    async with backend(sides.work / "backend-list") as server:
        request = service_pb2.CreateProjectJobRequest(
            project_id=LOCAL_PROJECT_ID, name="listed", job_parameters=jobs_pb2.JobParameters(cmd="true")
        )
        for _ in range(jobs):
            await server.engine.create(request)

        async def measure(side: str) -> float:
            if side == "ours":
                argv, env = sides.ours(server, ["project", "job", "list"])
            else:
                argv, env = sides.reference(server, ["project", "job", "list", "-p", LOCAL_PROJECT_ID])
            return await wall(argv, cwd=sides.work, env=env)

        await compare(f"project job list, {jobs} jobs", 0.5, repeat, measure)


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--only", default="help,folder,inputs,list", help="comma-separated parts to run")
    args = parser.parse_args()
    parts = set(args.only.split(","))
    work = Path(tempfile.mkdtemp(prefix="dsjobs-cli-bench-"))
    try:
        sides = Sides(work)
        if "help" in parts:
            await bench_help(sides, args.repeat)
        if "folder" in parts:
            project = folder_project(work, 5000, 4096)
            await bench_cold_start(sides, project, "5,000 x 4 KB in a folder", 0.6, args.repeat)
        if "inputs" in parts:
            project = inputs_project(work, 100, 4096)
            await bench_cold_start(sides, project, "100 separate 4 KB inputs", 0.7, args.repeat)
        if "list" in parts:
            await bench_list(sides, 5000, args.repeat)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main())
