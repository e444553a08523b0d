"""`dump_config`: YAML that the reference CLI (and `parse_config_text`) reads back with the same meaning."""

from __future__ import annotations

import yaml

from dsjobs_lsp.core.config.model import EnvConfig, JobConfig, PipOptions, PythonSettings, VariablePath
from dsjobs_lsp.core.config.units import format_duration

YamlValue = str | list["YamlValue"] | dict[str, "YamlValue"]


def _paths(items: list[VariablePath]) -> list[YamlValue]:
    return [item.path if item.var is None else {item.path: item.var} for item in items]


def _pip(pip: PipOptions) -> dict[str, YamlValue]:
    section: dict[str, YamlValue] = {}
    if pip.index_url is not None:
        section["index-url"] = pip.index_url
    if pip.extra_index_urls:
        section["extra-index-urls"] = list(pip.extra_index_urls)
    if pip.trusted_hosts:
        section["trusted-hosts"] = list(pip.trusted_hosts)
    if pip.no_deps:
        section["no-deps"] = "true"
    return section


def _python(python: PythonSettings) -> YamlValue:
    if python.written_as_auto and python.pip is None and not python.root_paths:
        return "auto"
    section: dict[str, YamlValue] = {"type": python.type}
    if python.type == "manual":
        if python.version is not None:
            section["version"] = python.version
        if python.requirements_file is not None:
            section["requirements-file"] = python.requirements_file
        if python.local_paths is not None:
            section["local-paths"] = list(python.local_paths)
    if python.root_paths is not None:
        section["root-paths"] = list(python.root_paths)
    if python.pip is not None:
        section["pip"] = _pip(python.pip)
    return section


def _env(env: EnvConfig) -> dict[str, YamlValue]:
    section: dict[str, YamlValue] = {}
    if env.vars is not None:
        section["vars"] = [var.name if var.from_local else {var.name: var.value} for var in env.vars]
    if isinstance(env.docker, str):
        section["docker"] = env.docker
    elif env.docker is not None:
        docker: dict[str, YamlValue] = {"image": env.docker.image}
        if env.docker.username is not None:
            docker["username"] = env.docker.username
        if env.docker.password_secret_id is not None:
            docker["password"] = {"secret-id": env.docker.password_secret_id}
        section["docker"] = docker
    if env.python is not None:
        section["python"] = _python(env.python)
    return section


def _optional_sections(config: JobConfig) -> dict[str, YamlValue]:
    sections: dict[str, YamlValue] = {}
    if config.working_storage is not None:
        sections["working-storage"] = {"type": "SSD", "size": f"{config.working_storage.size_gb}Gb"}
    if config.flags:
        sections["flags"] = list(config.flags)
    if config.graceful_shutdown is not None:
        shutdown: dict[str, YamlValue] = {"signal": config.graceful_shutdown.signal}
        if config.graceful_shutdown.timeout is not None:
            shutdown["timeout"] = format_duration(config.graceful_shutdown.timeout)
        sections["graceful-shutdown"] = shutdown
    if config.output_datasets:
        sections["output-datasets"] = [
            {
                "name": ds.name,
                "description": ds.description,
                "labels": dict(ds.labels),
                "var": ds.var,
                "size": f"{ds.size_gb}Gb",
            }
            for ds in config.output_datasets
        ]
    if config.spark is not None:
        sections["spark"] = {"connector": config.spark.connector}
    return sections


def config_to_yaml_data(config: JobConfig) -> dict[str, YamlValue]:
    """The plain YAML structure of `config`, keys in the documented order, empty optional keys left out."""
    data: dict[str, YamlValue] = {}
    for key, value in (("name", config.name), ("desc", config.desc)):
        if value is not None:
            data[key] = value
    data["cmd"] = config.cmd
    if config.args:
        data["args"] = dict(config.args)
    for key, items in (
        ("inputs", config.inputs),
        ("outputs", config.outputs),
        ("s3-mounts", config.s3_mounts),
        ("datasets", config.datasets),
    ):
        if items:
            data[key] = _paths(items)
    env = _env(config.env)
    if env:
        data["env"] = env
    data["cloud-instance-types"] = list(config.cloud_instance_types)
    return data | _optional_sections(config)


def dump_config(config: JobConfig) -> str:
    """`config` as `config.yaml` text. Strings that YAML would read as other types are quoted."""
    return yaml.safe_dump(
        config_to_yaml_data(config), sort_keys=False, allow_unicode=True, default_flow_style=False, width=100
    )
