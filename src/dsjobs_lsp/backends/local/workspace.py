"""A job's working directory: inputs and local modules laid out, ``cmd`` resolved, outputs collected.

Blocking helpers (file system work); the engine calls them through ``asyncio.to_thread``.
"""

from __future__ import annotations

import os
import re
import shlex
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from yandex.cloud.datasphere.v2.jobs import jobs_pb2

from .blobs import BlobStore
from .environment import inherited_environment

VAR_REFERENCE = re.compile(r"\$\{([^}]*)\}")
DS_PROJECT_HOME = "DS_PROJECT_HOME"


class WorkspaceError(ValueError):
    """The job cannot be laid out or run locally; the message says which file or variable."""


def relative_job_path(path: str) -> PurePosixPath:
    """A wire path as a path inside the job dir (absolute paths are re-rooted); refuses ``..``."""
    posix = PurePosixPath(path.replace("\\", "/"))
    parts = [part for part in posix.parts if part not in ("/", "", ".")]
    if not parts or ".." in parts:
        raise WorkspaceError(f"file path {path!r} cannot be placed inside the job directory")
    return PurePosixPath(*parts)


def _safe_extract(archive: Path, target: Path, *, strip_prefix: str | None = None) -> None:
    target.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(archive) as zipped:
        for info in zipped.infolist():
            name = info.filename
            if strip_prefix is not None:
                name = name[len(strip_prefix) :]
            if not name:
                continue
            relative = relative_job_path(name)
            destination = target / relative
            if info.is_dir():
                destination.mkdir(parents=True, exist_ok=True)
                continue
            destination.parent.mkdir(parents=True, exist_ok=True)
            with zipped.open(info) as src, open(destination, "wb") as dst:
                while chunk := src.read(1 << 20):
                    dst.write(chunk)


def _unpack_directory_input(archive: Path, destination: Path) -> None:
    """Unpack a ZIP input at ``destination``, with or without the dir name leading its entries."""
    with zipfile.ZipFile(archive) as zipped:
        names = [n for n in zipped.namelist() if n]
    prefix = destination.name + "/"
    if names and all(n.startswith(prefix) for n in names):
        _safe_extract(archive, destination.parent)
    else:
        _safe_extract(archive, destination)


@dataclass
class PreparedWorkspace:
    """The job's cwd and the values of its ``${VAR}`` references."""

    work_dir: Path
    variables: dict[str, str] = field(default_factory=dict)


def prepare_workspace(
    store: BlobStore, params: jobs_pb2.JobParameters, work_dir: Path, project_home: Path | None
) -> PreparedWorkspace:
    """Lay out inputs and local modules in ``work_dir``; map input/output vars to paths."""
    work_dir.mkdir(parents=True, exist_ok=True)
    prepared = PreparedWorkspace(work_dir)
    for module in params.env.python_env.local_modules:
        _safe_extract(store.path(module.sha256), work_dir)
    for item in params.input_files:
        destination = work_dir / relative_job_path(item.desc.path)
        if item.compression_type == jobs_pb2.ZIP:
            _unpack_directory_input(store.path(item.sha256), destination)
        else:
            store.materialize(item.sha256, destination)
        if item.desc.var:
            prepared.variables[item.desc.var] = str(destination)
    for desc in params.output_files:
        destination = work_dir / relative_job_path(desc.path)
        destination.parent.mkdir(parents=True, exist_ok=True)
        if desc.var:
            prepared.variables[desc.var] = str(destination)
    if project_home is not None:
        project_home.mkdir(parents=True, exist_ok=True)
        prepared.variables[DS_PROJECT_HOME] = str(project_home)
    return prepared


def resolve_command(params: jobs_pb2.JobParameters, variables: dict[str, str]) -> str:
    """``cmd`` with ``${VAR}`` replaced by local paths (inputs, outputs, and the ``${<id>}`` of datasets and
    S3 mounts laid out by ``resources.mount_resources``) and ``args`` values, shell-quoted."""
    values = {argument.name: argument.value for argument in params.arguments} | variables

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in values:
            return shlex.quote(values[name])
        if name == DS_PROJECT_HOME:
            raise WorkspaceError("DS_PROJECT_HOME is used in cmd but the job has no attach-project-disk flag")
        return match.group(0)

    return VAR_REFERENCE.sub(substitute, params.cmd)


def local_differences(params: jobs_pb2.JobParameters) -> list[str]:
    """What the job asks for that the local backend does not emulate, one `.system.log` line each."""
    notes: list[str] = []
    image = params.env.docker_image_resource_id or params.env.docker_image_spec.image_url
    if image:
        notes.append(
            f"note: Docker image {image} is not used locally; the job runs in a local Python environment"
        )
    if params.HasField("extended_working_storage"):
        notes.append("note: working-storage is not emulated locally; the job uses the data dir's disk")
    if params.HasField("spark_parameters"):
        notes.append("note: the Spark connector is not available locally")
    return notes


def job_environment(
    params: jobs_pb2.JobParameters, bin_dir: Path, variables: dict[str, str]
) -> dict[str, str]:
    """The job process's environment: the allow-listed part of the server's, the job's vars, its Python first
    on PATH (see ``environment.py``; credentials never pass)."""
    env = inherited_environment(os.environ)
    env.update(params.env.vars)
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONUNBUFFERED"] = "1"
    if DS_PROJECT_HOME in variables:
        env[DS_PROJECT_HOME] = variables[DS_PROJECT_HOME]
    if bin_dir.parent.joinpath("pyvenv.cfg").exists():
        env["VIRTUAL_ENV"] = str(bin_dir.parent)
    return env


def zip_directory(source: Path, archive: Path) -> None:
    """Zip ``source`` with entries under its own name (as the reference unpacks next to the target)."""
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zipped:
        for root, dirs, files in os.walk(source):
            dirs.sort()
            for name in sorted(files):
                path = Path(root) / name
                zipped.write(path, path.relative_to(source.parent).as_posix())


@dataclass
class CollectedOutputs:
    """Outputs stored in the blob store, and the ones that could not be collected."""

    files: list[jobs_pb2.File] = field(default_factory=list)
    errors: list[jobs_pb2.FileUploadError] = field(default_factory=list)


def collect_outputs(
    store: BlobStore, params: jobs_pb2.JobParameters, work_dir: Path, scratch: Path
) -> CollectedOutputs:
    """Store every declared output (a directory zipped); a missing one becomes an error entry."""
    collected = CollectedOutputs()
    scratch.mkdir(parents=True, exist_ok=True)
    for desc in params.output_files:
        try:
            path = work_dir / relative_job_path(desc.path)
        except WorkspaceError as error:
            collected.errors.append(jobs_pb2.FileUploadError(output_file_desc=desc, description=str(error)))
            continue
        compression = jobs_pb2.NONE
        if path.is_dir():
            archive = scratch / f"{len(collected.files)}.zip"
            zip_directory(path, archive)
            path, compression = archive, jobs_pb2.ZIP
        elif not path.is_file():
            collected.errors.append(
                jobs_pb2.FileUploadError(
                    output_file_desc=desc,
                    description=f"output file {desc.path} was not created by the job",
                    type=jobs_pb2.FileUploadError.ErrorType.NOT_FOUND,
                )
            )
            continue
        sha256, size = store.ingest(path)
        collected.files.append(
            jobs_pb2.File(desc=desc, sha256=sha256, size_bytes=size, compression_type=compression)
        )
    return collected
