"""Errors of authentication; their messages never carry a token."""

from __future__ import annotations

from dsjobs_lsp.core.auth.redaction import redact


class AuthError(RuntimeError):
    """No token could be obtained; the message says which source failed and why (tokens masked)."""

    def __init__(self, message: str) -> None:
        super().__init__(redact(message))
