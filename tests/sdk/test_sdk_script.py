"""The SDK from a plain script run the way an Airflow task runs it: a separate process, threads, no loop."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.sdk.sweep_project import LEARNING_RATES, expected_loss

REPO = Path(__file__).resolve().parents[2]


def test_script_runs_a_job_and_a_parallel_sweep_of_forks_into_their_own_folders(
    sdk_env: dict[str, str], project: Path
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tests.sdk.airflow_task", str(project)],
        cwd=REPO,
        env={**sdk_env, "PYTHONUNBUFFERED": "1"},
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout.splitlines()[-1])
    forks = summary["forks"]
    assert set(forks) == set(LEARNING_RATES) and len(set(forks.values())) == 4
    assert summary["base"] not in forks.values()
    for lr in LEARNING_RATES:
        result = summary["results"][lr]
        assert result["lr"] == float(lr)
        assert result["loss"] == pytest.approx(expected_loss(float(lr)))
        assert json.loads((project / "runs" / lr / "result.json").read_text()) == result
    stdout = done.stdout.splitlines()
    assert "lr=0.5 loss=0.3000" in stdout, "the base job's log is streamed"
    assert {f"lr={lr} loss={expected_loss(float(lr)):.4f}" for lr in LEARNING_RATES} <= set(stdout)
    assert "job completed successfully" in done.stderr and "Traceback" not in done.stderr
