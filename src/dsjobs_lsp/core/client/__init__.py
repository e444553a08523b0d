"""Async client of a DataSphere-compatible backend: gRPC calls, operation polling, logs, file transfers.

The file transfers (which pull in httpx) load on first use: a command that uploads nothing never imports them.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from dsjobs_lsp.core.client.channels import CHANNEL_OPTIONS, ChannelPool, auth_metadata
from dsjobs_lsp.core.client.errors import BackendError, OperationFailed, TransferError, code_name
from dsjobs_lsp.core.client.jobs_client import CreateResult, JobsClient, execute_metadata, execute_response
from dsjobs_lsp.core.client.logs import SYSTEM_LOG, LogChunk

if TYPE_CHECKING:
    from dsjobs_lsp.core.client.transfer import (
        DOWNLOAD_FILES_MAX_TOTAL_SIZE_BYTES,
        UploadTarget,
        download_files,
        safe_destination,
        upload_files,
    )

_LAZY = {
    name: "dsjobs_lsp.core.client.transfer"
    for name in (
        "DOWNLOAD_FILES_MAX_TOTAL_SIZE_BYTES",
        "UploadTarget",
        "download_files",
        "safe_destination",
        "upload_files",
    )
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "CHANNEL_OPTIONS",
    "DOWNLOAD_FILES_MAX_TOTAL_SIZE_BYTES",
    "SYSTEM_LOG",
    "BackendError",
    "ChannelPool",
    "CreateResult",
    "JobsClient",
    "LogChunk",
    "OperationFailed",
    "TransferError",
    "UploadTarget",
    "auth_metadata",
    "code_name",
    "download_files",
    "execute_metadata",
    "execute_response",
    "safe_destination",
    "upload_files",
]
