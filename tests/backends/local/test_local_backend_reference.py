"""Compatibility: the official `datasphere` 0.10.0 CLI runs a job end to end against the local backend.

A launcher executed by the reference venv's python points the CLI's channels at the local server (insecure),
polls fast, skips the PyPI version check (no network in tests), and runs `project job execute`.
"""

from __future__ import annotations

import asyncio
import os
import sys
import textwrap
from pathlib import Path

import pytest

from dsjobs_lsp.backends.local import LOCAL_PROJECT_ID, LocalServer

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "support"))
from reference import reference_python

pytestmark = pytest.mark.reference

LAUNCHER = textwrap.dedent("""
    import sys
    import grpc
    address = sys.argv[1]
    import datasphere.channel
    import datasphere.client
    import datasphere.main

    def local_channel(*_args, **_kwargs):
        return grpc.insecure_channel(address)

    datasphere.channel._get_channel = local_channel
    datasphere.client.get_job_channel = local_channel
    datasphere.client.get_project_channel = local_channel
    datasphere.client.get_op_channel = local_channel
    datasphere.client.operation_check_interval_seconds = 0.2
    datasphere.client.log_read_interval_seconds = 0.2
    datasphere.main.check_package_version = lambda: None
    sys.argv = ["datasphere", *sys.argv[2:]]
    datasphere.main.main()
""")

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


@pytest.fixture(scope="module")
def reference() -> Path:
    try:
        return Path(reference_python())
    except Exception as error:  # the venv is built from the registry on first use
        pytest.skip(f"reference datasphere venv unavailable: {error}")


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
    (tmp_path / "launcher.py").write_text(LAUNCHER)
    env = {**os.environ, "YC_IAM_TOKEN": server.token}
    env.pop("PYTHONPATH", None)
    process = await asyncio.create_subprocess_exec(
        str(reference),
        str(tmp_path / "launcher.py"),
        server.endpoints.jobs,
        "project",
        "job",
        "execute",
        "-p",
        LOCAL_PROJECT_ID,
        "-c",
        "config.yaml",
        cwd=project,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=240)
    text = output.decode()
    assert process.returncode == 0, text
    assert (project / "result.txt").read_text() == "COMPATIBLE\n"
    assert "program says COMPATIBLE" in text
    assert "created job" in text and "job link: " in text
    assert "/communities/" in text
    assert "job completed successfully" in text
