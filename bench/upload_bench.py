"""Upload benchmark of the run pipeline (one run; prints figures and ratios against the targets).

a) A project of 37 files / ~130 MB run twice, unchanged, by two fresh runners sharing the state dir:
   bytes uploaded by the second run (target 0) and its client-side preparation time (start → `creating job`)
   as a share of the first run's (target <= 10%).
b) A many-file project (300 files: 98 single inputs, a 201-file folder and main.py) executed with
   `dsjobs project job execute` and with the reference `datasphere` 0.10.0 CLI, each against a fresh local
   backend (so neither finds the other's blobs): wall time, target: ours >= 2x faster.
   The reference is pointed at the local server the way tests/backends/local/test_local_backend_reference.py
   does it (its channels replaced by an insecure one, fast polling, no PyPI version check).

Usage: python bench/upload_bench.py [--big-mb 130] [--many 300] [--skip-reference]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from dsjobs_lsp.backends.local import LOCAL_PROJECT_ID, LocalServer
from dsjobs_lsp.backends.local.launcher import write_server_info
from dsjobs_lsp.core.config import JobConfig, VariablePath
from dsjobs_lsp.core.jobs.backend import static_target
from dsjobs_lsp.core.jobs.events import ConsoleLine, Event, Progress
from dsjobs_lsp.core.jobs.request import RunRequest
from dsjobs_lsp.core.jobs.runner import JobRunner
from dsjobs_lsp.core.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
REFERENCE_LAUNCHER = textwrap.dedent("""
    import sys
    import grpc
    address = sys.argv[1]
    import datasphere.channel
    import datasphere.client
    import datasphere.main

    def local_channel(*_args, **_kwargs):
        return grpc.insecure_channel(address)

    datasphere.channel._get_channel = local_channel
    datasphere.client.get_job_channel = local_channel
    datasphere.client.get_project_channel = local_channel
    datasphere.client.get_op_channel = local_channel
    datasphere.client.operation_check_interval_seconds = 0.2
    datasphere.client.log_read_interval_seconds = 0.2
    datasphere.main.check_package_version = lambda: None
    sys.argv = ["datasphere", *sys.argv[2:]]
    datasphere.main.main()
""")


class Timeline:
    """Records when the run reached `creating job ...` and how many bytes it uploaded."""

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.creating_at: float | None = None
        self.uploaded = 0

    def __call__(self, event: Event) -> None:
        if isinstance(event, ConsoleLine) and event.text == "creating job ..." and self.creating_at is None:
            self.creating_at = time.perf_counter()
        if isinstance(event, Progress) and event.stage == "upload":
            self.uploaded = max(self.uploaded, event.done)

    @property
    def preparation(self) -> float:
        assert self.creating_at is not None
        return self.creating_at - self.start


def write_random_files(folder: Path, count: int, size: int) -> list[Path]:
    """`count` files of `size` random bytes."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        path = folder / f"f{i:03d}.bin"
        path.write_bytes(os.urandom(size))
        paths.append(path)
    return paths


async def bench_rerun(work: Path, total_mb: int) -> None:
    """a) first vs second run of an unchanged 37-file project."""
    project = work / "big"
    files = write_random_files(project / "data", 36, total_mb * (1 << 20) // 36)
    (project / "main.py").write_text("print('ok')\n")
    config = JobConfig(
        cmd="python main.py",
        inputs=[VariablePath(path="main.py"), *(VariablePath(path=f"data/{p.name}") for p in files)],
    )
    server = LocalServer(work / "backend-a", offline=True)
    await server.start()
    try:
        settings = Settings(state_dir=work / "state-a")
        target = static_target(server.endpoints, server.token, default_project_id=LOCAL_PROJECT_ID)
        runs = []
        for _ in range(2):
            timeline = Timeline()
            runner = JobRunner(settings, target=target)
            started = time.perf_counter()
            outcome = await runner.run(RunRequest(working_dir=project, config=config), timeline)
            assert outcome.exit_code == 0, outcome
            runs.append((timeline, time.perf_counter() - started))
    finally:
        await server.stop(0)
    (first, first_wall), (second, second_wall) = runs
    size = sum(p.stat().st_size for p in files) / (1 << 20)
    ratio = second.preparation / first.preparation
    print(f"a) 37 files, {size:.1f} MB")
    print(
        f"   first run : prepare {first.preparation * 1000:7.1f} ms, "
        f"uploaded {first.uploaded / (1 << 20):6.1f} MB,"
        f" wall {first_wall:5.2f} s"
    )
    print(
        f"   second run: prepare {second.preparation * 1000:7.1f} ms, uploaded {second.uploaded:9d} B,"
        f"  wall {second_wall:5.2f} s"
    )
    print(
        f"   second-run upload: {second.uploaded} B (target 0) -> {'OK' if second.uploaded == 0 else 'MISS'}"
    )
    print(f"   preparation ratio: {ratio:.1%} (target <= 10%) -> {'OK' if ratio <= 0.10 else 'MISS'}")


def many_file_project(work: Path, count: int) -> Path:
    """main.py + (count-1) files: 98 listed one by one, the rest in one folder (inputs are limited to 100)."""
    project = work / "many"
    singles = min(98, count - 1)
    write_random_files(project / "data", singles, 64 << 10)
    write_random_files(project / "bulk", count - 1 - singles, 64 << 10)
    (project / "main.py").write_text("import os\nprint(len(os.listdir('data')), 'files')\n")
    inputs = ["  - main.py", *(f"  - data/f{i:03d}.bin" for i in range(singles)), "  - bulk"]
    (project / "config.yaml").write_text(
        "name: many\ncmd: python main.py\ninputs:\n" + "\n".join(inputs) + "\n"
    )
    return project


STAMP = re.compile(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) - \[INFO\] - (creating job \.\.\.|created job)")


@dataclass
class Timing:
    """Wall time of a whole command and of its create+upload phase (`creating job ...` → `created job`)."""

    wall: float
    upload_phase: float


def upload_phase(output: str) -> float:
    """Seconds between the `creating job ...` and `created job` log lines (both CLIs print them)."""
    stamps = {
        m.group(2): datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S,%f") for m in STAMP.finditer(output)
    }
    return (stamps["created job"] - stamps["creating job ..."]).total_seconds()


async def timed(argv: list[str], *, cwd: Path, env: dict[str, str]) -> Timing:
    """Timing of a subprocess that must succeed."""
    started = time.perf_counter()
    process = await asyncio.create_subprocess_exec(
        *argv, cwd=cwd, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    output, _ = await process.communicate()
    elapsed = time.perf_counter() - started
    text = output.decode()
    if process.returncode != 0:
        raise RuntimeError(f"{argv[:3]} failed ({process.returncode}):\n{text[-2000:]}")
    return Timing(elapsed, upload_phase(text))


async def bench_many_files(work: Path, count: int, with_reference: bool) -> None:
    """b) ours vs the reference CLI on a many-file project."""
    project = many_file_project(work, count)
    base_env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "DSJOBS_PROJECT")}
    ours_server = LocalServer(work / "backend-ours", offline=True)
    await ours_server.start()
    try:
        write_server_info(ours_server.layout, ours_server.grpc_port, ours_server.http_port, ours_server.host)
        env = {
            **base_env,
            "DSJOBS_LOCAL_DATA_DIR": str(ours_server.layout.root),
            "DSJOBS_STATE_DIR": str(work / "state-b"),
            "DSJOBS_BACKEND": "local",
        }
        ours = await timed(
            [sys.executable, "-m", "dsjobs_lsp.cli.main", "project", "job", "execute", "-c", "config.yaml"],
            cwd=project,
            env=env,
        )
    finally:
        ours_server.layout.server_info.unlink(missing_ok=True)
        await ours_server.stop(0)
    print(f"b) {count} files ({count * 64 // 1024} MB) executed end to end")
    print(
        f"   ours (dsjobs project job execute): wall {ours.wall:5.2f} s, "
        f"create+upload {ours.upload_phase:5.2f} s"
    )
    if not with_reference:
        return
    from tests.support.reference import reference_python

    reference = reference_python()
    (work / "launcher.py").write_text(REFERENCE_LAUNCHER)
    ref_server = LocalServer(work / "backend-ref", offline=True)
    await ref_server.start()
    try:
        env = {**base_env, "YC_IAM_TOKEN": ref_server.token}
        theirs = await timed(
            [
                str(reference),
                str(work / "launcher.py"),
                ref_server.endpoints.jobs,
                "project",
                "job",
                "execute",
                "-p",
                LOCAL_PROJECT_ID,
                "-c",
                "config.yaml",
            ],
            cwd=project,
            env=env,
        )
    finally:
        await ref_server.stop(0)
    print(
        f"   reference datasphere 0.10.0      : wall {theirs.wall:5.2f} s, create+upload "
        f"{theirs.upload_phase:5.2f} s"
    )
    upload_speedup = theirs.upload_phase / ours.upload_phase
    print(
        f"   create+upload speed-up: {upload_speedup:.2f}x (target >= 2x) -> "
        f"{'OK' if upload_speedup >= 2 else 'MISS'}"
    )
    print(
        f"   end-to-end speed-up   : {theirs.wall / ours.wall:.2f}x "
        "(includes both CLIs' start-up and the job)"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--big-mb", type=int, default=130)
    parser.add_argument("--many", type=int, default=300)
    parser.add_argument("--skip-reference", action="store_true")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    work = Path(tempfile.mkdtemp(prefix="dsjobs-upload-bench-"))
    try:
        await bench_rerun(work, args.big_mb)
        await bench_many_files(work, args.many, not args.skip_reference)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main())
