"""Sections of `config.yaml` besides `env`: file lists, instance types, storage, shutdown, datasets, spark."""

from __future__ import annotations

import os
import re
from pathlib import Path, PurePosixPath

from dsjobs_lsp.core.config.checker import Checker, is_str_list, suggest
from dsjobs_lsp.core.config.model import (
    DEFAULT_INSTANCE_TYPE,
    RESERVED_VARIABLES,
    SHUTDOWN_SIGNALS,
    GracefulShutdown,
    JobConfig,
    OutputDataset,
    SparkSettings,
    VariablePath,
    WorkingStorage,
)
from dsjobs_lsp.core.config.units import GIB, parse_human_duration, parse_human_size
from dsjobs_lsp.core.config.yaml_tree import KeyPath

# Decided deliberately: the reference's pattern is `[0-9a-z-A-z\-_]{1,50}`, whose `A-z` range also lets
# `[ \ ] ^ `` ` through. We accept the same names (a config it accepts must stay valid) and warn about
# those five characters, which the documented rule `[0-9a-zA-Z_-]{1,50}` does not allow.
REFERENCE_VAR_PATTERN = re.compile(r"[0-9a-zA-Z\[\\\]^_`-]{1,50}")
DOCUMENTED_VAR_PATTERN = re.compile(r"[0-9a-zA-Z_-]{1,50}")
RESOURCE_ID = re.compile(r"[0-9a-z]{20}")
MAX_LIST_ENTRIES = 100
MIN_WORKING_STORAGE_GB = 100
INSTANCE_TYPES = (
    "c1.4",
    "c1.8",
    "c1.32",
    "c1.80",
    "g1.1",
    "g1.2",
    "g1.4",
    "g2.1",
    "g2.2",
    "g2.4",
    "g2.8",
    "gt4.1",
    "gt4i.1",
)


def parse_path_list(check: Checker, data: dict[str, object], key: str) -> list[VariablePath]:
    """`inputs`, `outputs`, `s3-mounts` or `datasets`: entries `path`, `{path: VAR}`, `{path: {var: VAR}}`."""
    value = data.get(key, [])
    if not isinstance(value, list):
        check.error((key,), "should be a list")
        return []
    if len(value) > MAX_LIST_ENTRIES:
        check.error((key,), f"at most {MAX_LIST_ENTRIES} entries are allowed, found {len(value)}")
    items = [item for index, entry in enumerate(value) if (item := _parse_entry(check, (key, index), entry))]
    if key in ("inputs", "outputs"):
        _check_overlaps(check, key, items)
    return items


def _parse_entry(check: Checker, path: KeyPath, entry: object) -> VariablePath | None:
    item = _entry_shape(check, path, entry)
    if item is None:
        return None
    if item.var and not REFERENCE_VAR_PATTERN.fullmatch(item.var):
        check.error(path, f"variable name `{item.var}` should match [0-9a-zA-Z_-]{{1,50}}")
        return None
    if item.var and not DOCUMENTED_VAR_PATTERN.fullmatch(item.var):
        check.warn(path, f"variable name `{item.var}` has characters outside [0-9a-zA-Z_-]")
    if item.var in RESERVED_VARIABLES:
        check.error(path, f"`{item.var}` is reserved and cannot name a variable")
        return None
    problem = _path_problem(check, str(path[0]), item)
    if problem:
        check.error(path, problem)
        return None
    return item


def _entry_shape(check: Checker, path: KeyPath, entry: object) -> VariablePath | None:
    if isinstance(entry, str):
        return VariablePath(path=entry)
    if not isinstance(entry, dict):
        check.error(path, "should be `path`, `path: VAR` or `path: {var: VAR}`")
        return None
    if len(entry) != 1:
        check.error(path, "should hold exactly one `path: VAR` pair")
        return None
    key, value = next(iter(entry.items()))
    if isinstance(value, str):
        return VariablePath(path=key, var=value)
    if isinstance(value, dict) and list(value) == ["var"] and isinstance(value["var"], str):
        return VariablePath(path=key, var=value["var"])
    if isinstance(value, dict) and list(value) != ["var"]:
        check.error((*path, key), "only the `var` key is supported here")
    else:
        check.error((*path, key), "should be a variable name or `{var: VAR}`")
    return None


def _path_problem(check: Checker, section: str, item: VariablePath) -> str:
    if section in ("s3-mounts", "datasets"):
        return (
            "" if RESOURCE_ID.fullmatch(item.path) else f"`{item.path}` is not a resource ID ([0-9a-z]{{20}})"
        )
    local = check.base_dir / item.path
    if section == "inputs" and not local.exists():
        return f"no such file or directory: {item.path}"
    if not item.var and (Path(item.path).is_absolute() or ".." in Path(item.path).as_posix()):
        return f"a path without a variable should be relative and stay inside the folder: {item.path}"
    return ""


def _check_overlaps(check: Checker, key: str, items: list[VariablePath]) -> None:
    """Duplicates and nested paths, which the reference rejects only when the job is started.

    Each entry is reported once per distinct earlier path it repeats or nests with (in or under). Linear in
    the entries times their depth: a path's ancestors are looked up among the listed paths, never every pair.
    """
    indices: dict[PurePosixPath, list[int]] = {}
    folders: dict[Path, str] = {}
    for index, item in enumerate(items):
        if item.var or ".." in item.path:
            continue
        indices.setdefault(_real_path(check.base_dir / item.path, folders), []).append(index)
    findings: list[tuple[int, int, str]] = []  # (entry, first index of the other path or -1, message)
    for path, where in indices.items():
        findings += [(index, -1, f"`{items[index].path}` is listed twice") for index in where[1:]]
        for ancestor in (parent for parent in path.parents if parent in indices):
            findings += _nested_pair(items, key, where, indices[ancestor])
    for index, _, message in sorted(findings):
        check.error((key, index), message)


def check_root_modules_apart_from_inputs(check: Checker, config: JobConfig) -> None:
    """With ``env.python`` analysing the program, its root modules (the main script of ``cmd``) are uploaded
    on their own; the reference adds them to the inputs and rejects the job when one is listed again, or
    overlaps an input (a folder holding the script). Reported at the input, skipped where the overlap check
    skips (inputs with a variable or ``..``)."""
    folders: dict[Path, str] = {}
    modules = {
        _real_path(check.base_dir / module.path, folders): module.path
        for module in config.root_modules
        if not module.is_name
    }
    if not modules:
        return
    for index, item in enumerate(config.inputs):
        if item.var or ".." in item.path:
            continue
        path = _real_path(check.base_dir / item.path, folders)
        for module_path, shown in modules.items():
            if path == module_path:
                problem = f"`{item.path}` is the program's root module `{shown}`"
            elif path in module_path.parents:
                problem = f"`{item.path}` holds the program's root module `{shown}`"
            elif module_path in path.parents:
                problem = f"`{item.path}` is inside the program's root module `{shown}`"
            else:
                continue
            check.error(
                ("inputs", index),
                f"{problem}, which `env.python` uploads on its own; the `datasphere` CLI refuses the job "
                "when an input repeats or overlaps it: leave it out of `inputs`",
            )


def _real_path(path: Path, folders: dict[Path, str]) -> PurePosixPath:
    """``path.resolve()``, its folder resolved once for all the entries in it (``folders`` remembers): a
    hundred inputs of one folder cost a hundred ``lstat`` calls, not a hundred walks up the tree."""
    folder = folders.get(path.parent)
    if folder is None:
        folder = folders[path.parent] = os.path.realpath(path.parent)
    joined = os.path.join(folder, path.name)
    real = os.path.realpath(joined) if os.path.islink(joined) else joined
    return PurePosixPath(real.replace(os.sep, "/"))


def _nested_pair(
    items: list[VariablePath], key: str, first: list[int], second: list[int]
) -> list[tuple[int, int, str]]:
    """Every entry of two nested paths listed after the other path's first entry is an overlap."""
    return [
        (index, other[0], f"`{items[index].path}` overlaps another entry of `{key}`")
        for mine, other in ((first, second), (second, first))
        for index in mine
        if index > other[0]
    ]


def parse_instance_types(check: Checker, data: dict[str, object]) -> list[str]:
    """`cloud-instance-types` (or the singular key): one name or a list; `c1.4` when absent or empty."""
    plural, singular = data.get("cloud-instance-types"), data.get("cloud-instance-type")
    key = "cloud-instance-types" if plural else "cloud-instance-type"
    value = plural or singular
    if plural and singular:
        check.warn(("cloud-instance-type",), "ignored because `cloud-instance-types` is set", on_key=True)
    if not value:
        return [DEFAULT_INSTANCE_TYPE]
    names = [value] if isinstance(value, str) else value
    if not is_str_list(names):
        check.error((key,), "should be an instance type name or a list of names")
        return [DEFAULT_INSTANCE_TYPE]
    assert isinstance(names, list)
    for index, name in enumerate(names):
        if name not in INSTANCE_TYPES:
            hint = suggest(name, INSTANCE_TYPES)
            where: KeyPath = (key,) if isinstance(value, str) else (key, index)
            check.warn(
                where,
                f"`{name}` is not a known instance type" + (f"; did you mean `{hint}`?" if hint else ""),
            )
    return [str(name) for name in names]


def parse_working_storage(check: Checker, data: dict[str, object]) -> WorkingStorage | None:
    """`working-storage: {type: SSD, size: 150Gb}`; the size is rounded up to GiB and must be >= 100 GB."""
    if "working-storage" not in data:
        return None
    path: KeyPath = ("working-storage",)
    section = data["working-storage"]
    if not isinstance(section, dict):
        check.error(path, "should be a mapping `{type: SSD, size: 150Gb}`")
        return None
    check.check_keys(path, section, ("type", "size"))
    failed = check.error_count()
    if section.get("type", "SSD") != "SSD":
        check.error((*path, "type"), "the only storage type is `SSD`")
    if "size" not in section:
        check.error(path, "`size` is required, e.g. `size: 150Gb`")
        return None
    size_gb = _size_gb(check, (*path, "size"), section["size"], round_up=True)
    if size_gb is not None and size_gb < MIN_WORKING_STORAGE_GB:
        check.error((*path, "size"), f"should be at least {MIN_WORKING_STORAGE_GB} GB")
    if size_gb is None or check.error_count() > failed:
        return None
    return WorkingStorage(size_gb=size_gb)


def _size_gb(check: Checker, path: KeyPath, value: object, *, round_up: bool) -> int | None:
    if not isinstance(value, str):
        check.error(path, "should be a size such as `150Gb`")
        return None
    try:
        size = parse_human_size(value)
    except ValueError:
        check.error(path, f"invalid size `{value}`: use a number with Kb, Mb, Gb, Tb or Pb, e.g. `150Gb`")
        return None
    return -(-size // GIB) if round_up else size // GIB


def parse_graceful_shutdown(check: Checker, data: dict[str, object]) -> GracefulShutdown | None:
    """`graceful-shutdown: {signal: SIGTERM, timeout: 30s}` (signal defaults to SIGTERM)."""
    if "graceful-shutdown" not in data:
        return None
    path: KeyPath = ("graceful-shutdown",)
    section = data["graceful-shutdown"]
    if not isinstance(section, dict):
        check.error(path, "should be a mapping `{signal: SIGTERM, timeout: 30s}`")
        return None
    check.check_keys(path, section, ("signal", "timeout"))
    timeout_text, signal = section.get("timeout", ""), section.get("signal", "SIGTERM")
    timeout = parse_human_duration(timeout_text) if isinstance(timeout_text, str) else None
    failed = check.error_count()
    if timeout is None and timeout_text != "":
        check.error(
            (*path, "timeout"), f"cannot read duration `{timeout_text}`; write e.g. `30s`, `5m`, `1h30m`"
        )
    if signal not in SHUTDOWN_SIGNALS:
        allowed = ", ".join(SHUTDOWN_SIGNALS)
        check.error((*path, "signal"), f"should be one of {allowed}, not `{signal}`")
    if check.error_count() > failed:
        return None
    return GracefulShutdown.model_validate({"signal": signal, "timeout": timeout or None})


def parse_output_datasets(check: Checker, data: dict[str, object]) -> list[OutputDataset]:
    """`output-datasets`: list of `{name, description, labels, var, size}`; names unique."""
    value = data.get("output-datasets", [])
    if not isinstance(value, list):
        check.error(("output-datasets",), "should be a list")
        return []
    result: list[OutputDataset] = []
    for index, entry in enumerate(value):
        dataset = _parse_output_dataset(check, ("output-datasets", index), entry)
        if dataset and any(dataset.name == other.name for other in result):
            check.error(
                ("output-datasets", index, "name"), f"output dataset name `{dataset.name}` is used twice"
            )
        elif dataset:
            result.append(dataset)
    return result


def _parse_output_dataset(check: Checker, path: KeyPath, entry: object) -> OutputDataset | None:
    if not isinstance(entry, dict):
        check.error(path, "should be a mapping `{name, var, size, description, labels}`")
        return None
    check.check_keys(path, entry, ("name", "description", "labels", "var", "size"))
    failed = check.error_count()
    for key in ("name", "var", "size"):
        if key not in entry:
            check.error(path, f"`{key}` is required")
    for key in ("name", "var", "description"):
        if key in entry and not isinstance(entry[key], str):
            check.error((*path, key), "should be a string")
    labels = entry.get("labels", {})
    if not isinstance(labels, dict) or not all(isinstance(v, str) for v in labels.values()):
        check.error((*path, "labels"), "should be a mapping of strings to strings")
    size_gb = _size_gb(check, (*path, "size"), entry["size"], round_up=False) if "size" in entry else None
    if check.error_count() > failed or size_gb is None:
        return None
    return OutputDataset(
        name=str(entry["name"]),
        description=str(entry.get("description", "")),
        labels=labels,
        var=str(entry["var"]),
        size_gb=size_gb,
    )


def parse_spark(check: Checker, data: dict[str, object]) -> SparkSettings | None:
    """`spark: {connector: <id>}` or `spark: {connector: {id: <id>}}`."""
    if "spark" not in data:
        return None
    path: KeyPath = ("spark",)
    section = data["spark"]
    if not isinstance(section, dict):
        check.error(path, "should be a mapping `{connector: <connector id>}`")
        return None
    check.check_keys(path, section, ("connector",))
    connector = section.get("connector")
    if isinstance(connector, dict) and isinstance(connector.get("id"), str):
        check.check_keys((*path, "connector"), connector, ("id",))
        connector = connector["id"]
    if not isinstance(connector, str):
        check.error(
            path if "connector" not in section else (*path, "connector"), "the Spark connector ID is required"
        )
        return None
    return SparkSettings(connector=connector)
