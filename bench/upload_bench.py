"""Upload benchmark of the run pipeline (one run; prints figures and ratios against the targets).

a) A project of 37 files / ~130 MB run twice, unchanged, by two fresh runners sharing the state dir:
   bytes uploaded by the second run (target 0) and its client-side preparation time (start → `creating job`)
   as a share of the first run's (target <= 10%).
b) A many-file project (300 files: 98 single inputs, a 201-file folder and main.py) executed with
   `dsjobs project job execute` and with the reference `datasphere` 0.10.0 CLI, each against a fresh local
   backend (so neither finds the other's blobs): wall time, target: ours >= 2x faster.
   The reference runs through tests/support/reference_cli.py, as the compatibility test runs it (its channels
   replaced by an insecure one, fast polling, no PyPI version check).

   The 300 files make 100 uploads (98 x 64 KiB, main.py, the folder as one 12.6 MiB zip). On loopback the
   figure is CPU-bound: the reference sends one request at a time on a new connection; ours keeps a few
   keep-alive connections busy, so its client and the store work side by side, which needs the second core
   (other load on the machine narrows the gap). With a simulated round trip per HTTP request (the real
   service's object storage is remote; `LocalServer(public_http_url=...)` points the presigned URLs at a
   `DelayProxy`) concurrency dominates.

Usage: python bench/upload_bench.py [--big-mb 130] [--many 300] [--repeat 3] [--rtt-ms 0 --rtt-ms 20]
       [--skip-reference]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
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


async def bench_rerun(work: Path, total_mb: int, repeat: int) -> None:
    """a) first run vs `repeat` re-runs of the unchanged 37-file project (median)."""
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
        for _ in range(1 + repeat):
            timeline = Timeline()
            outcome = await JobRunner(settings, target=target).run(
                RunRequest(working_dir=project, config=config), timeline
            )
            assert outcome.exit_code == 0, outcome
            runs.append(timeline)
    finally:
        await server.stop(0)
    first, again = runs[0], runs[1:]
    size = sum(p.stat().st_size for p in files) / (1 << 20)
    prepare = statistics.median(t.preparation for t in again)
    uploaded = max(t.uploaded for t in again)
    ratio = prepare / first.preparation
    print(f"a) 37 files, {size:.1f} MB, first run then {repeat} runs of the unchanged project")
    print(
        f"   first run : prepare {first.preparation * 1000:7.1f} ms, "
        f"uploaded {first.uploaded / (1 << 20):.1f} MB"
    )
    print(f"   re-runs   : prepare {prepare * 1000:7.1f} ms (median), uploaded {uploaded} B (max)")
    print(f"   re-run upload: {uploaded} B (target 0) -> {'OK' if uploaded == 0 else 'MISS'}")
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


async def run_ours(work: Path, project: Path, env: dict[str, str], tag: str, rtt: float) -> Timing:
    """`dsjobs project job execute` against a fresh in-process backend (found through its server.json)."""
    async with backend(work / f"backend-ours-{tag}", rtt) as server:
        write_server_info(server.layout, server.grpc_port, server.http_port, server.host)
        ours_env = {
            **env,
            "DSJOBS_LOCAL_DATA_DIR": str(server.layout.root),
            "DSJOBS_STATE_DIR": str(work / f"state-{tag}"),
            "DSJOBS_BACKEND": "local",
        }
        argv = [sys.executable, "-m", "dsjobs_lsp.cli.main", "project", "job", "execute", "-c", "config.yaml"]
        try:
            return await timed(argv, cwd=project, env=ours_env)
        finally:
            server.layout.server_info.unlink(missing_ok=True)


async def run_reference(
    work: Path, project: Path, env: dict[str, str], launcher: Path, tag: str, rtt: float
) -> Timing:
    """The reference CLI's `project job execute` against a fresh in-process backend."""
    from tests.support.reference_cli import reference_command, reference_env

    async with backend(work / f"backend-ref-{tag}", rtt) as server:
        args = ["project", "job", "execute", "-p", LOCAL_PROJECT_ID, "-c", "config.yaml"]
        argv = reference_command(launcher, server.endpoints.jobs, args)
        return await timed(argv, cwd=project, env=reference_env(server.token, env))


class DelayProxy:
    """A TCP proxy in front of the HTTP file store holding every server->client chunk for `delay` seconds
    (and the connection set-up as long): one simulated round trip per request, like a remote object store.
    It listens before the store exists (the store's URLs must name it); `target_port` is set once it does."""

    def __init__(self, delay: float) -> None:
        self.target_port = 0
        self.delay = delay
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> int:
        """Listen on a free port and return it."""
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        """Stop listening and drop open connections."""
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()

    async def _handle(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await asyncio.sleep(self.delay)
            server_reader, server_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
            await asyncio.gather(
                self._pipe(client_reader, server_writer, 0.0),
                self._pipe(server_reader, client_writer, self.delay),
            )
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self._tasks.discard(task)
            client_writer.close()

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float) -> None:
        try:
            while data := await reader.read(1 << 16):
                if delay:
                    await asyncio.sleep(delay)
                writer.write(data)
                await writer.drain()
        finally:
            writer.close()


@asynccontextmanager
async def backend(data_dir: Path, rtt: float) -> AsyncIterator[LocalServer]:
    """A fresh in-process local backend; with `rtt` > 0 its presigned URLs lead through a `DelayProxy`."""
    proxy = DelayProxy(rtt) if rtt > 0 else None
    public_url = f"http://127.0.0.1:{await proxy.start()}" if proxy is not None else None
    server = LocalServer(data_dir, offline=True, public_http_url=public_url)
    await server.start()
    if proxy is not None:
        proxy.target_port = server.http_port
    try:
        yield server
    finally:
        if proxy is not None:
            await proxy.stop()
        await server.stop(0)


def median_timing(timings: list[Timing]) -> Timing:
    """Median wall time and median create+upload time."""
    return Timing(
        statistics.median(t.wall for t in timings), statistics.median(t.upload_phase for t in timings)
    )


async def bench_many_files(
    work: Path, count: int, repeat: int, rtts: list[float], with_reference: bool
) -> None:
    """b) ours vs the reference CLI on a many-file project, per simulated RTT, `repeat` rounds, medians."""
    project = many_file_project(work, count)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "DSJOBS_PROJECT")}
    launcher: Path | None = None
    if with_reference:
        from tests.support.reference_cli import write_launcher

        launcher = write_launcher(work)
    print(f"b) {count} files ({count * 64 // 1024} MB) executed end to end, median of {repeat} rounds")
    for rtt in rtts:
        ours_runs, ref_runs = [], []
        for round_ in range(repeat):
            tag = f"{rtt}-{round_}"
            ours_runs.append(await run_ours(work, project, env, tag, rtt))
            if launcher is not None:
                ref_runs.append(await run_reference(work, project, env, launcher, tag, rtt))
        ours = median_timing(ours_runs)
        where = "loopback" if rtt == 0 else f"+{rtt * 1000:.0f} ms RTT per HTTP request (DelayProxy)"
        print(f"   [{where}]")
        print(f"   ours (dsjobs)       : wall {ours.wall:5.2f} s, upload {ours.upload_phase:5.2f} s")
        if launcher is None:
            continue
        theirs = median_timing(ref_runs)
        print(f"   reference datasphere: wall {theirs.wall:5.2f} s, upload {theirs.upload_phase:5.2f} s")
        speedup = theirs.upload_phase / ours.upload_phase
        verdict = "OK" if speedup >= 2 else "MISS"
        print(f"   create+upload speed-up: {speedup:.2f}x (target >= 2x) -> {verdict}")
        print(f"   end-to-end speed-up   : {theirs.wall / ours.wall:.2f}x (CLI start-up and job included)")


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--big-mb", type=int, default=130)
    parser.add_argument("--many", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--rtt-ms", type=float, action="append", help="simulated RTTs for b) (default 0, 20)")
    parser.add_argument("--skip-reference", action="store_true")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    work = Path(tempfile.mkdtemp(prefix="dsjobs-upload-bench-"))
    try:
        await bench_rerun(work, args.big_mb, args.repeat)
        rtts = [ms / 1000 for ms in (args.rtt_ms or [0.0, 20.0])]
        await bench_many_files(work, args.many, args.repeat, rtts, not args.skip_reference)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main())
