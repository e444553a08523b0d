"""A job printing a million lines, through the CLI and through the language server (one run; figures, ratios).

1. `dsjobs project job execute` of the job (warm: its environment and upload are cached) against the job run
   bare as `python job.py | cat`, both writing to a file, in turn: wall ratio (target <= 3x), every line
   arrived, and the local daemon's own CPU seconds during the CLI run (target <= 1.5 s).
2. The same job through the language server (`dsjobs.runFile`): lines per second reaching the client
   (target >= 400,000), measured by `bench/lsp_bench.py`'s streaming part.

Usage: python bench/log_lines_bench.py [--lines 1000000] [--rounds 3] [--no-lsp]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cli_bench_support import Workplace, process_cpu, timed_run, workplace
from lsp_bench import CHATTY_JOB, bench_streaming

WALL_RATIO_TARGET = 3.0
DAEMON_CPU_TARGET_S = 1.5
LSP_LINES_PER_S_TARGET = 400_000


def count_lines(path: Path) -> int:
    """Newlines in a file."""
    count = 0
    with open(path, "rb") as file:
        while block := file.read(1 << 20):
            count += block.count(b"\n")
    return count


def bench_cli(place: Workplace, lines: int, rounds: int) -> float:
    """Print the CLI's wall against the bare pipeline's, its line count and the daemon's CPU.

    Returns the bare pipeline's median wall seconds.
    """
    project = place.project("million", {"job.py": CHATTY_JOB.format(lines=lines)}, "python job.py")
    out = place.root / "out.txt"
    bare_argv = ["sh", "-c", f"{sys.executable} job.py | cat"]
    timed_run(place.dsjobs_argv(), cwd=project, env=place.env, stdout=out)  # warm-up: environment, upload
    pid = place.daemon_pid()
    walls: list[float] = []
    bare_walls: list[float] = []
    cpus: list[float] = []
    for _ in range(rounds):
        before, _ = process_cpu(pid)
        run = timed_run(place.dsjobs_argv(), cwd=project, env=place.env, stdout=out)
        after, _ = process_cpu(pid)
        received = count_lines(out)
        if run.returncode != 0 or received != lines:
            raise RuntimeError(f"the CLI run failed: exit {run.returncode}, {received} of {lines} lines")
        walls.append(run.wall)
        cpus.append(after - before)
        bare_walls.append(timed_run(bare_argv, cwd=project, env=place.env, stdout=out).wall)
    ratios = [ours / bare for ours, bare in zip(walls, bare_walls, strict=True)]
    ratio = statistics.median(ratios)
    cpu = statistics.median(cpus)
    print(
        f"CLI, {lines:,} lines: wall median {statistics.median(walls):.2f} s, `python job.py | cat` "
        f"{statistics.median(bare_walls):.2f} s, ratio median {ratio:.2f}x (min {min(ratios):.2f}, "
        f"max {max(ratios):.2f}; target <= {WALL_RATIO_TARGET:g}x) "
        f"{'OK' if ratio <= WALL_RATIO_TARGET else 'MISSED'}; "
        f"all {lines:,} lines arrived",
        flush=True,
    )
    print(
        f"local daemon CPU during the CLI run: median {cpu:.2f} s (target <= {DAEMON_CPU_TARGET_S:g} s) "
        f"{'OK' if cpu <= DAEMON_CPU_TARGET_S else 'MISSED'}",
        flush=True,
    )
    return statistics.median(bare_walls)


def bench_lsp(place: Workplace, lines: int, bare_wall: float) -> None:
    """Print the language server's log throughput for the same job, and against the bare pipeline's rate."""
    workdir = place.root / "lsp"
    workdir.mkdir()
    stream = asyncio.run(bench_streaming(place.env, lines, workdir))
    rate = stream["lines_per_s"]
    print(
        f"language server, {stream['lines']:,.0f} lines in {stream['seconds']:.2f} s = {rate:,.0f} lines/s "
        f"(target >= {LSP_LINES_PER_S_TARGET:,}, {rate / LSP_LINES_PER_S_TARGET:.2f}x of it) "
        f"{'OK' if rate >= LSP_LINES_PER_S_TARGET else 'MISSED'}; "
        f"server RSS max {stream['rss_max_mb']:.0f} MB",
        flush=True,
    )
    bare_rate = lines / bare_wall
    print(
        f"language server rate / `python job.py | cat` rate ({bare_rate:,.0f} lines/s, this run): "
        f"{rate / bare_rate:.2f}x",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-lsp", action="store_true", help="skip the language server part")
    args = parser.parse_args()
    with workplace("dsjobs-lines-bench-") as place:
        bare_wall = bench_cli(place, args.lines, args.rounds)
        if not args.no_lsp:
            bench_lsp(place, args.lines, bare_wall)


if __name__ == "__main__":
    main()
