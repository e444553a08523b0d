"""The client-side half of a run: configuration → Python environment → files to ship → `JobParameters`."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from yandex.cloud.datasphere.v2.jobs import jobs_pb2

from dsjobs_lsp.core.config import JobConfig, dump_config, load_config
from dsjobs_lsp.core.jobs.events import ConsoleLine, EventSink, Progress
from dsjobs_lsp.core.jobs.params import LOCAL_MODULE_PREFIX, build_job_parameters
from dsjobs_lsp.core.jobs.request import RunRequest
from dsjobs_lsp.core.packaging import (
    FileHasher,
    PackItem,
    PreparedFile,
    check_limits,
    humanize_bytes_size,
    prepare_files,
)
from dsjobs_lsp.core.pyenv import LocalModule, PythonEnvAnalysis, PythonSettings

LARGE_INPUT_FOLDER_BYTES = 100 * 1024 * 1024
"""An input folder zipped to this size or more gets a warning (it still ships whole)."""
NOTABLE_FOLDERS = (".git", "node_modules", ".venv", "__pycache__")
"""Folders an input folder ships like any other, which the user may not mean to upload."""


@dataclass
class ResolvedConfig:
    """The job configuration of a request, the YAML text sent as `config`, and where it came from."""

    config: JobConfig
    text: str
    path: Path | None
    warnings: list[str] = field(default_factory=list)


@dataclass
class PreparedJob:
    """Everything `Create` needs, plus the local files behind each uploadable sha256."""

    resolved: ResolvedConfig
    analysis: PythonEnvAnalysis | None
    files: list[PreparedFile]
    params: jobs_pb2.JobParameters

    def local_path_of(self, sha256: str) -> Path | None:
        """The file to upload for a sha256 the server asked for."""
        return next((f.local_path for f in self.files if f.sha256 == sha256), None)


async def resolve_config(request: RunRequest) -> ResolvedConfig:
    """Parse and validate the request's configuration (raises `ConfigError` naming file, line and key)."""
    base = request.working_dir
    if request.launch is not None:
        from dsjobs_lsp.core.config import launch_to_job_config  # the form's model: `run` only

        config = await asyncio.to_thread(launch_to_job_config, request.launch, base_dir=base)
        return ResolvedConfig(config, dump_config(config), _launch_config_file(request))
    if request.config_path is not None:
        loaded = await asyncio.to_thread(load_config, request.config_path, base_dir=base)
        warnings = [issue.describe(str(request.config_path)) for issue in loaded.warnings]
        return ResolvedConfig(loaded.config, loaded.text, request.config_path, warnings)
    if request.config is not None:
        return ResolvedConfig(request.config, dump_config(request.config), None)
    raise ValueError("a run needs a launch configuration, a config file or a job configuration")


def _launch_config_file(request: RunRequest) -> Path | None:
    value = getattr(request.launch, "config_file", None) or getattr(request.launch, "configFile", None)
    return Path(value) if value else None


async def prepare_job(
    request: RunRequest, resolved: ResolvedConfig, *, hasher: FileHasher, cache_dir: Path, sink: EventSink
) -> PreparedJob:
    """Analyse the environment (if `env.python` is set), hash/zip files, check limits, build parameters."""
    config = resolved.config
    analysis = await _analyse(request, config, sink) if config.env.python is not None else None
    sink(Progress(stage="packaging", message="preparing files"))
    inputs = _input_items(request.working_dir, config)
    modules = _local_module_items(analysis.local_modules if analysis else [])
    prepared = await prepare_files(
        [*inputs, *modules],
        hasher=hasher,
        cache_dir=cache_dir,
        on_progress=lambda done, total: sink(Progress(stage="packaging", done=done, total=total)),
    )
    inputs_prepared, modules_prepared = prepared[: len(inputs)], prepared[len(inputs) :]
    for warning in await asyncio.to_thread(input_folder_warnings, inputs, inputs_prepared):
        sink(ConsoleLine(text=warning, level="warning"))
    sink(Progress(stage="packaging", finished=True))
    check_limits(
        prepared,
        outputs=len(config.outputs),
        s3_mounts=len(config.s3_mounts),
        datasets=len(config.datasets),
    )
    params = build_job_parameters(
        config, inputs=inputs_prepared, local_modules=modules_prepared, python=analysis
    )
    return PreparedJob(resolved, analysis, prepared, params)


async def _analyse(request: RunRequest, config: JobConfig, sink: EventSink) -> PythonEnvAnalysis:
    assert config.env.python is not None
    from dsjobs_lsp.core.pyenv import analyze_python_env  # only a job with a Python environment loads it

    entries = [request.working_dir / m.path for m in config.root_modules if not m.is_name]
    names = [m.path for m in config.root_modules if m.is_name]
    sink(Progress(stage="analysis", message="analysing the Python environment"))
    analysis = await analyze_python_env(
        entries,
        working_dir=request.working_dir,
        interpreter=request.interpreter,
        python=PythonSettings.from_attributes(config.env.python),
        module_names=names,
    )
    for warning in analysis.warnings:
        sink(ConsoleLine(text=warning, level="warning"))
    sink(Progress(stage="analysis", finished=True))
    return analysis


def _input_items(working_dir: Path, config: JobConfig) -> list[PackItem]:
    items = []
    for item in config.upload_inputs():
        local = Path(item.path)
        local = local if local.is_absolute() else working_dir / local
        items.append(PackItem(local_path=local, desc_path=_desc_path(item.path), var=item.var or None))
    return items


def input_folder_warnings(items: list[PackItem], prepared: list[PreparedFile]) -> list[str]:
    """A warning for each input folder that is large or holds folders such as `.git/` (blocking: a few
    stats). Declared folders ship whole, as with the reference CLI; the warning says what that includes."""
    warnings = []
    for item, file in zip(items, prepared, strict=True):
        if file.compression != "ZIP":
            continue
        notes = [f"{name}/" for name in NOTABLE_FOLDERS if (item.local_path / name).is_dir()]
        if file.size >= LARGE_INPUT_FOLDER_BYTES:
            notes.insert(0, f"{humanize_bytes_size(file.size)} zipped")
        if notes:
            warnings.append(
                f"input folder {item.desc_path} ships whole, every file included ({', '.join(notes)}); "
                "list only the files the job needs to upload less"
            )
    return warnings


def _desc_path(path: str) -> str:
    """POSIX, relative, without `./` (what the job sees)."""
    return str(PurePosixPath(path.replace("\\", "/")))


def _local_module_items(modules: list[LocalModule]) -> list[PackItem]:
    """Each local module, shipped as a ZIP named by its path under its archive root, with var
    `_LOCAL_MODULE_<i>`."""
    return [
        PackItem(
            local_path=module.path,
            desc_path=module.path.relative_to(module.archive_root).as_posix(),
            var=f"{LOCAL_MODULE_PREFIX}_{index}",
            role="local_module",
            archive_root=module.archive_root,
        )
        for index, module in enumerate(modules)
    ]
