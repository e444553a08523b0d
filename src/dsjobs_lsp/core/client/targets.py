"""What an upload is: a local file and the presigned URL it goes to (a module that loads no HTTP client)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class UploadTarget:
    """A local file to PUT to a presigned ``url``; ``display_path`` is what messages call it."""

    url: str
    local_path: Path
    size: int
    sha256: str
    display_path: str
