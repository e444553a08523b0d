"""Turn the files and folders of a job into uploadable files: zip what must be zipped, hash everything.

Folders and local modules (a single-file module too, as the reference CLI ships them) become deterministic
ZIP archives; plain input files are uploaded as they are. Thread hops are batched: one to look at every
item, one for every cached digest, then one per file that must actually be zipped or read; the plain files
are hashed while the archives are made.
"""

from __future__ import annotations

import asyncio
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from yandex.cloud.datasphere.v2.jobs import jobs_pb2

from dsjobs_lsp.core.packaging.hashing import FileDigest, FileHasher
from dsjobs_lsp.core.packaging.models import Compression, PackItem, PreparedFile
from dsjobs_lsp.core.packaging.zipping import archive_blocking

ProgressCallback = Callable[[int, int], None]
"""Called with (items done, items in all)."""


@dataclass(frozen=True)
class _Plan:
    """The items shipped as they are and those shipped as a ZIP, by their index in the request."""

    plain: list[int]
    zipped: list[int]


def _check_desc_path(item: PackItem) -> None:
    """A path must be POSIX-style; it may leave the working directory (absolute, `../`) only with a
    variable, through which the job finds the file (as the reference CLI's config rules have it)."""
    path = PurePosixPath(item.desc_path)
    leaves = path.is_absolute() or ".." in path.parts
    if "\\" in item.desc_path or not item.desc_path or (leaves and not item.var):
        raise ValueError(
            f"the path {item.desc_path!r} of {item.local_path} must be POSIX-style and, without a variable, "
            "relative and inside the working directory"
        )


def _plan(items: list[PackItem]) -> _Plan:
    """Check every item and sort it into plain or zipped (blocking: one stat per item)."""
    plan = _Plan([], [])
    for index, item in enumerate(items):
        _check_desc_path(item)
        try:
            mode = os.stat(item.local_path).st_mode
        except FileNotFoundError:
            mode = 0
        if stat.S_ISDIR(mode) or (stat.S_ISREG(mode) and item.role == "local_module"):
            plan.zipped.append(index)
        elif stat.S_ISREG(mode):
            plan.plain.append(index)
        else:
            what = item.role.replace("_", " ")
            raise FileNotFoundError(f"the {what} {item.desc_path} ({item.local_path}) does not exist")
    return plan


def _prepared(item: PackItem, path: Path, digest: FileDigest, *, zipped: bool) -> PreparedFile:
    compression: Compression = "ZIP" if zipped else "NONE"
    return PreparedFile(item.desc_path, item.var, path, digest.sha256, digest.size, compression, item.role)


async def prepare_files(
    items: list[PackItem],
    *,
    hasher: FileHasher,
    cache_dir: Path,
    on_progress: ProgressCallback | None = None,
    deflate: bool = True,
) -> list[PreparedFile]:
    """Zip folders and local modules, hash every item (concurrently); the result keeps the order of ``items``.
    ``deflate``: compress archived files that compress (the store is across a network), else store them.

    Raises ``ValueError`` for a ``desc_path`` leaving the working directory and ``FileNotFoundError`` naming
    an item that does not exist.
    """
    plan = await asyncio.to_thread(_plan, items)
    ready: dict[int, PreparedFile] = {}

    def report() -> None:
        if on_progress is not None:
            on_progress(len(ready), len(items))

    async def hash_plain() -> None:
        if not plan.plain:
            return
        digests = await hasher.hash_many([items[i].local_path for i in plan.plain])
        for index, digest in zip(plan.plain, digests, strict=True):
            ready[index] = _prepared(items[index], items[index].local_path, digest, zipped=False)
        report()

    async def zip_one(index: int) -> None:
        item = items[index]
        archive, digest = await asyncio.to_thread(_zip_and_hash, item, hasher, cache_dir, deflate)
        ready[index] = _prepared(item, archive, digest, zipped=True)
        report()

    await asyncio.gather(hash_plain(), *(zip_one(index) for index in plan.zipped))
    return [ready[index] for index in range(len(items))]


def _zip_and_hash(
    item: PackItem, hasher: FileHasher, cache_dir: Path, deflate: bool
) -> tuple[Path, FileDigest]:
    whole = item.role == "input"  # a declared input folder ships every file, as with the reference
    archive = archive_blocking(
        item.local_path, cache_dir=cache_dir, root=item.archive_root, whole=whole, deflate=deflate
    )
    if archive.sha256 is not None:  # hashed while written
        return archive.path, hasher.remember(archive.path, archive.sha256)
    return archive.path, hasher.hash_blocking(archive.path)


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
