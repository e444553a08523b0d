"""config.yaml and the launch form: model, validation with key+line issues, dump, key documentation."""

from dsjobs_lsp.core.config.documentation import KEY_DOCS, KeyDoc, child_keys
from dsjobs_lsp.core.config.dump import dump_config
from dsjobs_lsp.core.config.issues import ConfigError, ConfigIssue
from dsjobs_lsp.core.config.launch import (
    LaunchConfig,
    job_config_to_launch,
    launch_to_job_config,
    validate_launch,
)
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
