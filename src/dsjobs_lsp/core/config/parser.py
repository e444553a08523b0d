"""Builds a `JobConfig` from a YAML document with the reference's rules, collecting every issue on the way."""

from __future__ import annotations

from dsjobs_lsp.core.config.checker import Checker, is_str_list
from dsjobs_lsp.core.config.cmd_lines import check_folded_cmd
from dsjobs_lsp.core.config.entry import root_modules
from dsjobs_lsp.core.config.model import (
    ATTACH_PROJECT_DISK,
    DS_PROJECT_HOME,
    RESERVED_VARIABLES,
    VAR_REFERENCE,
    JobConfig,
)
from dsjobs_lsp.core.config.parse_env import parse_env
from dsjobs_lsp.core.config.parse_sections import (
    check_root_modules_apart_from_inputs,
    parse_graceful_shutdown,
    parse_instance_types,
    parse_output_datasets,
    parse_path_list,
    parse_spark,
    parse_working_storage,
)
from dsjobs_lsp.core.config.yaml_tree import KeyPath, format_key_path

TOP_LEVEL_KEYS = (
    "name",
    "desc",
    "cmd",
    "args",
    "inputs",
    "outputs",
    "s3-mounts",
    "datasets",
    "env",
    "cloud-instance-types",
    "cloud-instance-type",
    "working-storage",
    "flags",
    "graceful-shutdown",
    "output-datasets",
    "spark",
)
KNOWN_FLAGS = (ATTACH_PROJECT_DISK,)


def build_config(check: Checker) -> JobConfig | None:
    """The document of `check` as a JobConfig, or None when an error was recorded."""
    data = check.document.data
    if not data:
        check.error((), "the config is empty; at least `cmd` is required")
        return None
    if not isinstance(data, dict):
        check.error((), "the config should be a mapping of keys such as `cmd: python main.py`")
        return None
    check.check_keys((), data, TOP_LEVEL_KEYS)
    for duplicate in check.document.duplicate_keys:
        check.warn(
            duplicate, f"`{format_key_path(duplicate)}` is set twice; the last one is used", on_key=True
        )
    config = _read_sections(check, data)
    if config is None or check.failed:
        return None
    _check_variables(check, config)
    _find_root_modules(check, config)
    check_root_modules_apart_from_inputs(check, config)
    _check_cmd(check, config)
    return None if check.failed else config


def _read_sections(check: Checker, data: dict[str, object]) -> JobConfig | None:
    cmd = data.get("cmd")
    if "cmd" not in data:
        check.error(("cmd",), "`cmd` is required")
    elif not isinstance(cmd, str):
        check.error(("cmd",), "should be a string (the command line to run)")
    elif not cmd.strip():
        check.error(("cmd",), "is empty")
    fields = {
        "name": _optional_text(check, data, "name"),
        "desc": _optional_text(check, data, "desc"),
        "args": _parse_args(check, data),
        "flags": _parse_flags(check, data),
        "inputs": parse_path_list(check, data, "inputs"),
        "outputs": parse_path_list(check, data, "outputs"),
        "s3_mounts": parse_path_list(check, data, "s3-mounts"),
        "datasets": parse_path_list(check, data, "datasets"),
        "env": parse_env(check, data.get("env")),
        "cloud_instance_types": parse_instance_types(check, data),
        "working_storage": parse_working_storage(check, data),
        "output_datasets": parse_output_datasets(check, data),
        "graceful_shutdown": parse_graceful_shutdown(check, data),
        "spark": parse_spark(check, data),
    }
    if check.failed or not isinstance(cmd, str):
        return None
    return JobConfig.model_validate({"cmd": cmd, **fields})


def _optional_text(check: Checker, data: dict[str, object], key: str) -> str | None:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        check.error((key,), "should be a string")
        return None
    return value


def _parse_args(check: Checker, data: dict[str, object]) -> dict[str, str]:
    args = data.get("args", {})
    if not isinstance(args, dict):
        check.error(("args",), "should be a mapping of argument names to string values")
        return {}
    for name, value in args.items():
        if not isinstance(value, str):
            check.error(("args", name), "should be a string")
    return {name: value for name, value in args.items() if isinstance(value, str)}


def _parse_flags(check: Checker, data: dict[str, object]) -> list[str]:
    flags = data.get("flags", [])
    if not is_str_list(flags):
        check.error(("flags",), "should be a list of strings, e.g. `[attach-project-disk]`")
        return []
    assert isinstance(flags, list)
    for index, flag in enumerate(flags):
        if flag not in KNOWN_FLAGS:
            check.warn(
                ("flags", index), f"unknown flag `{flag}` has no effect (known: {', '.join(KNOWN_FLAGS)})"
            )
    return [str(flag) for flag in flags]


def _variable_sites(config: JobConfig) -> list[tuple[str, KeyPath]]:
    """Every declared variable with the key path that declares it, in the reference's order."""
    sites: list[tuple[str, KeyPath]] = []
    for key, items in (("inputs", config.inputs), ("outputs", config.outputs)):
        sites += [(item.var, (key, i)) for i, item in enumerate(items) if item.var is not None]
    for key, items in (("s3-mounts", config.s3_mounts), ("datasets", config.datasets)):
        sites += [(item.var, (key, i)) for i, item in enumerate(items) if item.var is not None]
        sites += [(item.path, (key, i)) for i, item in enumerate(items)]
    sites += [(name, ("args", name)) for name in config.args]
    sites += [(ds.var, ("output-datasets", i, "var")) for i, ds in enumerate(config.output_datasets)]
    return sites


def _check_variables(check: Checker, config: JobConfig) -> None:
    first_site: dict[str, KeyPath] = {}
    for name, site in _variable_sites(config):
        if name in first_site:
            where = format_key_path(first_site[name])
            check.error(site, f"variable `{name}` is already declared at `{where}`; variables must be unique")
        else:
            first_site[name] = site


def _find_root_modules(check: Checker, config: JobConfig) -> None:
    python = config.env.python
    if python is None or python.is_fully_manual:
        return
    try:
        config.root_modules = root_modules(config.cmd, python.root_paths, check.base_dir)
    except ValueError as error:
        check.error(("cmd",), str(error))
        return
    for module in config.root_modules:
        if module.path.startswith("-"):
            check.warn(("cmd",), f"`{module.path}` is taken as the main script; put interpreter options last")


def _check_cmd(check: Checker, config: JobConfig) -> None:
    declared = set(config.variables())
    for var in VAR_REFERENCE.findall(config.cmd):
        if var not in RESERVED_VARIABLES and var not in declared:
            check.error(
                ("cmd",), f"`${{{var}}}` is not declared in inputs, outputs, s3-mounts, datasets or args"
            )
    if not config.attach_project_disk and f"${{{DS_PROJECT_HOME}}}" in config.cmd:
        check.error(("cmd",), f"`${{{DS_PROJECT_HOME}}}` needs `flags: [{ATTACH_PROJECT_DISK}]`")
    check_folded_cmd(check, config.cmd)
