"""Compatibility: the official `datasphere` 0.10.0 CLI runs a job end to end against the local backend.

The CLI runs through `tests/support/reference_cli.py` (its channels pointed at the local server, insecure,
fast polling, no PyPI version check) as `project job execute`.
"""

from __future__ import annotations

import re
import sys
import textwrap
from pathlib import Path

import pytest

from dsjobs_lsp.backends.local import LOCAL_PROJECT_ID, LocalServer
from tests.support.reference_cli import ReferenceRun, run_reference_cli

pytestmark = pytest.mark.reference

PROGRAM_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} - (?!\[)")
"""A program stdout line as the reference prints it: `<time> - <line>` (its own lines have a level)."""

CONFIG = textwrap.dedent("""
    name: compat
    cmd: python main.py --input ${INPUT} --output ${RESULT}
    inputs:
      - data/input.txt: INPUT
    outputs:
      - result.txt: RESULT
    env:
      python:
        type: manual
        version: "{version}"
        local-paths:
          - helper.py
""")

MAIN = textwrap.dedent("""
    import argparse
    import helper

    if __name__ == "__main__":
        parser = argparse.ArgumentParser()
        parser.add_argument("--input")
        parser.add_argument("--output")
        args = parser.parse_args()
        text = open(args.input).read()
        print("program says", helper.shout(text.strip()))
        with open(args.output, "w") as out:
            out.write(helper.shout(text))
""")


async def _execute(server: LocalServer, project: Path, launcher_dir: Path) -> ReferenceRun:
    """`datasphere project job execute -c config.yaml` in ``project``."""
    return await run_reference_cli(
        server.endpoints.jobs,
        server.token,
        ["project", "job", "execute", "-p", LOCAL_PROJECT_ID, "-c", "config.yaml"],
        cwd=project,
        launcher_dir=launcher_dir,
    )


async def test_reference_cli_executes_a_job_end_to_end(
    server: LocalServer, reference: Path, tmp_path: Path
) -> None:
    project = tmp_path / "project"
    (project / "data").mkdir(parents=True)
    (project / "data" / "input.txt").write_text("compatible\n")
    (project / "helper.py").write_text("def shout(text):\n    return text.upper()\n")
    (project / "main.py").write_text(MAIN)
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    (project / "config.yaml").write_text(CONFIG.replace("{version}", version))
    run = await _execute(server, project, tmp_path)
    text = run.output
    assert run.returncode == 0, text
    assert (project / "result.txt").read_text() == "COMPATIBLE\n"
    assert "program says COMPATIBLE" in text
    assert "created job" in text and "job link: " in text
    assert "/communities/" in text
    assert "job completed successfully" in text


async def test_reference_cli_returns_when_the_main_process_exits(
    server: LocalServer, reference: Path, tmp_path: Path
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "config.yaml").write_text(
        "name: left-running\ncmd: sleep 300 & setsid sleep 300 & echo main done\n"
    )
    run = await _execute(server, project, tmp_path)
    assert run.returncode == 0, run.output
    assert "main done" in run.output
    assert "job completed successfully" in run.output


async def test_reference_cli_shows_why_the_environment_could_not_be_built(
    server: LocalServer, reference: Path, tmp_path: Path
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "main.py").write_text("if __name__ == '__main__':\n    print('never runs')\n")
    (project / "requirements.txt").write_text("dsjobs-no-such-package==9.9\n")
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    (project / "config.yaml").write_text(
        "name: unbuildable\ncmd: python main.py\nenv:\n  python:\n    type: manual\n"
        f'    version: "{version}"\n    requirements-file: requirements.txt\n'
    )
    run = await _execute(server, project, tmp_path)
    assert run.returncode != 0
    assert "dsjobs-no-such-package==9.9" in run.output
    assert "uv says:" in run.output


OUTPUT_PROGRAM = textwrap.dedent("""
    import sys

    if __name__ == "__main__":
        sys.stdout.write("first\\n\\n    indented\\n\\nlast\\n\\n")
        sys.stdout.flush()
""")


async def test_reference_cli_shows_lines_written_at_once_with_blank_lines_and_indentation(
    server: LocalServer, reference: Path, tmp_path: Path
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "main.py").write_text(OUTPUT_PROGRAM)
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    (project / "config.yaml").write_text(
        f'cmd: python main.py\nenv:\n  python:\n    type: manual\n    version: "{version}"\n'
    )
    run = await _execute(server, project, tmp_path)
    assert run.returncode == 0, run.output
    program_lines = [
        line.split(" - ", 1)[1] if " - " in line else ""
        for line in run.output.splitlines()
        if PROGRAM_LINE.match(line)
    ]
    assert program_lines == ["first", "", "    indented", "", "last", ""]
