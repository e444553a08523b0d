"""Compatibility: the official `datasphere` 0.10.0 CLI runs a job end to end against the local backend.

The CLI runs through `tests/support/reference_cli.py` (its channels pointed at the local server, insecure,
fast polling, no PyPI version check) as `project job execute`.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from dsjobs_lsp.backends.local import LOCAL_PROJECT_ID, LocalServer
from tests.support.reference_cli import run_reference_cli

pytestmark = pytest.mark.reference

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
    run = await run_reference_cli(
        server.endpoints.jobs,
        server.token,
        ["project", "job", "execute", "-p", LOCAL_PROJECT_ID, "-c", "config.yaml"],
        cwd=project,
        launcher_dir=tmp_path,
    )
    text = run.output
    assert run.returncode == 0, text
    assert (project / "result.txt").read_text() == "COMPATIBLE\n"
    assert "program says COMPATIBLE" in text
    assert "created job" in text and "job link: " in text
    assert "/communities/" in text
    assert "job completed successfully" in text
