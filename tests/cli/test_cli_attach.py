"""`dsjobs project job attach` as a user runs it: resume after a killed client, whole log, outputs, exit code.

Real `dsjobs` processes and a local backend daemon (the fixtures of `test_cli_main`, via conftest).
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
from pathlib import Path

from tests.cli.test_cli_main import DSJOBS, Cli, console, job_id_of

COUNTER = """\
import sys, time
for i in range(int(sys.argv[1])):
    print(f"line {i}", flush=True)
    time.sleep(float(sys.argv[2]))
sys.exit(int(sys.argv[3]))
"""


def counter_project(folder: Path) -> Path:
    folder.mkdir()
    (folder / "count.py").write_text(COUNTER)
    return folder


def test_attach_after_a_killed_client_resumes_with_no_gap_and_at_most_one_line_again(
    cli: Cli, tmp_path: Path
) -> None:
    folder = counter_project(tmp_path / "counter")
    running = cli.start("run", "count.py", "--", "60", "0.05", "0", cwd=folder)
    assert running.stdout is not None and running.stderr is not None
    shown: list[str] = []
    while len(shown) < 25:
        shown.append(running.stdout.readline().rstrip("\n"))
    running.send_signal(signal.SIGKILL)
    rest, stderr = running.communicate(timeout=30)
    shown += rest.splitlines()
    job_id = job_id_of(stderr)

    attached = cli.run("project", "job", "attach", "--id", job_id, cwd=folder)

    assert attached.returncode == 0, attached.stderr
    again = attached.stdout.splitlines()
    expected = [f"line {i}" for i in range(60)]
    repeated = [line for line in again if line in shown]
    assert len(repeated) <= 1, f"lines shown twice: {repeated}"
    assert shown + again[len(repeated) :] == expected, "no line lost, order kept"


def test_attach_to_a_job_followed_to_its_end_shows_its_whole_log(cli: Cli, tmp_path: Path) -> None:
    folder = counter_project(tmp_path / "counter")
    done = cli.run("run", "count.py", "--", "5", "0", "0", cwd=folder)
    assert done.returncode == 0, done.stderr

    attached = cli.run("project", "job", "attach", "--id", job_id_of(done.stderr), cwd=folder)

    assert attached.returncode == 0, attached.stderr
    assert attached.stdout.splitlines() == [f"line {i}" for i in range(5)]
    assert console(attached.stderr)[-1] == "job completed successfully"


def test_attach_downloads_missing_outputs_and_always_into_a_given_output_dir(
    cli: Cli,
    project: Path,
    tmp_path: Path,
) -> None:
    done = cli.run("project", "job", "execute", "-c", "config.yaml", cwd=project)
    assert done.returncode == 0, done.stderr
    job_id = job_id_of(done.stderr)
    model = json.loads((project / "model.json").read_text())

    elsewhere = tmp_path / "elsewhere"
    attach = ("project", "job", "attach", "--id", job_id, "--output-dir")
    first = cli.run(*attach, str(elsewhere), cwd=project)
    second = cli.run(*attach, str(tmp_path / "new"), cwd=project)

    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    for folder in (elsewhere, tmp_path / "new"):
        assert json.loads((folder / "model.json").read_text()) == model
        assert (folder / "outputs" / "report.yaml").exists()

    (project / "model.json").unlink()
    shutil.rmtree(project / "outputs")
    restored = cli.run("project", "job", "attach", "--id", job_id, cwd=project)
    assert restored.returncode == 0, restored.stderr
    assert json.loads((project / "model.json").read_text()) == model
    assert (project / "outputs" / "report.yaml").exists()

    present = cli.run("project", "job", "attach", "--id", job_id, cwd=project)
    assert f"outputs are already in {project}" in console(present.stderr)


def test_attach_without_the_operation_in_history_exits_with_the_code_the_backend_reports(
    cli: Cli, tmp_path: Path
) -> None:
    folder = counter_project(tmp_path / "counter")
    failed = cli.run("run", "count.py", "--", "2", "0", "3", cwd=folder)
    assert failed.returncode == 3, failed.stderr
    other_machine = {**cli.env, "DSJOBS_STATE_DIR": str(tmp_path / "other-state")}

    attached = subprocess.run(
        [*DSJOBS, "project", "job", "attach", "--id", job_id_of(failed.stderr)],
        cwd=folder,
        env=other_machine,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert attached.returncode == 3, attached.stderr
    assert attached.stdout.splitlines() == ["line 0", "line 1"]
    assert console(attached.stderr)[-1] == "program returned code 3"
