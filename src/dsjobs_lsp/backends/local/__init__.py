"""The embedded local DataSphere backend: gRPC services, HTTP file store, executor, persistence, launcher.

Works purely on the yandexcloud protos; never imports ``dsjobs_lsp.core``.
"""

from .launcher import LocalBackend, ensure_local_backend, main
from .layout import LOCAL_PROJECT_ID
from .server import LocalServer

__all__ = ["LOCAL_PROJECT_ID", "LocalBackend", "LocalServer", "ensure_local_backend", "main"]
