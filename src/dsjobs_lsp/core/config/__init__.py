"""config.yaml and the launch form: model, validation with key+line issues, dump, key documentation.

The launch form's model and the keys' documentation (for the editor) load on first use: executing a
config.yaml needs neither.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dsjobs_lsp.core.config.dump import dump_config
from dsjobs_lsp.core.config.issues import ConfigError, ConfigIssue
from dsjobs_lsp.core.config.loader import LoadedConfig, check_config_text, load_config, parse_config_text
from dsjobs_lsp.core.config.model import (
    DockerImage,
    EnvConfig,
    EnvVar,
    GracefulShutdown,
    JobConfig,
    OutputDataset,
    PipOptions,
    PythonModule,
    PythonSettings,
    SparkSettings,
    VariablePath,
    WorkingStorage,
)
from dsjobs_lsp.core.config.parse_sections import INSTANCE_TYPES
from dsjobs_lsp.core.lazy import lazy_exports

if TYPE_CHECKING:
    from dsjobs_lsp.core.config.documentation import KEY_DOCS, KeyDoc, child_keys
    from dsjobs_lsp.core.config.launch import (
        LaunchConfig,
        job_config_to_launch,
        launch_to_job_config,
        validate_launch,
    )

__getattr__ = lazy_exports(
    __name__,
    {
        "documentation": ("KEY_DOCS", "KeyDoc", "child_keys"),
        "launch": ("LaunchConfig", "job_config_to_launch", "launch_to_job_config", "validate_launch"),
    },
)

__all__ = [
    "INSTANCE_TYPES",
    "KEY_DOCS",
    "ConfigError",
    "ConfigIssue",
    "DockerImage",
    "EnvConfig",
    "EnvVar",
    "GracefulShutdown",
    "JobConfig",
    "KeyDoc",
    "LaunchConfig",
    "LoadedConfig",
    "OutputDataset",
    "PipOptions",
    "PythonModule",
    "PythonSettings",
    "SparkSettings",
    "VariablePath",
    "WorkingStorage",
    "check_config_text",
    "child_keys",
    "dump_config",
    "job_config_to_launch",
    "launch_to_job_config",
    "load_config",
    "parse_config_text",
    "validate_launch",
]
