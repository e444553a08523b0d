"""Packaging of a job's files: cached sha256, deterministic zips, the service's limits.

The zipping and the preparation of a job's files load on first use (a job list needs neither).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dsjobs_lsp.core.lazy import lazy_exports
from dsjobs_lsp.core.packaging.hashing import FileDigest, FileHasher, HasherStats
from dsjobs_lsp.core.packaging.limits import (
    FILES_LIST_MAX_SIZE,
    UPLOAD_FILE_MAX_SIZE_BYTES,
    UPLOAD_FILES_MAX_TOTAL_SIZE_BYTES,
    LimitError,
    check_limits,
    humanize_bytes_size,
)
from dsjobs_lsp.core.packaging.models import Compression, PackItem, PackRole, PreparedFile

if TYPE_CHECKING:
    from dsjobs_lsp.core.packaging.prepare import prepare_files, to_proto_file
    from dsjobs_lsp.core.packaging.zipping import SKIPPED_DIRS, SKIPPED_FILES, zip_path

__getattr__ = lazy_exports(
    __name__,
    {
        "prepare": ("prepare_files", "to_proto_file"),
        "zipping": ("SKIPPED_DIRS", "SKIPPED_FILES", "zip_path"),
    },
)

__all__ = [
    "FILES_LIST_MAX_SIZE",
    "SKIPPED_DIRS",
    "SKIPPED_FILES",
    "UPLOAD_FILES_MAX_TOTAL_SIZE_BYTES",
    "UPLOAD_FILE_MAX_SIZE_BYTES",
    "Compression",
    "FileDigest",
    "FileHasher",
    "HasherStats",
    "LimitError",
    "PackItem",
    "PackRole",
    "PreparedFile",
    "check_limits",
    "humanize_bytes_size",
    "prepare_files",
    "to_proto_file",
    "zip_path",
]
