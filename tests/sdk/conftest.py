"""Fixtures: an isolated environment (private data/state dirs, an offline local daemon), a sweep project."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.sdk.sweep_project import write_sweep_project
from tests.support.local_backend import isolated_env, stop_local_daemon


@pytest.fixture(scope="module")
def backend_root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Data and state dirs shared by a test module; the local daemon started there is stopped after."""
    root = tmp_path_factory.mktemp("sdk")
    try:
        yield root
    finally:
        stop_local_daemon(root / "data")


@pytest.fixture
def sdk_env(backend_root: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """This process's environment made isolated (what an SDK created here, and its children, see)."""
    env = isolated_env(backend_root)
    for name in set(os.environ) - set(env):
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A fresh copy of the sweep project."""
    return write_sweep_project(tmp_path / "sweep-project")
