"""A job's working directory: inputs and local modules laid out, ``cmd`` resolved, outputs collected.

Blocking helpers (file system work); the engine calls them through ``asyncio.to_thread``.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath

from yandex.cloud.datasphere.v2.jobs import jobs_pb2

from .blobs import BlobChangedError, BlobStore, LinkedFile
from .environment import inherited_environment
from .paths import JobPathError, is_inside_work_dir, path_in_job
from .unpack import extract_archive, file_looks_executable, programs_run_by, unpack_directory_input

VAR_REFERENCE = re.compile(r"\$\{([^}]*)\}")
DS_PROJECT_HOME = "DS_PROJECT_HOME"


class WorkspaceError(ValueError):
    """The job cannot be laid out or run locally; the message says which file or variable."""


LINKED_INPUTS_FILE = "linked-inputs.json"


def relative_job_path(desc: jobs_pb2.FileDesc) -> PurePosixPath:
    """Where a parameter's file lives, relative to the job's directory: ``work/...`` inside the working
    directory; ``external/...`` for an absolute or ``../`` path, which needs a variable (as in the
    reference CLI's config rules; see ``paths``). Raises ``WorkspaceError`` for a path naming no file."""
    if not desc.var and not is_inside_work_dir(desc.path):
        raise WorkspaceError(
            f"file path {desc.path!r} leaves the working directory; such a path needs a variable"
        )
    try:
        return path_in_job(desc.path)
    except JobPathError as error:
        raise WorkspaceError(str(error)) from None


def _job_file(work_dir: Path, desc: jobs_pb2.FileDesc) -> Path:
    return work_dir.parent.joinpath(*relative_job_path(desc).parts)


@dataclass
class PreparedWorkspace:
    """The job's cwd and the values of its ``${VAR}`` references."""

    work_dir: Path
    variables: dict[str, str] = field(default_factory=dict)


def _place_input(
    store: BlobStore, item: jobs_pb2.File, destination: Path, *, run_by_cmd: bool
) -> LinkedFile | None:
    source = store.path(item.sha256)
    try:
        if item.compression_type == jobs_pb2.ZIP:
            unpack_directory_input(source, destination)
            return None
        executable = run_by_cmd or file_looks_executable(source)
        return store.place(item.sha256, destination, executable=executable)
    except (JobPathError, BlobChangedError) as error:
        raise WorkspaceError(f"input {item.desc.path}: {error}") from None


def prepare_workspace(
    store: BlobStore, params: jobs_pb2.JobParameters, work_dir: Path, project_home: Path | None
) -> PreparedWorkspace:
    """Lay out local modules and inputs (``work_dir`` is ``<job dir>/work``; paths outside it go to
    ``<job dir>/external``); map input/output vars to paths. Inputs hard-linked from the store are listed in
    ``<job dir>/linked-inputs.json`` for ``collect_outputs`` to check."""
    work_dir.mkdir(parents=True, exist_ok=True)
    prepared = PreparedWorkspace(work_dir)
    for module in params.env.python_env.local_modules:
        try:
            extract_archive(store.path(module.sha256), work_dir)
        except JobPathError as error:
            raise WorkspaceError(f"local module {module.desc.path}: {error}") from None
    linked: dict[str, LinkedFile] = {}
    run_paths, run_vars = programs_run_by(params.cmd)
    try:
        for item in params.input_files:
            destination = _job_file(work_dir, item.desc)
            run_by_cmd = item.desc.var in run_vars or os.path.normpath(item.desc.path) in run_paths
            link = _place_input(store, item, destination, run_by_cmd=run_by_cmd)
            if link is not None:
                linked[str(destination)] = link
            if item.desc.var:
                prepared.variables[item.desc.var] = str(destination)
    finally:
        _save_linked(work_dir.parent / LINKED_INPUTS_FILE, linked)
    for desc in params.output_files:
        destination = _job_file(work_dir, desc)
        destination.parent.mkdir(parents=True, exist_ok=True)
        if desc.var:
            prepared.variables[desc.var] = str(destination)
    if project_home is not None:
        project_home.mkdir(parents=True, exist_ok=True)
        prepared.variables[DS_PROJECT_HOME] = str(project_home)
    return prepared


def _save_linked(path: Path, linked: dict[str, LinkedFile]) -> None:
    if linked:
        partial = path.with_name(path.name + ".partial")
        partial.write_text(json.dumps({name: asdict(link) for name, link in linked.items()}))
        os.replace(partial, path)  # whole or absent, even after a crash


def release_linked_inputs(store: BlobStore, job_dir: Path) -> list[str]:
    """Check the inputs hard-linked into a finished job (see ``BlobStore.release``); the digests of stored
    files the job changed (and that were dropped from the store)."""
    record = job_dir / LINKED_INPUTS_FILE
    try:
        linked = json.loads(record.read_text())
    except FileNotFoundError:
        return []
    changed = [
        fields["sha256"]
        for name, fields in linked.items()
        if not store.release(LinkedFile(**fields), Path(name))
    ]
    record.unlink()
    return changed


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
    changed_inputs: list[str] = field(default_factory=list)


def collect_outputs(
    store: BlobStore, params: jobs_pb2.JobParameters, work_dir: Path, scratch: Path
) -> CollectedOutputs:
    """Store every declared output (a directory zipped; a missing one becomes an error entry), then check
    and release the job's linked inputs (an output may be one of them)."""
    collected = CollectedOutputs()
    scratch.mkdir(parents=True, exist_ok=True)
    for desc in params.output_files:
        try:
            path = _job_file(work_dir, desc)
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
    collected.changed_inputs = release_linked_inputs(store, work_dir.parent)
    return collected
