"""A big input through `dsjobs` and the local backend: sent by sendfile, spliced into the store, hard-linked
into each job; a re-run uploads nothing and the job reads the same bytes (and so does the reference CLI's);
a big output comes back whole."""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

from dsjobs_lsp.backends.local import LOCAL_PROJECT_ID
from tests.support.dsjobs_cli import Cli, console

MAIN = """\
import hashlib
import shutil

if __name__ == '__main__':
    with open('data.bin', 'rb') as data:
        print('SHA', hashlib.sha256(data.read()).hexdigest(), flush=True)
    shutil.copyfile('data.bin', 'out.bin')
"""
CONFIG = """\
name: big-input
cmd: python main.py
inputs:
  - data.bin
outputs:
  - out.bin
env:
  python:
    type: manual
    version: "{version}"
"""


def big_input_project(folder: Path, size: int) -> tuple[Path, str]:
    """main.py printing the sha256 of data.bin, `size` random bytes; (the folder, their sha256)."""
    folder.mkdir(parents=True)
    data = os.urandom(size)
    (folder / "data.bin").write_bytes(data)
    (folder / "main.py").write_text(MAIN)
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    (folder / "config.yaml").write_text(CONFIG.format(version=version))
    return folder, hashlib.sha256(data).hexdigest()


def test_a_rerun_of_an_unchanged_big_input_uploads_nothing_and_the_job_reads_the_same_bytes(
    cli: Cli, tmp_path: Path
) -> None:
    project, sha256 = big_input_project(tmp_path / "big", 9 << 20)
    first = cli.run("project", "job", "execute", "-c", "config.yaml", cwd=project)
    assert first.returncode == 0, first.stderr
    assert "uploading 2 files (9.0MB) ..." in console(first.stderr)
    assert (project / "out.bin").read_bytes() == (project / "data.bin").read_bytes()
    for _ in range(2):
        again = cli.run("project", "job", "execute", "-c", "config.yaml", cwd=project)
        assert again.returncode == 0, again.stderr
        assert "no files to upload" in console(again.stderr)
        assert f"SHA {sha256}" in again.stdout.splitlines()
    args = ["project", "job", "execute", "-p", LOCAL_PROJECT_ID, "-c", "config.yaml"]
    theirs = cli.reference(*args, cwd=project)
    assert theirs.returncode == 0, theirs.stdout + theirs.stderr
    assert f"SHA {sha256}" in theirs.stdout + theirs.stderr
