"""`analyze_python_env`: the job's Python version, pinned requirements and local code, found statically."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from dsjobs_lsp.core.pyenv.interpreter import default_interpreter, run_probe
from dsjobs_lsp.core.pyenv.models import (
    LocalModule,
    PipOptions,
    PythonEnvAnalysis,
    PythonEnvError,
    PythonSettings,
)
from dsjobs_lsp.core.pyenv.requirements import RequirementsFile, pin, read_requirements_file
from dsjobs_lsp.core.pyenv.versions import (
    SUPPORTED_VERSIONS,
    format_version,
    in_stdlib_of,
    parse_version,
    stdlib_availability,
    target_version,
)


async def analyze_python_env(
    entry_files: list[Path],
    *,
    working_dir: Path,
    interpreter: Path | None = None,
    python: PythonSettings | None = None,
    module_names: list[str] | None = None,
) -> PythonEnvAnalysis:
    """Analyses the code reachable from `entry_files`, `module_names` (modules run with `python -m`, found
    from `working_dir` as Python finds them) and `root-paths`, without running it.

    The probe runs inside `interpreter` (default: `working_dir/.venv`, `$VIRTUAL_ENV`, else ours), so the
    answer reflects that environment. Manual settings (version, requirements file, local paths) replace
    what is detected; with all three given, nothing is run. Raises `PythonEnvError` naming the bad key/file.
    """
    settings = python or PythonSettings()
    manual = settings.type == "manual"
    working_dir, roots = await asyncio.to_thread(_roots, entry_files, settings.root_paths, working_dir)
    manual_version = _manual_version(settings.version) if manual and settings.version else None
    requirements_file = await _manual_requirements(settings, working_dir) if manual else None
    local_paths = None
    if manual and settings.local_paths is not None:
        local_paths = await asyncio.to_thread(_manual_local_paths, settings.local_paths, working_dir)

    analysis = PythonEnvAnalysis(python_version="", requirements=[], local_modules=[])
    if not settings.is_fully_manual:
        chosen = interpreter or default_interpreter(working_dir)
        answer = await run_probe(chosen, roots=roots, working_dir=working_dir, module_names=module_names)
        analysis = _from_answer(answer, chosen, manual_version)
    elif manual_version is not None:
        analysis.python_version = format_version(manual_version[0])
    if manual_version is not None:
        analysis.warnings[:0] = manual_version[1]
        analysis.python_version = format_version(manual_version[0])
    if requirements_file is not None:
        analysis.warnings += _unlisted(analysis.requirements, requirements_file, settings)
        analysis.requirements = list(requirements_file.requirements)
    if local_paths is not None:
        analysis.local_modules = local_paths
    analysis.pip_options = _pip_options(settings.pip, requirements_file)
    return analysis


def _roots(
    entry_files: list[Path], root_paths: tuple[str | Path, ...], working_dir: Path
) -> tuple[Path, list[Path]]:
    working_dir = working_dir.resolve()
    roots: list[Path] = []
    for entry in entry_files:
        path = (working_dir / entry).resolve()
        if not path.is_file():
            raise PythonEnvError(f"entry file {entry} not found (working directory {working_dir})")
        roots.append(path)
    for extra in root_paths:
        path = (working_dir / extra).resolve()
        if not path.is_file():
            raise PythonEnvError(
                f"env.python.root-paths: {extra} not found (working directory {working_dir})"
            )
        roots.append(path)
    return working_dir, list(dict.fromkeys(roots))


def _manual_version(text: str) -> tuple[tuple[int, int], list[str]]:
    try:
        version = parse_version(text)
    except ValueError as error:
        raise PythonEnvError(f"env.python.version: {error}") from None
    shown = format_version(version)
    warnings = []
    if text.count(".") > 1:
        warnings.append(f"env.python.version: {text} is reduced to {shown} (minor versions only)")
    if version not in SUPPORTED_VERSIONS:
        lowest, highest = format_version(SUPPORTED_VERSIONS[0]), format_version(SUPPORTED_VERSIONS[-1])
        warnings.append(
            f"env.python.version: Python {shown} is not supported by DataSphere Jobs ({lowest} to {highest})"
        )
    return version, warnings


async def _manual_requirements(settings: PythonSettings, working_dir: Path) -> RequirementsFile | None:
    if not settings.requirements_file:
        return None
    path = working_dir / settings.requirements_file
    if not await asyncio.to_thread(path.is_file):
        raise PythonEnvError(
            f"env.python.requirements-file: {settings.requirements_file} not found "
            f"(working directory {working_dir})"
        )
    return await read_requirements_file(path)


def _manual_local_paths(local_paths: tuple[str | Path, ...], working_dir: Path) -> list[LocalModule]:
    modules = []
    for given in local_paths:
        path = (working_dir / given).resolve()
        if not path.exists():
            raise PythonEnvError(
                f"env.python.local-paths: {given} not found (working directory {working_dir})"
            )
        modules.append(LocalModule(path=path, archive_root=path.parent))
    return modules


def _from_answer(
    answer: dict[str, Any], interpreter: Path, manual_version: tuple[tuple[int, int], list[str]] | None
) -> PythonEnvAnalysis:
    local_version = (int(answer["version_info"][0]), int(answer["version_info"][1]))
    warnings: list[str] = []
    if manual_version is None:
        version, version_warning = target_version(local_version)
        warnings += [version_warning] if version_warning else []
    else:
        version = manual_version[0]
    requirements, optional = [], []
    for item in answer["requirements"]:
        line, label_warning = pin(item["name"], item["version"])
        requirements.append(line)
        optional += [line] if item["optional"] else []
        warnings += [label_warning] if label_warning else []
        warnings += _install_source_warnings(item, line)
    warnings += list(answer["notes"])
    warnings += _missing_warnings(answer["missing"], interpreter, version)
    warnings += _stdlib_warnings(answer["stdlib"], version)
    modules = [LocalModule(Path(m["path"]), Path(m["archive_root"])) for m in answer["local_modules"]]
    return PythonEnvAnalysis(
        python_version=format_version(version),
        requirements=requirements,
        local_modules=modules,
        warnings=warnings,
        optional_requirements=optional,
        interpreter=interpreter,
    )


def _install_source_warnings(item: dict[str, Any], line: str) -> list[str]:
    direct_url = item.get("direct_url")
    if not direct_url:
        return []
    url = str(direct_url.get("url", ""))
    if direct_url.get("dir_info", {}).get("editable"):
        return [f"{item['name']} is an editable install ({url}): {line} may not exist on the package index"]
    if "vcs_info" in direct_url:
        return [
            f"{item['name']} was installed from version control ({url}): {line} may not exist on the "
            "package index"
        ]
    return [f"{item['name']} was installed from {url}: {line} may not exist on the package index"]


def _missing_warnings(
    missing: list[dict[str, Any]], interpreter: Path, version: tuple[int, int]
) -> list[str]:
    warnings = []
    for item in missing:
        name = item["name"]
        if in_stdlib_of(name, version):
            continue  # gone from the local Python but still in the job's standard library
        if item["optional"]:
            warnings.append(
                f"{item['where']}: optional import '{name}' is not installed in {interpreter}: "
                "the job runs without it"
            )
        else:
            warnings.append(
                f"{item['where']}: module '{name}' is imported but is neither local code nor "
                f"installed in {interpreter}: install it or add it to a requirements file"
            )
    return warnings


def _stdlib_warnings(used: list[dict[str, Any]], version: tuple[int, int]) -> list[str]:
    warnings = []
    for item in used:
        reason = stdlib_availability(item["name"], version)
        if reason:
            warnings.append(
                f"{item['where']}: '{item['name']}' is not available on the job's Python "
                f"{format_version(version)}: {reason}"
            )
    return warnings


def _unlisted(
    detected: list[str], requirements_file: RequirementsFile, settings: PythonSettings
) -> list[str]:
    listed = {canonicalize_name(Requirement(line).name) for line in requirements_file.requirements}
    return [
        f"env.python.requirements-file: {settings.requirements_file} does not list {line}, which the "
        "code imports"
        for line in detected
        if canonicalize_name(line.split("==")[0]) not in listed
    ]


def _pip_options(
    configured: PipOptions | None, requirements_file: RequirementsFile | None
) -> PipOptions | None:
    from_file = requirements_file.pip_options if requirements_file else PipOptions()
    if configured is None and from_file.is_empty:
        return None
    return (configured or PipOptions()).merged(from_file)
