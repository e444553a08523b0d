"""The `env` section: variables, Docker image, Python settings (the reference's `parse_env`)."""

from __future__ import annotations

import os
import re

from dsjobs_lsp.core.config.checker import Checker, is_str_dict, is_str_list, reference_contains
from dsjobs_lsp.core.config.model import DockerImage, EnvConfig, EnvVar, PipOptions, PythonSettings
from dsjobs_lsp.core.config.yaml_tree import KeyPath

ENV_KEYS = ("vars", "docker", "python")
DOCKER_KEYS = ("image", "username", "password")
PYTHON_KEYS = ("type", "version", "requirements-file", "root-paths", "local-paths", "pip")
PIP_KEYS = ("index-url", "extra-index-urls", "trusted-hosts", "no-deps")
PYTHON_VERSION = re.compile(r"3\.\d+(\.\d+)?")
_ENV: KeyPath = ("env",)


def section_mapping(check: Checker, path: KeyPath, value: object, keys: tuple[str, ...]) -> dict[str, object]:
    """`value` as a mapping; a non-mapping the reference would silently ignore gives a warning and `{}`."""
    if isinstance(value, dict):
        check.check_keys(path, value, keys)
        return value
    name = ".".join(str(part) for part in path)
    if any(reference_contains(value, key) for key in keys):
        check.error(path, f"`{name}` should be a mapping")
    elif value != "":
        check.warn(path, f"`{name}` is not a mapping and is ignored")
    return {}


def parse_env(check: Checker, env: object) -> EnvConfig:
    """`env` (absent or empty means no variables, no Docker image, no Python environment)."""
    if env is None:
        return EnvConfig()
    section = section_mapping(check, _ENV, env, ENV_KEYS)
    result = EnvConfig()
    if "vars" in section:
        result.vars, result.vars_as_mapping = _parse_vars(check, section["vars"])
    if "docker" in section:
        result.docker = _parse_docker(check, section["docker"])
    if "python" in section:
        result.python = _parse_python(check, section["python"])
    return result


def _parse_vars(check: Checker, value: object) -> tuple[list[EnvVar] | None, bool]:
    path = (*_ENV, "vars")
    if isinstance(value, dict) and is_str_dict(value):
        check.warn(path, "the mapping form of `env.vars` is deprecated; write a list of `- NAME: value`")
        return [EnvVar(name=name, value=text) for name, text in value.items()], True
    if not isinstance(value, list):
        check.error(path, "should be a list of `- NAME` or `- NAME: value`")
        return None, False
    return [
        var for index, item in enumerate(value) if (var := _parse_var(check, (*path, index), item))
    ], False


def _parse_var(check: Checker, path: KeyPath, item: object) -> EnvVar | None:
    if isinstance(item, str):
        if item not in os.environ:
            check.error(path, f"environment variable `{item}` is not set locally, so it cannot be copied")
            return None
        return EnvVar(name=item, value=os.environ[item], from_local=True)
    if isinstance(item, dict) and item:
        name = next(iter(item))
        if not isinstance(item[name], str):
            check.error((*path, name), "the value of an environment variable should be a string")
            return None
        if len(item) > 1:
            check.warn(path, f"only the first pair (`{name}`) is used; write one variable per list item")
        return EnvVar(name=name, value=item[name])
    check.error(path, "an environment variable should be written as `- NAME` or `- NAME: value`")
    return None


def _parse_docker(check: Checker, value: object) -> str | DockerImage | None:
    path = (*_ENV, "docker")
    if isinstance(value, str):
        return value
    if not isinstance(value, dict):
        check.error(path, "should be an image resource ID / URL, or a mapping with `image`")
        return None
    check.check_keys(path, value, DOCKER_KEYS)
    image, username = value.get("image"), value.get("username")
    failed = check.error_count()
    if image is None:
        check.error(path, "`image` is required")
    elif not isinstance(image, str):
        check.error((*path, "image"), "should be a string")
    if username is not None and not isinstance(username, str):
        check.error((*path, "username"), "should be a string")
    secret_id = _parse_password(check, (*path, "password"), value.get("password"))
    if check.error_count() > failed or not isinstance(image, str):
        return None
    return DockerImage(image=image, username=username, password_secret_id=secret_id)


def _parse_password(check: Checker, path: KeyPath, value: object) -> str | None:
    if not value:  # absent or empty: no password, as in the reference
        return None
    if isinstance(value, str):
        check.error(
            path,
            "a plain-text password is not allowed; store it as a DataSphere secret and write "
            "`password: {secret-id: <secret name>}`",
        )
        return None
    if isinstance(value, dict) and "secret-id" in value:
        check.check_keys(path, value, ("secret-id",))
        secret = value["secret-id"]
        if isinstance(secret, str):
            return secret
        check.error((*path, "secret-id"), "should be a string")
        return None
    check.error(path, "should be a mapping `{secret-id: <secret name>}`")
    return None


def _parse_python(check: Checker, value: object) -> PythonSettings | None:
    path = (*_ENV, "python")
    if isinstance(value, str):
        if value.lower() != "auto":
            check.error(path, f"unknown value `{value}`: write `python: auto` or a mapping with `type`")
            return None
        return PythonSettings(written_as_auto=True)
    if not isinstance(value, dict):
        check.error(path, "should be `auto` or a mapping with `type: auto` or `type: manual`")
        return None
    kind = value.get("type")
    if kind is None:
        hint = "; to detect everything automatically write `python: auto`" if "auto" in value else ""
        check.error(path, f"`type` is required (`auto` or `manual`){hint}")
        return None
    if kind not in ("auto", "manual"):
        check.error((*path, "type"), f"should be `auto` or `manual`, not `{kind}`")
        return None
    check.check_keys(path, value, PYTHON_KEYS)
    failed = check.error_count()
    settings = _parse_auto(check, path, value) if kind == "auto" else _parse_manual(check, path, value)
    if "pip" in value:
        settings.pip = _parse_pip(check, (*path, "pip"), value["pip"])
    return None if check.error_count() > failed else settings


def _parse_auto(check: Checker, path: KeyPath, value: dict[str, object]) -> PythonSettings:
    for ignored in ("version", "requirements-file", "local-paths"):
        if ignored in value:
            check.warn((*path, ignored), f"`{ignored}` is ignored with `type: auto`; use `type: manual`")
    root_paths = value.get("root-paths")
    if root_paths and not is_str_list(root_paths):
        check.error((*path, "root-paths"), "should be a list of strings")
        root_paths = None
    return PythonSettings(type="auto", root_paths=root_paths if isinstance(root_paths, list) else None)


def _parse_manual(check: Checker, path: KeyPath, value: dict[str, object]) -> PythonSettings:
    settings = PythonSettings(type="manual")
    settings.version = _parse_version(check, (*path, "version"), value.get("version"))
    requirements = value.get("requirements-file")
    if requirements is not None and not isinstance(requirements, str):
        check.error((*path, "requirements-file"), "should be a path")
    elif requirements and not (check.base_dir / requirements).exists():
        check.error((*path, "requirements-file"), f"requirements file `{requirements}` was not found")
    else:
        settings.requirements_file = requirements
    root_paths, local_paths = value.get("root-paths"), value.get("local-paths")
    for key, paths in (("root-paths", root_paths), ("local-paths", local_paths)):
        if paths and not is_str_list(paths):
            check.error((*path, key), "should be a list of strings")
        elif paths is not None:
            setattr(settings, key.replace("-", "_"), paths or [])
    if root_paths and local_paths:
        check.error((*path, "local-paths"), "give either `root-paths` or `local-paths`, not both")
    return settings


def _parse_version(check: Checker, path: KeyPath, version: object) -> str | None:
    if version is None:
        return None
    if version == "":
        return ""  # written but empty: no version, yet it counts as given (as in the reference)
    if not isinstance(version, str) or not PYTHON_VERSION.fullmatch(version):
        check.error(path, f"unsupported Python version `{version}`; write `3.X`, e.g. `3.11`")
        return None
    parts = version.split(".")
    if len(parts) > 2:
        check.warn(path, f"only the minor version is used: `{version}` becomes `{parts[0]}.{parts[1]}`")
    return ".".join(parts[:2])


def _parse_pip(check: Checker, path: KeyPath, value: object) -> PipOptions:
    section = section_mapping(check, path, value, PIP_KEYS)
    options = PipOptions()
    if "index-url" in section:
        if isinstance(section["index-url"], str):
            options.index_url = section["index-url"]
        else:
            check.error((*path, "index-url"), "should be a string")
    for key in ("extra-index-urls", "trusted-hosts"):
        if key in section:
            if is_str_list(section[key]):
                setattr(options, key.replace("-", "_"), section[key])
            else:
                check.error((*path, key), "should be a list of strings")
    if "no-deps" in section:
        options.no_deps = _parse_no_deps(check, (*path, "no-deps"), section["no-deps"])
    return options


def _parse_no_deps(check: Checker, path: KeyPath, value: object) -> bool:
    if value not in ("true", "false"):
        check.warn(
            path,
            f"`{value}` reads as false: only the exact lowercase `true` enables no-deps "
            "(the datasphere CLI reads it that way too)",
        )
    return value == "true"
