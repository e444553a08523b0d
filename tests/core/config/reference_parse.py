"""Run by the reference venv's interpreter: `parse_config` on every case folder given, one JSON line per file.

argv: <case dir>...  In each case folder, `config.yaml` and (when present) `dumped.yaml` are parsed with the
folder as the current directory, as the reference CLI resolves paths against the current directory.
Output lines: {"case", "file", "ok", "meaning" | "error"}.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from datasphere.config import parse_config  # type: ignore[import-not-found]


def _paths(items: Any) -> list[list[Any]]:
    return [[item.path, item.var] for item in items]


def _python(env: Any) -> Any:
    python = env.python
    if python is None:
        return None
    pip = python.pip_options
    return {
        "version": python.version,
        "requirements": None if python.requirements is None else str(python.requirements),
        "root_paths": list(python.root_modules_paths) if python.root_modules_paths else None,
        "local_paths": list(python.local_modules_paths) if python.local_modules_paths else None,
        "pip": None
        if pip is None
        else {
            "index_url": pip.index_url,
            "extra_index_urls": list(pip.extra_index_urls),
            "trusted_hosts": list(pip.trusted_hosts),
            "no_deps": pip.no_deps,
        },
    }


def _docker(env: Any) -> Any:
    docker = env.docker_image
    if docker is None or isinstance(docker, str):
        return docker
    return {
        "image": docker.url,
        "username": docker.username,
        "password": None if docker.password is None else docker.password.text,
    }


def meaning(config: Any) -> dict[str, Any]:
    shutdown = config.graceful_shutdown_params
    return {
        "name": config.name,
        "desc": config.desc,
        "cmd": config.cmd,
        "args": dict(config.args),
        "inputs": _paths(config.inputs),
        "outputs": _paths(config.outputs),
        "s3_mounts": _paths(config.s3_mounts),
        "datasets": _paths(config.datasets),
        "env_vars": config.env.vars,
        "docker": _docker(config.env),
        "python": _python(config.env),
        "instance_types": list(config.cloud_instance_types),
        "attach_project_disk": config.attach_project_disk,
        "working_storage_gb": config.working_storage.size_gb if config.working_storage else None,
        "graceful_shutdown": None
        if shutdown is None
        else {
            "signal": shutdown.signal,
            "timeout_s": shutdown.timeout.seconds if shutdown.HasField("timeout") else None,
        },
        "output_datasets": [
            [d.name, d.description, dict(d.labels), d.var, d.size_gb] for d in config.output_datasets
        ],
        "spark": config.spark_params.connector_id if config.spark_params else None,
    }


def main() -> None:
    for case in [Path(arg).resolve() for arg in sys.argv[1:]]:
        os.chdir(case)
        for file_name in ("config.yaml", "dumped.yaml"):
            if not (case / file_name).exists():
                continue
            result: dict[str, Any] = {"case": case.name, "file": file_name}
            try:
                result.update(ok=True, meaning=meaning(parse_config(Path(file_name))))
            except Exception as error:  # any failure is a rejection, as for the CLI
                result.update(ok=False, error=f"{type(error).__name__}: {error}")
            print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
