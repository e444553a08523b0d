"""`fork`: a new job from an existing one with some arguments, paths, env vars or resources replaced.

Same rules as the reference CLI: only variables and arguments the source job has may be changed; new input
paths are uploaded; the Python environment cannot change; env vars, if given, replace the source's.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from yandex.cloud.datasphere.v2.jobs import jobs_pb2

from dsjobs_lsp.core.packaging import FileHasher, PackItem, PreparedFile, prepare_files, to_proto_file

_SIZE = re.compile(r"^\s*(\d+)\s*([KMGT]?B)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "B": 1, "KB": 1 << 10, "MB": 1 << 20, "GB": 1 << 30, "TB": 1 << 40}


class ForkError(ValueError):
    """An override names something the source job does not have, or is malformed."""


@dataclass
class ForkOverrides:
    """What `fork` changes (empty = keep the source's)."""

    args: dict[str, str] = field(default_factory=dict)
    vars: dict[str, str] = field(default_factory=dict)
    env_vars: dict[str, str] = field(default_factory=dict)
    name: str | None = None
    desc: str | None = None
    docker_image_id: str | None = None
    docker_image_url: str | None = None
    docker_image_username: str | None = None
    docker_image_password_secret_id: str | None = None
    working_storage_type: str | None = None
    working_storage_size: str | None = None
    cloud_instance_types: list[str] = field(default_factory=list)


def parse_name_values(values: list[str], option: str) -> dict[str, str]:
    """`NAME=VALUE` pairs (split at the first `=`)."""
    result = {}
    for value in values:
        name, sep, rest = value.partition("=")
        if not sep or not name:
            raise ForkError(f"{option} {value!r}: expected NAME=VALUE")
        result[name] = rest
    return result


async def fork_parameters(
    source: jobs_pb2.JobParameters,
    overrides: ForkOverrides,
    *,
    working_dir: Path,
    hasher: FileHasher,
    cache_dir: Path,
) -> tuple[jobs_pb2.JobParameters, list[PreparedFile]]:
    """The `job_parameters_overrides` of a Clone request, and the new input files behind them."""
    old_inputs = {f.desc.var for f in source.input_files if f.desc.var}
    old_outputs = {f.var for f in source.output_files if f.var}
    items: list[PackItem] = []
    outputs: list[jobs_pb2.FileDesc] = []
    for var, path in overrides.vars.items():
        if var in old_inputs:
            local = Path(path) if Path(path).is_absolute() else working_dir / path
            items.append(PackItem(local_path=local, desc_path=Path(path).as_posix(), var=var))
        elif var in old_outputs:
            outputs.append(jobs_pb2.FileDesc(path=path, var=var))
        else:
            raise ForkError(f"No variable path in source job: {var}")
    source_args = {arg.name for arg in source.arguments}
    for name in overrides.args:
        if name not in source_args:
            raise ForkError(f"Argument with name '{name}' is not present in source job")
    prepared = await prepare_files(items, hasher=hasher, cache_dir=cache_dir)
    params = jobs_pb2.JobParameters(
        arguments=[jobs_pb2.Argument(name=k, value=v) for k, v in overrides.args.items()],
        input_files=[to_proto_file(f) for f in prepared],
        output_files=outputs,
        cloud_instance_types=[jobs_pb2.CloudInstanceType(name=n) for n in overrides.cloud_instance_types],
        env=_environment(overrides),
    )
    storage = _working_storage(overrides)
    if storage is not None:
        params.extended_working_storage.CopyFrom(storage)
    return params, prepared


def _environment(overrides: ForkOverrides) -> jobs_pb2.Environment:
    env = jobs_pb2.Environment(vars=overrides.env_vars)
    if overrides.docker_image_id and overrides.docker_image_url:
        raise ForkError("For docker image, specify either ID or URL")
    if overrides.docker_image_id:
        env.docker_image_resource_id = overrides.docker_image_id
    elif overrides.docker_image_url:
        spec = jobs_pb2.DockerImageSpec(image_url=overrides.docker_image_url)
        if overrides.docker_image_username:
            spec.username = overrides.docker_image_username
        if overrides.docker_image_password_secret_id:
            spec.password_ds_secret_name = overrides.docker_image_password_secret_id
        env.docker_image_spec.CopyFrom(spec)
    return env


def _working_storage(overrides: ForkOverrides) -> jobs_pb2.ExtendedWorkingStorage | None:
    if not (overrides.working_storage_type or overrides.working_storage_size):
        return None
    kind = (overrides.working_storage_type or "SSD").upper()
    if kind != "SSD":
        raise ForkError(f"--working-storage-type {overrides.working_storage_type!r}: only SSD is available")
    match = _SIZE.match(overrides.working_storage_size or "")
    if match is None:
        raise ForkError(f"--working-storage-size {overrides.working_storage_size!r}: expected e.g. 150GB")
    size = int(match.group(1)) * _UNITS[(match.group(2) or "").upper()]
    size_gb = math.ceil(size / (1 << 30))
    if size_gb < 100:
        raise ForkError("--working-storage-size: extended working storage must be at least 100GB")
    return jobs_pb2.ExtendedWorkingStorage(
        type=jobs_pb2.ExtendedWorkingStorage.StorageType.SSD, size_gb=size_gb
    )
