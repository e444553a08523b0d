"""Fixtures of the Python environment analysis tests: a sample project and a second, real venv."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.core.pyenv.pyenv_samples import (
    SAMPLE_FILES,
    Wheelhouse,
    build_wheelhouse,
    make_venv,
    write_files,
)


@pytest.fixture
def sample_project(tmp_path: Path) -> Path:
    """The sample project of the task: aliases, namespaces, relative, lazy, optional and dynamic imports."""
    result: Path = write_files(tmp_path / "project", SAMPLE_FILES)
    return result


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Wheelhouse:
    """Wheels built offline once per session (see `pyenv_samples.build_wheelhouse`)."""
    return build_wheelhouse(tmp_path_factory.mktemp("wheelhouse"))


@pytest.fixture(scope="session")
def other_venv(tmp_path_factory: pytest.TempPathFactory, wheelhouse: Wheelhouse) -> Path:
    """Interpreter of a venv holding only the wheelhouse's packages (no PyYAML, no attrs)."""
    python: Path = make_venv(
        tmp_path_factory.mktemp("venv") / "env",
        wheelhouse,
        "acme-core",
        "acme-extras",
        "torchlike",
        editable=True,
        path_install=True,
    )
    return python
