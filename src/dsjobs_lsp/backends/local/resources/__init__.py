"""Datasets, S3 connectors and output datasets of the local backend, backed by local folders.

``registry``: what exists (per project, in the data dir; shared by the daemon, the CLI and the language
server). ``mounts``: what a job sees of them and how its output datasets come to exist.
"""

from .mounts import JobMounts, MountError, finish_resources, mount_resources, unknown_resources
from .registry import (
    CREATE_CONNECTOR_COMMAND,
    CREATE_DATASET_COMMAND,
    Dataset,
    ResourceError,
    ResourceRegistry,
    S3Connector,
    registry_of,
    unknown_resource,
)

__all__ = [
    "CREATE_CONNECTOR_COMMAND",
    "CREATE_DATASET_COMMAND",
    "Dataset",
    "JobMounts",
    "MountError",
    "ResourceError",
    "ResourceRegistry",
    "S3Connector",
    "finish_resources",
    "mount_resources",
    "registry_of",
    "unknown_resource",
    "unknown_resources",
]
