"""Turn the files and folders of a job into uploadable files: zip folders, hash everything."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path, PurePosixPath

from yandex.cloud.datasphere.v2.jobs import jobs_pb2

from dsjobs_lsp.core.packaging.hashing import FileHasher
from dsjobs_lsp.core.packaging.models import PackItem, PreparedFile
from dsjobs_lsp.core.packaging.zipping import zip_path

ProgressCallback = Callable[[int, int], None]
"""Called with (items done, items in all)."""


def _check_desc_path(item: PackItem) -> None:
    path = PurePosixPath(item.desc_path)
    if "\\" in item.desc_path or path.is_absolute() or ".." in path.parts or not item.desc_path:
        raise ValueError(
            f"the path {item.desc_path!r} of {item.local_path} must be relative, POSIX-style and stay inside "
            "the working directory"
        )


async def _prepare_one(item: PackItem, hasher: FileHasher, cache_dir: Path) -> PreparedFile:
    _check_desc_path(item)
    local = item.local_path
    if await asyncio.to_thread(local.is_dir):
        archive = await zip_path(local, cache_dir=cache_dir, root=item.archive_root)
        digest = await hasher.hash(archive)
        return PreparedFile(item.desc_path, item.var, archive, digest.sha256, digest.size, "ZIP", item.role)
    if not await asyncio.to_thread(local.is_file):
        what = item.role.replace("_", " ")
        raise FileNotFoundError(f"the {what} {item.desc_path} ({local}) does not exist")
    digest = await hasher.hash(local)
    return PreparedFile(item.desc_path, item.var, local, digest.sha256, digest.size, "NONE", item.role)


async def prepare_files(
    items: list[PackItem], *, hasher: FileHasher, cache_dir: Path, on_progress: ProgressCallback | None = None
) -> list[PreparedFile]:
    """Zip folders and hash every item (concurrently); the result keeps the order of ``items``."""
    done = 0

    async def run(item: PackItem) -> PreparedFile:
        nonlocal done
        prepared = await _prepare_one(item, hasher, cache_dir)
        done += 1
        if on_progress is not None:
            on_progress(done, len(items))
        return prepared

    return list(await asyncio.gather(*(run(item) for item in items)))


def to_proto_file(file: PreparedFile) -> jobs_pb2.File:
    """The ``jobs_pb2.File`` describing ``file`` in a job's parameters."""
    types = jobs_pb2.FileCompressionType
    compression = types.ZIP if file.compression == "ZIP" else types.NONE
    return jobs_pb2.File(
        desc=jobs_pb2.FileDesc(path=file.desc_path, var=file.var or ""),
        sha256=file.sha256,
        size_bytes=file.size,
        compression_type=compression,
    )
