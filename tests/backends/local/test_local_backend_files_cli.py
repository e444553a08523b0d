"""Both CLIs — ours and the official `datasphere` 0.10.0 — run a job with a bash entry point, a shebang tool,
an executable in a folder input and inputs/outputs outside the working dir against the local backend."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from dsjobs_lsp.backends.local import LOCAL_PROJECT_ID, LocalServer
from dsjobs_lsp.backends.local.launcher import write_server_info
from tests.support.file_projects import ShellProject, shell_project
from tests.support.local_backend import isolated_env
from tests.support.reference_cli import run_reference_cli

EXECUTE = ["project", "job", "execute", "-p", LOCAL_PROJECT_ID, "-c", "config.yaml"]


def assert_ran_and_downloaded(project: ShellProject, output: str) -> None:
    """The job's lines were printed and its outputs landed at their absolute and `../` paths."""
    for line in project.expected_stdout():
        assert line in output, output
    assert project.result.read_text() == '{"lr": 0.1}\nwords from a sibling folder\n'
    assert project.beside.read_text() == "beside\n"
    assert (project.report / "plots" / "p.txt").read_text() == "plot\n"


def write_project(folder: Path, files: dict[str, str]) -> Path:
    """A project folder holding ``files`` (name -> text)."""
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text)
    return folder


async def run_ours(server: LocalServer, root: Path, cwd: Path, *options: str) -> tuple[int, str]:
    """`dsjobs project job execute` against the in-process backend (found through its server.json)."""
    write_server_info(server.layout, server.grpc_port, server.http_port, server.host)
    env = isolated_env(root, {**os.environ, "DSJOBS_LOCAL_DATA_DIR": str(server.layout.root)})
    env["DSJOBS_LOCAL_DATA_DIR"] = str(server.layout.root)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "dsjobs_lsp.cli.main",
        *options,
        *EXECUTE,
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    assert process.returncode is not None
    return process.returncode, output.decode()


async def test_our_cli_runs_executables_and_paths_outside_the_working_dir(
    server: LocalServer, tmp_path: Path
) -> None:
    project = shell_project(tmp_path)
    code, output = await run_ours(server, tmp_path / "cli", project.folder)
    assert code == 0, output
    assert_ran_and_downloaded(project, output)


@pytest.mark.reference
async def test_reference_cli_runs_executables_and_paths_outside_the_working_dir(
    server: LocalServer, reference: Path, tmp_path: Path
) -> None:
    project = shell_project(tmp_path)
    run = await run_reference_cli(
        server.endpoints.jobs, server.token, EXECUTE, cwd=project.folder, launcher_dir=tmp_path
    )
    assert run.returncode == 0, run.output
    assert_ran_and_downloaded(project, run.output)


async def test_our_cli_warns_about_a_folded_cmd_and_runs_it_as_written(
    server: LocalServer, tmp_path: Path
) -> None:
    project = write_project(tmp_path / "project", {"config.yaml": "cmd: >\n  echo first\n    --second\n"})
    code, output = await run_ours(server, tmp_path / "cli", project)
    assert "runs as 2 separate shell commands (line 2: `echo first`; line 3: `--second`)" in output
    assert "first" in output and code == 127, output


async def test_our_debug_log_never_shows_a_presigned_url_signature(
    server: LocalServer, tmp_path: Path
) -> None:
    config = "cmd: cp in.txt out.txt\ninputs:\n  - in.txt\noutputs:\n  - out.txt\n"
    project = write_project(tmp_path / "project", {"in.txt": "in\n", "config.yaml": config})
    code, output = await run_ours(server, tmp_path / "cli", project, "-l", "DEBUG")
    assert code == 0, output
    assert "PUT http://" in output and "HTTP Request: GET http://" in output  # uploads and downloads logged
    assert "signature" not in output and "expires=" not in output
