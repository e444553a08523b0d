"""Shared helpers of the core/config tests: the corpus, and a config's meaning in the reference's terms."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dsjobs_lsp.core.config import JobConfig, VariablePath

CORPUS = Path(__file__).parent / "corpus"
COPIED_VAR = ("DSJOBS_CORPUS_TOKEN", "copied-from-local-env")


def case_names(kind: str) -> list[str]:
    """Folder names of one corpus kind (`valid`, `invalid`, `stricter`)."""
    return sorted(path.name for path in (CORPUS / kind).iterdir() if path.is_dir())


def _paths(items: list[VariablePath]) -> list[list[Any]]:
    return [[item.path, item.var] for item in items]


def _python(config: JobConfig) -> Any:
    python = config.env.python
    if python is None:
        return None
    pip = python.pip
    return {
        "version": python.version,
        "requirements": None if python.requirements_file is None else str(Path(python.requirements_file)),
        "root_paths": list(python.root_paths) if python.root_paths else None,
        "local_paths": list(python.local_paths) if python.local_paths else None,
        "pip": None
        if pip is None
        else {
            "index_url": pip.index_url,
            "extra_index_urls": pip.extra_index_urls,
            "trusted_hosts": pip.trusted_hosts,
            "no_deps": pip.no_deps,
        },
    }


def _docker(config: JobConfig) -> Any:
    docker = config.env.docker
    if docker is None or isinstance(docker, str):
        return docker
    return {"image": docker.image, "username": docker.username, "password": docker.password_secret_id}


def meaning(config: JobConfig) -> dict[str, Any]:
    """The same summary `reference_parse.py` prints for the reference's `Config`."""
    shutdown = config.graceful_shutdown
    return {
        "name": config.name,
        "desc": config.desc,
        "cmd": config.resolved_cmd(),
        "args": config.args,
        "inputs": _paths(config.upload_inputs()),
        "outputs": _paths(config.outputs),
        "s3_mounts": _paths(config.s3_mounts),
        "datasets": _paths(config.datasets),
        "env_vars": config.env.resolved_vars(),
        "docker": _docker(config),
        "python": _python(config),
        "instance_types": config.cloud_instance_types,
        "attach_project_disk": config.attach_project_disk,
        "working_storage_gb": config.working_storage.size_gb if config.working_storage else None,
        "graceful_shutdown": None
        if shutdown is None
        else {
            "signal": shutdown.signal_number,
            "timeout_s": None if shutdown.timeout is None else int(shutdown.timeout.total_seconds()),
        },
        "output_datasets": [
            [d.name, d.description, d.labels, d.var, d.size_gb] for d in config.output_datasets
        ],
        "spark": config.spark.connector if config.spark else None,
    }
