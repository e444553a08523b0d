"""Language-server benchmark (one run, prints figures and ratios against the targets).

1. cold `initialize` round trip (spawn → InitializeResult) of `python -m dsjobs_lsp` vs a bare pygls server
   (target: at most 1.5 times);
2. a chatty job run through `dsjobs.runFile` on the local backend: log lines per second reaching the client
   (target: ≥ 20,000) and the server's RSS while it streams (target: ≤ 120 MB).

Usage: python3 bench/lsp_bench.py [--lines 200000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.lsp.client import LanguageClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.support.local_backend import isolated_env, stop_local_daemon

BARE_SERVER = "from pygls.lsp.server import LanguageServer\nLanguageServer('bare', '0').start_io()\n"
CHATTY_JOB = """\
import sys
out = sys.stdout
for i in range({lines}):
    out.write(f"log line {{i}} of a chatty job, with some payload to make it realistic\\n")
out.flush()
"""
INIT_RATIO_TARGET = 1.5
LINES_PER_S_TARGET = 20_000
RSS_TARGET_MB = 120.0


QUIET = ("window/logMessage", "window/showMessage", "dsjobs/console", "dsjobs/jobChanged", "dsjobs/progress")


async def start(command: list[str], env: dict[str, str]) -> LanguageClient:
    client = LanguageClient("bench", "0")
    for method in QUIET:
        client.feature(method)(lambda _params: None)
    await client.start_io(*command, env=env)
    return client


async def initialize(client: LanguageClient, options: dict[str, Any] | None = None) -> None:
    capabilities = types.ClientCapabilities()
    await client.initialize_async(
        types.InitializeParams(
            capabilities=capabilities, initialization_options=options, process_id=os.getpid()
        )
    )
    client.initialized(types.InitializedParams())


async def stop(client: LanguageClient) -> None:
    try:
        await asyncio.wait_for(client.shutdown_async(None), 10)
        client.exit(None)
    finally:
        await client.stop()  # type: ignore[no-untyped-call]


async def cold_initialize(command: list[str], env: dict[str, str]) -> float:
    began = time.perf_counter()
    client = await start(command, env)
    await initialize(client)
    elapsed = time.perf_counter() - began
    await stop(client)
    return elapsed


async def bench_initialize(env: dict[str, str], rounds: int, workdir: Path) -> tuple[float, float]:
    bare_script = workdir / "bare_server.py"
    bare_script.write_text(BARE_SERVER)
    ours = [sys.executable, "-m", "dsjobs_lsp"]
    bare = [sys.executable, str(bare_script)]
    ours_times: list[float] = []
    bare_times: list[float] = []
    for _ in range(rounds):  # interleaved, so both see the same machine load
        bare_times.append(await cold_initialize(bare, env))
        ours_times.append(await cold_initialize(ours, env))
    return statistics.median(ours_times), statistics.median(bare_times)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def bench_streaming(env: dict[str, str], lines: int, workdir: Path) -> dict[str, float]:
    project = workdir / "project"
    project.mkdir()
    program = project / "chatty.py"
    program.write_text(CHATTY_JOB.format(lines=lines))
    client = await start([sys.executable, "-m", "dsjobs_lsp"], env)
    received = 0
    first_at = last_at = 0.0
    ended = asyncio.Event()

    @client.feature("dsjobs/log")  # type: ignore[untyped-decorator]
    def on_log(params: Any) -> None:
        nonlocal received, first_at, last_at
        stream = params["stream"] if isinstance(params, dict) else params.stream
        if stream != "stdout":
            return
        count = len(params["lines"] if isinstance(params, dict) else params.lines)
        if not received:
            first_at = time.perf_counter()
        received += count
        last_at = time.perf_counter()

    @client.feature("dsjobs/runEnded")  # type: ignore[untyped-decorator]
    def on_end(params: Any) -> None:
        ended.set()

    await initialize(client, {"storagePath": str(workdir / "state")})
    pid = client._server.pid  # type: ignore[union-attr]
    samples: list[float] = []

    async def sample() -> None:
        while not ended.is_set():
            samples.append(rss_mb(pid))
            await asyncio.sleep(0.1)

    sampler = asyncio.create_task(sample())
    form: Any = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="dsjobs.resolveConfig", arguments=[{"file": str(program)}])
    )
    config = form["config"] if isinstance(form, dict) else form.config
    await client.workspace_execute_command_async(
        types.ExecuteCommandParams(
            command="dsjobs.runFile", arguments=[{"file": str(program), "config": config}]
        )
    )
    await asyncio.wait_for(ended.wait(), 600)
    await sampler
    await stop(client)
    streaming = max(last_at - first_at, 1e-9)
    steady = samples[len(samples) // 2 :] or samples
    return {
        "lines": float(received),
        "seconds": streaming,
        "lines_per_s": received / streaming,
        "rss_max_mb": max(samples, default=0.0),
        "rss_steady_mb": statistics.median(steady) if steady else 0.0,
    }


def verdict(ok: bool) -> str:
    return "OK" if ok else "MISSED"


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lines", type=int, default=200_000, help="lines the chatty job prints")
    parser.add_argument("--rounds", type=int, default=5, help="cold starts of each server")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dsjobs-lsp-bench-") as tmp:
        workdir = Path(tmp)
        env = isolated_env(workdir)
        try:
            ours, bare = await bench_initialize(env, args.rounds, workdir)
            ratio = ours / bare
            print(
                f"cold initialize: dsjobs {ours * 1000:.0f} ms, bare pygls {bare * 1000:.0f} ms, "
                f"ratio {ratio:.2f}x (target <= {INIT_RATIO_TARGET}x) {verdict(ratio <= INIT_RATIO_TARGET)}"
            )
            stream = await bench_streaming(env, args.lines, workdir)
            rate = stream["lines_per_s"]
            print(
                f"log streaming: {stream['lines']:.0f} lines in {stream['seconds']:.2f} s = "
                f"{rate:,.0f} lines/s "
                f"(target >= {LINES_PER_S_TARGET:,}) {verdict(rate >= LINES_PER_S_TARGET)}"
            )
            steady = stream["rss_steady_mb"]
            print(
                f"server RSS while streaming: steady {steady:.0f} MB, max {stream['rss_max_mb']:.0f} MB "
                f"(target <= {RSS_TARGET_MB:.0f} MB) {verdict(steady <= RSS_TARGET_MB)}"
            )
        finally:
            stop_local_daemon(workdir / "data")


if __name__ == "__main__":
    asyncio.run(main())
