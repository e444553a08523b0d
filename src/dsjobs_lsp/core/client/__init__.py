"""Async client of a DataSphere-compatible backend: gRPC calls, operation polling, logs, file transfers.

The file transfers (which pull in httpx) load on first use: a command that uploads nothing never imports them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dsjobs_lsp.core.client.channels import CHANNEL_OPTIONS, ChannelPool, auth_metadata
from dsjobs_lsp.core.client.errors import BackendError, OperationFailed, TransferError, code_name
from dsjobs_lsp.core.client.jobs_client import CreateResult, JobsClient, execute_metadata, execute_response
from dsjobs_lsp.core.client.logs import SYSTEM_LOG, LogChunk
from dsjobs_lsp.core.client.targets import UploadTarget
from dsjobs_lsp.core.lazy import lazy_exports

if TYPE_CHECKING:
    from dsjobs_lsp.core.client.transfer import (
        DOWNLOAD_FILES_MAX_TOTAL_SIZE_BYTES,
        download_files,
        safe_destination,
        upload_files,
    )

__getattr__ = lazy_exports(
    __name__,
    {
        "transfer": (
            "DOWNLOAD_FILES_MAX_TOTAL_SIZE_BYTES",
            "download_files",
            "safe_destination",
            "upload_files",
        )
    },
)

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
