"""`dsjobs --help` and argument errors stay light: the heavy libraries load only for a command that runs."""

from __future__ import annotations

import subprocess
import sys

import pytest

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
