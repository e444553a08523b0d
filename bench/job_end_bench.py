"""Job-end tail: the job's last print -> the CLI process has exited (one run; prints medians and ratios).

`dsjobs project job execute` and the reference `datasphere` CLI (polling every 0.2 s) run the same jobs in
turn on one local backend daemon. The job sleeps, prints the unix time and exits; the tail is the reap time
of the CLI minus that printed time. Target for dsjobs: <= 0.2 s at every job length.

Usage: python bench/job_end_bench.py [--lengths 0.5 3] [--rounds 5] [--no-reference]
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cli_bench_support import Timed, Workplace, timed_run, workplace

TAIL_JOB = """\
import sys, time

if __name__ == '__main__':
    time.sleep(float(sys.argv[1]))
    print(f"LAST {time.time():.6f}", flush=True)
"""
TAIL_TARGET_S = 0.2
LAST = re.compile(rb"LAST (\d+\.\d+)")


def tail_of(run: Timed) -> float:
    """Seconds from the job's last print to the CLI's exit."""
    found = LAST.findall(run.stdout.read_bytes() + run.stdout.with_suffix(".err").read_bytes())
    if run.returncode != 0 or not found:
        raise RuntimeError(f"the run failed (exit {run.returncode}); its output is in {run.stdout}(.err)")
    return run.exited_at - float(found[-1])


def measure(place: Workplace, length: float, rounds: int, reference: bool) -> tuple[list[float], list[float]]:
    """Tails of dsjobs and of the reference (empty when not run), interleaved run by run."""
    project = place.project(f"tail-{length}", {"tail.py": TAIL_JOB}, f"python tail.py {length}")
    ours: list[float] = []
    theirs: list[float] = []
    out = place.root / "out.txt"
    timed_run(place.dsjobs_argv(), cwd=project, env=place.env, stdout=out)  # warm-up: environment, upload
    if reference:
        timed_run(place.reference_argv(), cwd=project, env=place.reference_env(), stdout=out)
    for _ in range(rounds):
        ours.append(tail_of(timed_run(place.dsjobs_argv(), cwd=project, env=place.env, stdout=out)))
        if reference:
            run = timed_run(place.reference_argv(), cwd=project, env=place.reference_env(), stdout=out)
            theirs.append(tail_of(run))
    return ours, theirs


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lengths", type=float, nargs="+", default=[0.5, 3.0], help="job lengths (s)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--no-reference", action="store_true", help="skip the reference CLI")
    args = parser.parse_args()
    with workplace("dsjobs-tail-bench-") as place:
        for length in args.lengths:
            ours, theirs = measure(place, length, args.rounds, not args.no_reference)
            mine = statistics.median(ours)
            verdict = "OK" if mine <= TAIL_TARGET_S else "MISSED"
            line = (
                f"{length:g} s job: last print -> exit, dsjobs median {mine * 1000:.0f} ms "
                f"(min {min(ours) * 1000:.0f}, max {max(ours) * 1000:.0f}; "
                f"target <= {TAIL_TARGET_S * 1000:.0f} ms) {verdict}"
            )
            if theirs:
                ref = statistics.median(theirs)
                line += f"; reference (0.2 s polling) {ref * 1000:.0f} ms, ratio {mine / ref:.2f}x"
            print(line, flush=True)


if __name__ == "__main__":
    main()
