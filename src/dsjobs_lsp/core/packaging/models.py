"""What goes into a job's upload: the items asked for and the files prepared from them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

PackRole = Literal["input", "local_module"]
Compression = Literal["NONE", "ZIP"]


@dataclass(frozen=True)
class PackItem:
    """A file or folder to ship.

    ``desc_path`` is the POSIX path the job sees (relative to its working directory). Folders, and local
    modules even when they are a single file (as the reference CLI ships them), are zipped with entries
    relative to ``archive_root`` (default: the item's parent, as the reference CLI does).
    """

    local_path: Path
    desc_path: str
    var: str | None = None
    role: PackRole = "input"
    archive_root: Path | None = None


@dataclass(frozen=True)
class PreparedFile:
    """A file ready for upload: ``local_path`` is what gets uploaded (the archive, for a folder)."""

    desc_path: str
    var: str | None
    local_path: Path
    sha256: str
    size: int
    compression: Compression
    role: PackRole = "input"
