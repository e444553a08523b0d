"""`dsjobs` as a user runs it: real subprocesses, a local backend daemon (tmp data dir, offline), the example.

The daemon is started by the module's first command and stopped (by the pid in its server.json) at the end.
"""

from __future__ import annotations

import asyncio
import json
import re
import signal
import socket
import time
from pathlib import Path

from dsjobs_lsp.core.jobs.history import History
from tests.support.dsjobs_cli import CONSOLE, Cli, console, job_id_of


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


def test_run_option_errors_name_the_option_not_a_pseudo_file(cli: Cli, project: Path) -> None:
    done = cli.run("run", "train.py", "--input", "missing.csv", cwd=project)
    assert done.returncode == 1
    assert "launch configuration" not in done.stderr
    assert re.search(r"\[ERROR\] - --input: inputs\[\d\]: .*missing\.csv", done.stderr), done.stderr


def test_an_output_the_job_never_created_is_a_warning_and_the_run_succeeds(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "main.py").write_text("print('no output written')\n")
    config = "cmd: python main.py\noutputs:\n  - never.txt\nenv:\n  python: auto\n"
    (tmp_path / "config.yaml").write_text(config)
    done = cli.run("project", "job", "execute", "-c", "config.yaml", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert re.search(r"\[WARNING\] - output never\.txt was not uploaded: .*not created", done.stderr)
    assert "[ERROR]" not in done.stderr
    assert console(done.stderr)[-1] == "job completed successfully"


def test_a_bad_output_path_is_not_called_a_problem_of_the_project(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "main.py").write_text("print(1)\n")
    (tmp_path / "config.yaml").write_text('cmd: python main.py ${UP}\noutputs:\n  - ".": UP\n')
    done = cli.run("project", "job", "execute", "-c", "config.yaml", cwd=tmp_path)
    assert done.returncode == 1
    assert "the project" not in done.stderr
    assert re.search(r"\[ERROR\] - the new job was rejected: INVALID_ARGUMENT: .*'\.'", done.stderr)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_local_server_listens_on_the_http_port_it_is_given(cli: Cli, tmp_path: Path) -> None:
    port = free_port()
    data_dir = tmp_path / "own-data"
    server = cli.start("local-server", "--http-port", str(port), "--data-dir", str(data_dir), cwd=tmp_path)
    assert server.stdout is not None
    try:
        banner = server.stdout.readline()
        assert f"files http://127.0.0.1:{port}" in banner, banner
        info = json.loads((data_dir / "server.json").read_text())
        assert info["http_port"] == port
    finally:
        server.send_signal(signal.SIGTERM)
        server.communicate(timeout=30)


def test_a_job_started_with_run_is_named_after_its_file(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "hello.py").write_text("print('hello')\n")
    done = cli.run("run", "hello.py", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    job_id = job_id_of(done.stderr)
    got = cli.run("project", "job", "get", "--id", job_id, "--format", "json", cwd=tmp_path)
    assert json.loads(got.stdout)["name"] == "hello.py"
    listed = json.loads(cli.run("project", "job", "list", "--format", "json", cwd=tmp_path).stdout)
    jobs = [listed] if isinstance(listed, dict) else listed  # one job: an object, as the reference prints it
    assert next(job["name"] for job in jobs if job["id"] == job_id) == "hello.py"
    record = asyncio.run(History(Path(cli.env["DSJOBS_STATE_DIR"]) / "history.sqlite3").get(job_id))
    assert record is not None and record.name == "hello.py"


def test_the_local_backend_accepts_any_well_formed_project_id_as_a_project_of_its_own(
    cli: Cli, tmp_path: Path
) -> None:
    (tmp_path / "hello.py").write_text("print('hello')\n")
    other = "otherproject00000000"
    done = cli.run("run", "hello.py", "--project-id", other, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    job_id = job_id_of(done.stderr)
    assert f"/projects/{other}/job/{job_id}" in done.stderr
    project = json.loads(cli.run("project", "get", "--id", other, "--format", "json", cwd=tmp_path).stdout)
    assert project["id"] == other
    listed = cli.run("project", "job", "list", "-p", other, "--format", "json", cwd=tmp_path).stdout
    assert job_id in listed
    default = cli.run(
        "project", "job", "list", "-p", "localproject00000000", "--format", "json", cwd=tmp_path
    )
    assert job_id not in default.stdout, "each project keeps its own jobs"

    malformed = cli.run("project", "job", "list", "-p", "Not-A-Project", cwd=tmp_path)
    assert malformed.returncode == 1
    assert "'Not-A-Project' is not a valid project id (20 characters of [0-9a-z])" in malformed.stderr
