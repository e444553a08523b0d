"""What a job on the local backend sees of datasets, S3 connectors and output datasets.

Under the job's ``mnt/`` folder (beside its working directory):
- ``datasets/<id>/``: the dataset, read-only (a bind mount in the job's own mount namespace, see
  ``isolation``) or, where that is not permitted, a private copy, so nothing the job does (it may run as root,
  where file modes protect nothing) changes the dataset; a copy is removed when the job ends;
- ``output-datasets/<name>/``: empty at the start; on success its content becomes a new dataset.
S3 connectors are the user's folders themselves (live, read-write, like a mounted bucket).

``cmd`` refers to datasets and connectors by ID (``${<id>}``, as the client sends it) and to output datasets
by their ``var``; ``mount_resources`` answers both with paths (and ``JobMounts.wrap`` gives the command that
makes the binds). Blocking: call through ``asyncio.to_thread``.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from yandex.cloud.datasphere.v2.jobs import jobs_pb2

from ..workspace import WorkspaceError
from .isolation import read_only_binds_available, with_read_only_binds
from .registry import ResourceError, ResourceRegistry


class MountError(WorkspaceError):
    """A job's resources cannot be laid out (an unknown dataset or connector, a failed copy)."""


def unknown_resources(
    registry: ResourceRegistry, project_id: str, params: jobs_pb2.JobParameters
) -> list[str]:
    """One message per dataset or connector of the job that does not exist in the project."""
    problems: list[str] = []
    for dataset_id in params.dataset_ids:
        try:
            registry.dataset(project_id, dataset_id)
        except ResourceError as error:
            problems.append(str(error))
    for connector_id in params.s3_mount_ids:
        try:
            registry.connector(project_id, connector_id)
        except ResourceError as error:
            problems.append(str(error))
    return problems


@dataclass
class JobMounts:
    """The ``${...}`` name → path of each resource, and the read-only binds the job's command must make."""

    variables: dict[str, str] = field(default_factory=dict)
    binds: list[tuple[Path, Path]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # `.system.log` lines: where each resource is

    def wrap(self, command: str) -> str:
        """The job's ``/bin/sh -c`` command, making the binds first (unchanged when there are none)."""
        return with_read_only_binds(command, self.binds)


def mount_resources(
    registry: ResourceRegistry,
    project_id: str,
    params: jobs_pb2.JobParameters,
    mnt: Path,
    *,
    binds: bool | None = None,
) -> JobMounts:
    """Lay out the job's datasets (read-only binds if ``binds``, default: where permitted; else copies),
    connectors and output datasets."""
    use_binds = read_only_binds_available() if binds is None else binds
    mounts = JobMounts()
    try:
        for dataset_id in params.dataset_ids:
            dataset = registry.dataset(project_id, dataset_id)
            view = mnt / "datasets" / dataset.id
            shutil.rmtree(view, ignore_errors=True)
            if use_binds:
                view.mkdir(parents=True)
                mounts.binds.append((dataset.folder, view))
            else:
                shutil.copytree(dataset.folder, view, symlinks=True)
            mounts.variables[dataset_id] = str(view)
            how = "read-only" if use_binds else "a private copy"
            mounts.notes.append(f"note: dataset {dataset.id} ({dataset.name}) is at {view}, {how}")
        for connector_id in params.s3_mount_ids:
            connector = registry.connector(project_id, connector_id)
            mounts.variables[connector_id] = str(connector.path)
            mounts.notes.append(f"note: S3 connector {connector.id} is the folder {connector.path}")
    except (ResourceError, OSError, shutil.Error) as error:
        raise MountError(str(error)) from None
    for desc in params.output_datasets:
        folder = _output_folder(mnt, desc)
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        mounts.variables[desc.var] = str(folder)
        mounts.notes.append(f"note: output dataset {desc.name} is written at {folder}")
    return mounts


def finish_resources(
    registry: ResourceRegistry, job: jobs_pb2.Job, mnt: Path, *, succeeded: bool
) -> list[jobs_pb2.OutputDataset]:
    """After the job: on success its output folders become datasets (returned, with their new IDs); the
    private dataset copies and anything left are removed either way."""
    created: list[jobs_pb2.OutputDataset] = []
    if succeeded:
        for desc in job.job_parameters.output_datasets:
            folder = _output_folder(mnt, desc)
            if not folder.is_dir():
                continue
            dataset = registry.add_dataset(job.project_id, desc.name, folder, job_id=job.id)
            created.append(jobs_pb2.OutputDataset(desc=desc, id=dataset.id))
    shutil.rmtree(mnt, ignore_errors=True)
    return created


def _output_folder(mnt: Path, desc: jobs_pb2.OutputDatasetDesc) -> Path:
    name = desc.name.replace("/", "_").replace("\\", "_").lstrip(".") or "output"
    return mnt / "output-datasets" / name
