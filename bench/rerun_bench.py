"""Warm re-run of a job with a big input: `dsjobs` against the reference `datasphere` 0.10.0 CLI on the same
local backend (one run; prints medians and the ratio against the target).

The project has one input file of `--size-mb` MB (default 1024, random bytes, written once) and a trivial
`cmd` that prints the input's size. Each CLI runs the job once to warm up (the store then holds the file,
our client's hash cache knows it), then `--repeat` warm runs are timed per side, taking turns: process
start -> process exit of `project job execute`, the job ending in SUCCESS (target: ours <= 0.3x).

Where the time goes, from the time each line of the CLI's output arrived: start -> `created job` (config,
hashing, upload), -> the job's own line (execution start, laying out the input), -> exit (job end,
outputs and logs). Also the CPU seconds of each CLI process and of this process, which serves the backend.

Both sides talk to a local backend in this process (`cli_bench.backend`); the reference runs through
tests/support/reference_cli.py (0.2 s polling). Compile the bytecode first
(`python -m compileall -q .venv/lib src`).

Usage: python bench/rerun_bench.py [--size-mb 1024] [--repeat 5]
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
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cli_bench import Sides, backend, children_cpu

from dsjobs_lsp.backends.local import LOCAL_PROJECT_ID, LocalServer

TARGET = 0.3
INPUT = "data.bin"
MAIN = """\
import os

if __name__ == '__main__':
    print('INPUT-SIZE', os.path.getsize('data.bin'), flush=True)
"""
CONFIG = """\
name: rerun
cmd: python main.py
inputs:
  - data.bin
env:
  python:
    type: manual
    version: "{version}"
"""
PHASES = ("start -> created job", "-> job's line", "-> exit")


@dataclass(frozen=True)
class Run:
    """One timed CLI run: wall seconds, the phases' seconds, CPU of the CLI and of this process (backend)."""

    wall: float
    phases: tuple[float, float, float]
    cli_cpu: float
    backend_cpu: float


def own_cpu() -> float:
    """CPU seconds (user + system) of this process: the in-process backend's share."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def write_project(work: Path, size_mb: int) -> Path:
    """The project folder: config.yaml, main.py and `size_mb` MB of random bytes in data.bin."""
    project = work / "project"
    project.mkdir(parents=True)
    chunk = os.urandom(1 << 20)
    with open(project / INPUT, "wb") as out:
        for index in range(size_mb):
            out.write(chunk[index:] + chunk[:index])  # every MB different, cheap to make
    (project / "main.py").write_text(MAIN)
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    (project / "config.yaml").write_text(CONFIG.format(version=version))
    return project


async def timed(argv: list[str], *, cwd: Path, env: dict[str, str], size: int) -> Run:
    """Run `argv` to its end and time it; it must succeed and the job must have seen `size` bytes."""
    cpu_before, backend_before = children_cpu(), own_cpu()
    started = time.perf_counter()
    process = await asyncio.create_subprocess_exec(
        *argv, cwd=cwd, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    assert process.stdout is not None
    created = job_line = None
    output = []
    while line := await process.stdout.readline():
        output.append(line)
        now = time.perf_counter() - started
        if created is None and b"created job" in line:
            created = now
        if job_line is None and f"INPUT-SIZE {size}".encode() in line:
            job_line = now
    returncode = await process.wait()
    ended = time.perf_counter() - started
    if returncode != 0 or created is None or job_line is None:
        raise RuntimeError(f"{argv[:4]} failed ({returncode}):\n{b''.join(output)[-3000:].decode()}")
    phases = (created, job_line - created, ended - job_line)
    return Run(ended, phases, children_cpu() - cpu_before, own_cpu() - backend_before)


class Rerun:
    """Both CLIs running the project against one backend; ours keeps one client state dir (warm cache)."""

    def __init__(self, sides: Sides, server: LocalServer, project: Path) -> None:
        self.sides = sides
        self.server = server
        self.project = project
        self.size = (project / INPUT).stat().st_size

    async def run(self, side: str) -> Run:
        """One run of `project job execute` by `side` ("ours" or "ref")."""
        if side == "ours":
            argv, env = self.sides.ours(self.server, ["project", "job", "execute", "-c", "config.yaml"])
            env["DSJOBS_STATE_DIR"] = str(self.sides.work / "state")
        else:
            args = ["project", "job", "execute", "-p", LOCAL_PROJECT_ID, "-c", "config.yaml"]
            argv, env = self.sides.reference(self.server, args)
        return await timed(argv, cwd=self.project, env=env, size=self.size)


def report(side: str, runs: list[Run]) -> float:
    """Print the medians of `side`'s runs; returns the median wall time."""
    wall = statistics.median(r.wall for r in runs)
    medians = [statistics.median(r.phases[i] for r in runs) for i in range(len(PHASES))]
    phases = ", ".join(f"{name} {s * 1000:.0f} ms" for name, s in zip(PHASES, medians, strict=True))
    cli_cpu = statistics.median(r.cli_cpu for r in runs)
    backend_cpu = statistics.median(r.backend_cpu for r in runs)
    print(
        f"  {side}: {wall * 1000:.0f} ms (min {min(r.wall for r in runs) * 1000:.0f}, "
        f"max {max(r.wall for r in runs) * 1000:.0f}); {phases}; CPU: CLI {cli_cpu:.2f} s, "
        f"backend {backend_cpu:.2f} s",
        flush=True,
    )
    return wall


async def bench(work: Path, size_mb: int, repeat: int) -> None:
    """Warm both sides up, then time `repeat` runs each, in turn."""
    project = await asyncio.to_thread(write_project, work, size_mb)
    sides = Sides(work)
    async with backend(work / "backend") as server:
        rerun = Rerun(sides, server, project)
        for side in ("ours", "ref"):
            await rerun.run(side)
        runs: dict[str, list[Run]] = {"ours": [], "ref": []}
        for _ in range(repeat):
            for side in ("ours", "ref"):
                runs[side].append(await rerun.run(side))
    load = os.getloadavg()[0]
    print(f"re-run of a {size_mb} MB input, warm, end to end (medians of {repeat}; load {load:.1f}):")
    mine, theirs = report("dsjobs", runs["ours"]), report("datasphere", runs["ref"])
    ratio = mine / theirs
    pairwise = statistics.median(o.wall / r.wall for o, r in zip(runs["ours"], runs["ref"], strict=True))
    verdict = "OK" if ratio <= TARGET else "MISS"
    print(
        f"  = {ratio:.2f}x (target <= {TARGET}x) -> {verdict}; round by round {pairwise:.2f}x (median)",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size-mb", type=int, default=1024, help="size of the input file")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="dsjobs-rerun-bench-"))
    try:
        asyncio.run(bench(work, args.size_mb, args.repeat))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
