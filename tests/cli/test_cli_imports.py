"""`dsjobs --help` and argument errors stay light: the heavy libraries load only for a command that runs, and
a command loads only what it uses."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.dsjobs_cli import console, loaded, run_probed
from tests.support.local_backend import running_local_server

HEAVY = ("pydantic", "grpc", "httpx", "yandex", "pygls", "google.protobuf", "asyncio", "yaml")
PROBE = """
import sys
from dsjobs_lsp.cli.main import run_cli
try:
    run_cli(sys.argv[1:])
except SystemExit:
    pass
print(" ".join(sorted(name for name in sys.modules if name.split(".")[0] in {HEAVY})))
"""


@pytest.mark.parametrize(
    "argv", [["--help"], ["project", "job", "execute", "--help"], ["project", "job", "no-such-command"]]
)
def test_help_and_usage_errors_import_no_heavy_library(argv: list[str]) -> None:
    roots = {name.split(".")[0] for name in HEAVY}
    probe = PROBE.replace("{HEAVY}", repr(roots))
    done = subprocess.run([sys.executable, "-c", probe, *argv], capture_output=True, text=True, check=True)
    loaded = done.stdout.split()
    assert [name for name in loaded if any(name == h or name.startswith(h + ".") for h in HEAVY)] == []


async def test_executing_a_job_with_nothing_to_upload_or_download_never_loads_httpx(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "config.yaml").write_text("name: echo\ncmd: echo ready\n")
    async with running_local_server(tmp_path / "data") as server:
        modules, err = await run_probed(
            server, tmp_path, project, "project", "job", "execute", "-c", "config.yaml"
        )

    assert console(err)[-1] == "job completed successfully"
    assert "no files to upload" in console(err) and "no files to download" in console(err)
    assert loaded(modules, ("httpx", "httpcore")) == []
    # nor what only other jobs need: the launch form, the Python analysis, the requirements parser
    assert (
        loaded(modules, ("dsjobs_lsp.core.config.launch", "dsjobs_lsp.core.pyenv.analyze", "packaging")) == []
    )
