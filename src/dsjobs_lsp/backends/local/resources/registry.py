"""Local stand-ins for DataSphere datasets and S3 connectors, kept per project in the data dir.

``<data dir>/resources.sqlite3`` lists them; a dataset's files live in ``<data dir>/datasets/<id>/`` (a copy
made when it was created, so later changes to the source folder do not change it); a connector is a live
mapping to a folder of the user's. Every call opens its own short SQLite connection, so the ``dsjobs local``
commands and the running daemon share the registry safely (SQLite's own file locking; a dataset's folder
is in place before its row is inserted and its row is gone before its folder is removed).
Blocking: the daemon and the language server call it through ``asyncio.to_thread``.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from dsjobs_lsp.backends.sqlite_db import open_shared_database

from ..operations import new_id

PROJECT_ID_PATTERN = re.compile(r"^[0-9a-z]{20}$")
DATASET_ID_PREFIX = "ld"
CONNECTOR_ID_PREFIX = "lc"
CREATE_DATASET_COMMAND = "dsjobs local dataset create NAME --path DIR"
CREATE_CONNECTOR_COMMAND = "dsjobs local s3 create --path DIR"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS datasets (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL,
    name TEXT NOT NULL,
    size INTEGER NOT NULL,
    created_at REAL NOT NULL,
    job_id TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS s3_connectors (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL,
    path TEXT NOT NULL,
    created_at REAL NOT NULL
);
"""


class ResourceError(ValueError):
    """A dataset or connector cannot be created, found or deleted; the message says which and why."""


@dataclass(frozen=True)
class Dataset:
    """A local dataset: its files are ``folder``; ``job_id`` is the job that created it, if any."""

    id: str
    project_id: str
    name: str
    size: int
    created_at: float
    job_id: str
    folder: Path


@dataclass(frozen=True)
class S3Connector:
    """A local S3 connector: jobs see ``path`` (read-write) where the bucket would be mounted."""

    id: str
    project_id: str
    path: Path
    created_at: float


def folder_size(folder: Path) -> int:
    """Bytes of the regular files under ``folder`` (symbolic links not followed)."""
    total = 0
    for root, _dirs, files in os.walk(folder):
        for name in files:
            path = Path(root) / name
            if not path.is_symlink():
                total += path.stat().st_size
    return total


def check_project_id(project_id: str) -> None:
    """``ResourceError`` unless the project id has the DataSphere form (20 chars of [0-9a-z])."""
    if not PROJECT_ID_PATTERN.match(project_id):
        raise ResourceError(f"project id {project_id!r} is not valid (20 characters of [0-9a-z])")


class ResourceRegistry:
    """Datasets and S3 connectors of every project of one data dir."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.database = data_dir / "resources.sqlite3"
        self.datasets_dir = data_dir / "datasets"

    # -- datasets ---------------------------------------------------------------------------------------

    def create_dataset(self, project_id: str, name: str, source: Path) -> Dataset:
        """A new dataset holding a copy of the folder ``source`` (symbolic links copied as their targets)."""
        check_project_id(project_id)
        if not name.strip():
            raise ResourceError("a dataset needs a name")
        if not source.is_dir():
            raise ResourceError(f"{source} is not a folder; a dataset is made from a folder's content")
        dataset_id = new_id(DATASET_ID_PREFIX)
        staging = self._staging(dataset_id)
        try:
            shutil.copytree(source, staging, ignore_dangling_symlinks=True)
        except (OSError, shutil.Error) as error:
            shutil.rmtree(staging, ignore_errors=True)
            raise ResourceError(f"cannot copy {source} into a dataset: {error}") from None
        return self.add_dataset(project_id, name, staging, dataset_id=dataset_id)

    def add_dataset(
        self, project_id: str, name: str, folder: Path, *, dataset_id: str = "", job_id: str = ""
    ) -> Dataset:
        """Make ``folder`` (on the data dir's file system; it is moved) a dataset named ``name``."""
        dataset_id = dataset_id or new_id(DATASET_ID_PREFIX)
        target = self.datasets_dir / dataset_id
        self.datasets_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.replace(folder, target)
        dataset = Dataset(dataset_id, project_id, name, folder_size(target), time.time(), job_id, target)
        with self._connection() as db:
            db.execute(
                "INSERT INTO datasets VALUES (?, ?, ?, ?, ?, ?)",
                (dataset.id, project_id, name, dataset.size, dataset.created_at, job_id),
            )
        return dataset

    def datasets(self, project_id: str) -> list[Dataset]:
        """The project's datasets, oldest first."""
        rows = self._select(
            "SELECT id, project_id, name, size, created_at, job_id FROM datasets "
            "WHERE project_id = ? ORDER BY created_at, id",
            project_id,
        )
        return [
            Dataset(id_, project, name, size, created_at, job_id, self.datasets_dir / id_)
            for id_, project, name, size, created_at, job_id in rows
        ]

    def dataset(self, project_id: str, dataset_id: str) -> Dataset:
        """One dataset of the project; ``ResourceError`` naming the command that creates one if unknown."""
        for dataset in self.datasets(project_id):
            if dataset.id == dataset_id:
                return dataset
        raise unknown_resource("dataset", dataset_id, project_id, CREATE_DATASET_COMMAND)

    def delete_dataset(self, project_id: str, dataset_id: str) -> Dataset:
        """Forget a dataset and remove its files."""
        dataset = self.dataset(project_id, dataset_id)
        self._delete_row("datasets", dataset_id)
        trash = self._staging(f"deleted-{dataset_id}")
        try:
            os.replace(dataset.folder, trash)
        except FileNotFoundError:
            return dataset
        shutil.rmtree(trash, ignore_errors=True)
        return dataset

    # -- S3 connectors -----------------------------------------------------------------------------------

    def create_connector(self, project_id: str, path: Path) -> S3Connector:
        """A connector mapping the existing folder ``path`` (kept absolute)."""
        check_project_id(project_id)
        folder = path.expanduser().resolve()
        if not folder.is_dir():
            raise ResourceError(f"{path} is not a folder; an S3 connector maps a local folder")
        connector = S3Connector(new_id(CONNECTOR_ID_PREFIX), project_id, folder, time.time())
        with self._connection() as db:
            db.execute(
                "INSERT INTO s3_connectors VALUES (?, ?, ?, ?)",
                (connector.id, project_id, str(folder), connector.created_at),
            )
        return connector

    def connectors(self, project_id: str) -> list[S3Connector]:
        """The project's S3 connectors, oldest first."""
        rows = self._select(
            "SELECT id, project_id, path, created_at FROM s3_connectors "
            "WHERE project_id = ? ORDER BY created_at, id",
            project_id,
        )
        return [S3Connector(row[0], row[1], Path(row[2]), row[3]) for row in rows]

    def connector(self, project_id: str, connector_id: str) -> S3Connector:
        """One connector of the project; ``ResourceError`` naming the command that creates one if unknown."""
        for connector in self.connectors(project_id):
            if connector.id == connector_id:
                return connector
        raise unknown_resource("S3 connector", connector_id, project_id, CREATE_CONNECTOR_COMMAND)

    def delete_connector(self, project_id: str, connector_id: str) -> S3Connector:
        """Forget a connector (its folder is the user's and stays)."""
        connector = self.connector(project_id, connector_id)
        self._delete_row("s3_connectors", connector_id)
        return connector

    # -- storage ------------------------------------------------------------------------------------------

    def _staging(self, name: str) -> Path:
        """A path in the datasets folder's scratch area (same file system: moves are renames)."""
        scratch = self.datasets_dir / ".staging"
        scratch.mkdir(parents=True, exist_ok=True, mode=0o700)
        return scratch / name

    def _delete_row(self, table: Literal["datasets", "s3_connectors"], resource_id: str) -> None:
        with self._connection() as db:
            db.execute(f"DELETE FROM {table} WHERE id = ?", (resource_id,))

    def _select(self, query: str, project_id: str) -> list[tuple[Any, ...]]:
        """Rows of a query by project; none (and nothing created) while the registry does not exist."""
        if not self.database.exists():
            return []
        with self._connection() as db:
            return db.execute(query, (project_id,)).fetchall()

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        with closing(open_shared_database(self.database, _SCHEMA, synchronous="FULL")) as db:
            yield db


def unknown_resource(kind: str, resource_id: str, project_id: str, command: str) -> ResourceError:
    """The error for an ID the project lacks: names the ID, the project and the command that creates one."""
    return ResourceError(
        f"{kind} {resource_id!r} does not exist in project {project_id} of the local backend; "
        f"create one with `{command}` and use the ID it prints"
    )


def registry_of(data_dir: Path | None = None) -> ResourceRegistry:
    """The registry of ``data_dir`` (default: the local backend's data dir, as the daemon uses it)."""
    from ..layout import default_data_dir

    return ResourceRegistry(data_dir if data_dir is not None else default_data_dir())
