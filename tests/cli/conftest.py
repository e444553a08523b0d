"""Fixtures of the CLI tests: `cli` (one local backend daemon per test module) and `project` (the example)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.dsjobs_cli import Cli, running_cli
from tests.support.local_backend import build_job_venv, copy_example


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cli]:
    """One backend daemon (started by the first command) per test module, stopped afterwards."""
    root = tmp_path_factory.mktemp("cli")
    with running_cli(root, build_job_venv(root).parent.parent) as cli:
        yield cli


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of examples/train."""
    return copy_example(tmp_path / "train")
