"""How a client on this machine asks the local store to copy a file itself (see ``local_copy``): the headers
of such a PUT. Loads nothing else, so that a client's start does not pay for the store's modules."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import quote, unquote_to_bytes

COPY_FROM_HEADER = "X-Dsjobs-Copy-From"
"""The percent-encoded absolute path of the file to copy (the PUT's body is empty)."""
COPY_SIZE_HEADER = "X-Dsjobs-Copy-Size"
"""How many bytes of it (the size the client hashed)."""


def encode_source(path: Path) -> str:
    """The header value naming ``path`` (made absolute; any bytes the file system allows)."""
    return quote(os.fsencode(os.path.abspath(path)), safe="/")


def decode_source(value: str) -> str:
    """The path a header value names."""
    return os.fsdecode(unquote_to_bytes(value))
