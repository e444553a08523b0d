"""`JobConfig` + prepared files + Python environment → `jobs_pb2.JobParameters`, as the reference does."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Protocol

from google.protobuf.duration_pb2 import Duration
from yandex.cloud.datasphere.v2.jobs import jobs_pb2

from dsjobs_lsp.core.config import JobConfig
from dsjobs_lsp.core.config.model import DockerImage
from dsjobs_lsp.core.packaging import PreparedFile, to_proto_file
from dsjobs_lsp.core.pyenv import PythonEnvAnalysis

DATA_TTL = timedelta(days=14)


class PipSource(Protocol):
    """pip options from the config model or from the analysis (same attribute names)."""

    @property
    def index_url(self) -> str | None: ...
    @property
    def extra_index_urls(self) -> Sequence[str]: ...
    @property
    def trusted_hosts(self) -> Sequence[str]: ...
    @property
    def no_deps(self) -> bool: ...


LOCAL_MODULE_PREFIX = "_LOCAL_MODULE"


def duration(delta: timedelta) -> Duration:
    """A protobuf Duration of whole seconds."""
    value = Duration()
    value.FromSeconds(int(delta.total_seconds()))
    return value


def build_job_parameters(
    config: JobConfig,
    *,
    inputs: Sequence[PreparedFile],
    local_modules: Sequence[PreparedFile],
    python: PythonEnvAnalysis | None,
) -> jobs_pb2.JobParameters:
    """Every field the reference's `Config.get_job_params` sets, from our config model."""
    params = jobs_pb2.JobParameters(
        arguments=[jobs_pb2.Argument(name=name, value=value) for name, value in config.args.items()],
        input_files=[to_proto_file(f) for f in inputs],
        output_files=[jobs_pb2.FileDesc(path=o.path, var=o.var or "") for o in config.outputs],
        s3_mount_ids=[m.path for m in config.s3_mounts],
        dataset_ids=[d.path for d in config.datasets],
        cmd=config.resolved_cmd(),
        env=_environment(config, local_modules, python),
        attach_project_disk=config.attach_project_disk,
        cloud_instance_types=[jobs_pb2.CloudInstanceType(name=name) for name in config.cloud_instance_types],
        output_datasets=[
            jobs_pb2.OutputDatasetDesc(
                name=d.name, description=d.description, labels=d.labels, size_gb=d.size_gb, var=d.var
            )
            for d in config.output_datasets
        ],
    )
    if config.working_storage is not None:
        params.extended_working_storage.CopyFrom(
            jobs_pb2.ExtendedWorkingStorage(
                type=jobs_pb2.ExtendedWorkingStorage.StorageType.SSD, size_gb=config.working_storage.size_gb
            )
        )
    if config.graceful_shutdown is not None:
        shutdown = jobs_pb2.GracefulShutdownParameters(signal=config.graceful_shutdown.signal_number)
        if config.graceful_shutdown.timeout:
            shutdown.timeout.CopyFrom(duration(config.graceful_shutdown.timeout))
        params.graceful_shutdown_parameters.CopyFrom(shutdown)
    if config.spark is not None:
        params.spark_parameters.CopyFrom(jobs_pb2.SparkParameters(connector_id=config.spark.connector))
    return params


def _environment(
    config: JobConfig, local_modules: Sequence[PreparedFile], python: PythonEnvAnalysis | None
) -> jobs_pb2.Environment:
    env = jobs_pb2.Environment(vars=config.env.resolved_vars() or {})
    docker = config.env.docker
    if isinstance(docker, str):
        env.docker_image_resource_id = docker
    elif isinstance(docker, DockerImage):
        env.docker_image_spec.CopyFrom(_docker_spec(docker))
    if python is not None:
        env.python_env.CopyFrom(_python_env(config, local_modules, python))
    return env


def _docker_spec(docker: DockerImage) -> jobs_pb2.DockerImageSpec:
    spec = jobs_pb2.DockerImageSpec(image_url=docker.image)
    if docker.username is not None:
        spec.username = docker.username
    if docker.password_secret_id is not None:
        spec.password_ds_secret_name = docker.password_secret_id
    return spec


def _python_env(
    config: JobConfig, local_modules: Sequence[PreparedFile], python: PythonEnvAnalysis
) -> jobs_pb2.PythonEnv:
    env = jobs_pb2.PythonEnv(
        local_modules=[to_proto_file(f) for f in local_modules],
        python_version=python.python_version,
        requirements=list(python.requirements),
    )
    pip = _pip_options(config, python)
    if pip is not None:
        env.pip_options.CopyFrom(
            jobs_pb2.PipOptions(
                index_url=pip.index_url or "",
                extra_index_urls=list(pip.extra_index_urls),
                trusted_hosts=list(pip.trusted_hosts),
                no_deps=pip.no_deps,
            )
        )
    return env


def _pip_options(config: JobConfig, python: PythonEnvAnalysis) -> PipSource | None:
    found: PipSource | None = getattr(python, "pip_options", None)
    if found is not None and not getattr(found, "is_empty", False):
        return found
    settings = config.env.python
    return settings.pip if settings is not None else None
