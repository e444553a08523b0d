"""The reference CLI's upload limits (``datasphere/config.py:check_limits``); messages name the file."""

from __future__ import annotations

from collections.abc import Sequence

from dsjobs_lsp.core.packaging.models import PreparedFile

UPLOAD_FILE_MAX_SIZE_BYTES = 5 * (1 << 30)
UPLOAD_FILES_MAX_TOTAL_SIZE_BYTES = 10 * (1 << 30)
FILES_LIST_MAX_SIZE = 100


class LimitError(ValueError):
    """The job exceeds one of the service's limits."""


def humanize_bytes_size(size: float) -> str:
    """``1536`` → ``"1.5KB"``, exactly as the reference CLI prints sizes."""
    for unit in ("", "K", "M", "G", "T", "P", "E", "Z"):
        if abs(size) < 1024.0:
            return f"{size:3.1f}{unit}B"
        size /= 1024.0
    return f"{size:.1f}YB"


def check_limits(
    files: Sequence[PreparedFile], *, outputs: int = 0, s3_mounts: int = 0, datasets: int = 0
) -> None:
    """Raise ``LimitError`` if a file is over 5 GiB, all are over 10 GiB, or a list has over 100 entries."""
    total = 0
    for file in files:
        if file.size > UPLOAD_FILE_MAX_SIZE_BYTES:
            raise LimitError(
                f"size of file {file.desc_path} ({file.local_path}) = {humanize_bytes_size(file.size)}, "
                f"while limit = {humanize_bytes_size(UPLOAD_FILE_MAX_SIZE_BYTES)}"
            )
        total += file.size
    if total > UPLOAD_FILES_MAX_TOTAL_SIZE_BYTES:
        has_modules = any(f.role == "local_module" for f in files)
        what = "input files and Python local modules" if has_modules else "input files"
        raise LimitError(
            f"total size of {what} = {humanize_bytes_size(total)}, "
            f"while limit = {humanize_bytes_size(UPLOAD_FILES_MAX_TOTAL_SIZE_BYTES)}"
        )
    inputs = sum(1 for f in files if f.role == "input")
    for count, name in (
        (inputs, "input files"),
        (outputs, "output files"),
        (s3_mounts, "s3 mounts"),
        (datasets, "datasets"),
    ):
        if count > FILES_LIST_MAX_SIZE:
            raise LimitError(f"number of {name} ({count}) must be not greater than {FILES_LIST_MAX_SIZE}")
