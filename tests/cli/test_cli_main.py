"""`dsjobs` as a user runs it: real subprocesses, a local backend daemon (tmp data dir, offline), the example.

The daemon is started by the module's first command and stopped (by the pid in its server.json) at the end.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.local_backend import build_job_venv, copy_example, isolated_env, stop_local_daemon

DSJOBS = [sys.executable, "-m", "dsjobs_lsp.cli.main"]


@dataclass
class Cli:
    """Runs `dsjobs` with an environment of its own (data dir, state dir, offline, the job venv)."""

    env: dict[str, str]
    data_dir: Path

    def run(self, *args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """Run to completion, capturing stdout and stderr."""
        return subprocess.run(
            [*DSJOBS, *args],
            cwd=cwd,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def start(self, *args: str, cwd: Path) -> subprocess.Popen[str]:
        """Start in the background with pipes."""
        return subprocess.Popen(
            [*DSJOBS, *args], cwd=cwd, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cli]:
    """One backend daemon (started by the first command) per test module, stopped afterwards."""
    root = tmp_path_factory.mktemp("cli")
    venv = build_job_venv(root).parent.parent
    env = {**isolated_env(root), "VIRTUAL_ENV": str(venv), "PYTHONUNBUFFERED": "1"}
    cli = Cli(env, root / "data")
    try:
        yield cli
    finally:
        stop_local_daemon(cli.data_dir)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of examples/train."""
    return copy_example(tmp_path / "train")


CONSOLE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} - \[(\w+)\] - (.*)$")


def console(stderr: str) -> list[str]:
    """The narrative lines (without time and level)."""
    return [m.group(2) for line in stderr.splitlines() if (m := CONSOLE.match(line))]


def job_id_of(stderr: str) -> str:
    found = re.search(r"created job `(\w+)`", stderr)
    assert found, stderr
    return found.group(1)


def test_run_streams_the_log_brings_outputs_back_and_exits_with_the_programs_code(
    cli: Cli, project: Path
) -> None:
    done = cli.run("run", "train.py", "--", "--epochs", "2", "--pause", "0.1", cwd=project)

    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == "loaded 240 rows from data/train.csv"
    assert [line.split(":")[0] for line in done.stdout.splitlines()[1:3]] == ["epoch 1/2", "epoch 2/2"]
    lines = console(done.stderr)
    assert lines[0] == "creating job ..." and lines[-1] == "job completed successfully"
    assert re.fullmatch(r"uploading 3 files \(\d+\.\dKB\) \.\.\.", lines[1])
    assert lines[2:4] == ["files are uploaded", f"created job `{job_id_of(done.stderr)}`"]
    assert lines[4] == "executing job ..." and lines[5].startswith("job link: http://127.0.0.1:")
    assert "Traceback" not in done.stderr
    assert json.loads((project / "model.json").read_text())["w1"] > 2
    assert (project / "outputs" / "report.yaml").exists()

    failed = cli.run("run", "train.py", "--", "--pause", "0", "--fail", cwd=project)
    assert failed.returncode == 3
    assert console(failed.stderr)[-1] == "program returned code 3"
    assert "failing on purpose (--fail)" in failed.stderr


def test_execute_with_config_then_list_get_fork_and_attach(cli: Cli, project: Path) -> None:
    done = cli.run("project", "job", "execute", "-c", "config.yaml", cwd=project)
    assert done.returncode == 0, done.stderr
    job_id = job_id_of(done.stderr)
    assert "epoch 3/3" in done.stdout
    assert (project / "model.json").exists() and (project / "outputs" / "report.yaml").exists()

    got = cli.run("project", "job", "get", "--id", job_id, "--format", "json", cwd=project)
    assert got.returncode == 0, got.stderr
    job = json.loads(got.stdout)
    assert (job["id"], job["name"], job["status"]) == (job_id, "train-example", "SUCCESS")
    assert set(job) == {
        "id",
        "name",
        "desc",
        "created_at",
        "finished_at",
        "status",
        "created_by",
        "data_cleared",
        "data_expired_at",
    }

    listed = cli.run("project", "job", "list", "--format", "table", cwd=project)
    assert listed.returncode == 0, listed.stderr
    header, rule, *rows = listed.stdout.splitlines()
    assert header.split()[:2] == ["ID", "Name"] and set(rule.replace(" ", "")) == {"-"}
    assert any(row.startswith(job_id) for row in rows)

    rows = (project / "data" / "train.csv").read_text().splitlines()[:51]
    (project / "half.csv").write_text("\n".join(rows) + "\n")
    forked = cli.run(
        "project", "job", "fork", "--id", job_id, "--var", "DATA=half.csv", "--name", "fork", cwd=project
    )
    assert forked.returncode == 0, forked.stderr
    first_line = forked.stdout.splitlines()[0]
    assert first_line.startswith("loaded 50 rows from") and first_line.endswith("half.csv")
    assert f"cloning job `{job_id}` ..." in console(forked.stderr)

    attached = cli.run("project", "job", "attach", "--id", job_id, cwd=project)
    assert attached.returncode == 0, attached.stderr
    assert "executing job ..." not in console(attached.stderr)
    assert "epoch 3/3" in attached.stdout, "a job followed to its end shows its whole log again"
    assert console(attached.stderr)[-1] == "job completed successfully"


def test_cancel_and_ctrl_c_detaches_without_cancelling(cli: Cli, project: Path) -> None:
    running = cli.start("run", "train.py", "--", "--epochs", "40", "--pause", "0.5", cwd=project)
    assert running.stdout is not None and running.stderr is not None
    assert running.stdout.readline().startswith("loaded 240 rows")
    running.send_signal(signal.SIGINT)
    _, stderr = running.communicate(timeout=30)
    assert running.returncode == 130, stderr
    job_id = job_id_of(stderr)
    assert f"dsjobs project job attach --id {job_id}" in stderr
    assert "Traceback" not in stderr

    status = json.loads(
        cli.run("project", "job", "get", "--id", job_id, "--format", "json", cwd=project).stdout
    )
    assert status["status"] == "EXECUTING", "Ctrl-C must not cancel the job"

    cancelled = cli.run("project", "job", "cancel", "--id", job_id, cwd=project)
    assert cancelled.returncode == 0, cancelled.stderr
    assert console(cancelled.stderr) == ["job is canceled"]
    deadline = time.monotonic() + 30
    while True:
        got = json.loads(
            cli.run("project", "job", "get", "--id", job_id, "--format", "json", cwd=project).stdout
        )
        if got["status"] == "CANCELLED" or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert got["status"] == "CANCELLED"


def test_generate_requirements_pins_the_installed_version(cli: Cli, project: Path) -> None:
    done = cli.run("generate-requirements", "train.py", "-o", "reqs.txt", cwd=project)
    assert done.returncode == 0, done.stderr
    assert re.fullmatch(r"PyYAML==\d+\.\d+(\.\d+)?\n", (project / "reqs.txt").read_text())


def test_generate_requirements_shows_analysis_warnings_as_console_lines(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "main.py").write_text("import yaml\nimport definitely_missing_module_xyz\n")
    done = cli.run("generate-requirements", "main.py", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    warnings = [m.groups() for line in done.stderr.splitlines() if (m := CONSOLE.match(line))]
    assert (
        "WARNING",
        "main.py:2: module 'definitely_missing_module_xyz' is imported but not installed",
    ) in warnings, done.stderr
    assert "dsjobs_lsp." not in done.stderr


def test_bad_config_is_one_clear_line_per_finding_with_file_line_and_key(cli: Cli, project: Path) -> None:
    (project / "bad.yaml").write_text("cmd: python train.py\ninputs:\n  - missing.csv\ndesk: typo\n")
    done = cli.run("project", "job", "execute", "-c", "bad.yaml", cwd=project)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert re.search(r"\[ERROR\] - .*bad\.yaml:3: inputs\[0\]: .*missing\.csv", done.stderr), done.stderr
    assert re.search(r"\[WARNING\] - .*bad\.yaml:4: desk: .*`desc`", done.stderr), done.stderr

    unknown = cli.run("project", "job", "get", "--id", "nosuchjob00000000000", cwd=project)
    assert unknown.returncode == 1 and "not found" in unknown.stderr and "Traceback" not in unknown.stderr


def test_run_options_after_the_file_are_ours_and_program_arguments_follow_the_separator(
    cli: Cli, project: Path
) -> None:
    done = cli.run("run", "train.py", "-c", "config.yaml", "--", "--epochs", "1", "--pause", "0", cwd=project)
    assert done.returncode == 0, done.stderr
    assert "epoch 1/1" in done.stdout, "program arguments after -- replace the config's cmd arguments"
    assert (project / "model.json").exists() and (project / "outputs" / "report.yaml").exists()
