"""Process-wide gRPC settings that must be in place before the first channel exists."""

from __future__ import annotations

import os


def ensure_grpc_environment() -> None:
    """Default ``GRPC_DNS_RESOLVER`` to ``native`` (c-ares fails behind VPNs and sandboxed DNS).

    A value the user set is kept. Call before creating any channel.
    """
    os.environ.setdefault("GRPC_DNS_RESOLVER", "native")
