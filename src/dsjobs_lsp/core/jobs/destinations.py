"""Where a job's output files land on this machine, as the reference CLI places them.

An output's path is relative to the output folder (the run's working directory), or — only for an output with
a variable — absolute or climbing out with ``../``: then the file goes to that very path, as the reference
CLI downloads it (``Path(desc.path)``). Files are grouped by the root they are written under, each with its
path relative to that root, for ``download_files``, which keeps every file under the folder it is given.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

from yandex.cloud.datasphere.v2.jobs import jobs_pb2


class OutputPathError(ValueError):
    """An output path without a variable leaves the output folder."""


def output_destination(desc: jobs_pb2.FileDesc, output_dir: Path) -> Path:
    """The local path of an output (see the module's docstring); ``OutputPathError`` for a path that leaves
    ``output_dir`` without a variable."""
    path = PurePosixPath(desc.path.replace("\\", "/"))
    leaves = path.is_absolute() or ".." in path.parts
    if leaves and not desc.var:
        raise OutputPathError(
            f"refusing to write output {desc.path!r}: without a variable it must stay inside {output_dir}"
        )
    if not leaves:
        return output_dir.joinpath(*path.parts)
    target = os.path.normpath(output_dir / desc.path)
    return Path("/" + target.lstrip("/")) if target.startswith("//") else Path(target)  # `//x` is `/x`


def download_groups(
    files: list[jobs_pb2.StorageFile], output_dir: Path
) -> dict[Path, list[jobs_pb2.StorageFile]]:
    """``files`` grouped by the folder to download them into, each with ``desc.path`` relative to it
    (outputs inside ``output_dir`` keep their paths; the others are placed under their file system root)."""
    output_dir = Path(os.path.abspath(output_dir))
    groups: dict[Path, list[jobs_pb2.StorageFile]] = {}
    for file in files:
        target = output_destination(file.file.desc, output_dir)
        base = output_dir if target.is_relative_to(output_dir) else Path(target.anchor)
        moved = jobs_pb2.StorageFile()
        moved.CopyFrom(file)
        moved.file.desc.path = target.relative_to(base).as_posix()
        groups.setdefault(base, []).append(moved)
    return groups
