"""What keeps tests off the outside network: the VM metadata probe points at a closed loopback port."""

from __future__ import annotations

CLOSED_METADATA_ADDR = "127.0.0.1:1"
"""Where tests point the VM metadata probe: a loopback port nobody listens on (never 169.254.169.254)."""
