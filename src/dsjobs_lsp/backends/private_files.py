"""Our own files are private: folders 0700, files 0600, also when they existed with wider modes.

Blocking helpers (a few syscalls); callers on the event loop go through ``asyncio.to_thread``.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


def _restrict(path: Path, mode: int) -> None:
    if stat.S_IMODE(os.stat(path).st_mode) != mode:
        os.chmod(path, mode)


def private_dir(path: Path) -> Path:
    """Create ``path`` (and its parents) if needed and make it 0700; returns it."""
    path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR_MODE)
    _restrict(path, PRIVATE_DIR_MODE)
    return path


def private_file(path: Path) -> None:
    """Make the existing file at ``path`` 0600."""
    _restrict(path, PRIVATE_FILE_MODE)
