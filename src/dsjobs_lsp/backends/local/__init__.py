"""The embedded local DataSphere backend: gRPC services, HTTP file store, executor, persistence, launcher.

Works purely on the yandexcloud protos; never imports ``dsjobs_lsp.core``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .launcher import LocalBackend, ensure_local_backend, main
from .layout import LOCAL_PROJECT_ID

if TYPE_CHECKING:
    from .server import LocalServer

__all__ = ["LOCAL_PROJECT_ID", "LocalBackend", "LocalServer", "ensure_local_backend", "main"]


def __getattr__(name: str) -> Any:
    """``LocalServer``, imported on first use: a client that only finds the daemon never loads the server."""
    if name == "LocalServer":
        from .server import LocalServer

        return LocalServer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
