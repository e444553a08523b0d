"""Authentication: service account keys and OAuth → IAM, the VM metadata service, the ``yc`` CLI,
``YC_IAM_TOKEN``, token caching and redaction.

``redact``/``RedactingFilter`` are light; the token source (which pulls in gRPC) loads on first use.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from dsjobs_lsp.core.auth.errors import AuthError
from dsjobs_lsp.core.auth.grpc_env import ensure_grpc_environment
from dsjobs_lsp.core.auth.redaction import RedactingFilter, install_redaction, redact, register_secret

if TYPE_CHECKING:
    from dsjobs_lsp.core.auth.iam import IAM_TOKEN_ENV, IamTokenSource, IssuedToken
    from dsjobs_lsp.core.auth.metadata import METADATA_ADDR_ENV, MetadataService
    from dsjobs_lsp.core.auth.service_account import SA_KEY_ENV, ServiceAccountKey
    from dsjobs_lsp.core.auth.yc import find_yc, yc_create_token

_LAZY = {
    "IAM_TOKEN_ENV": "dsjobs_lsp.core.auth.iam",
    "IamTokenSource": "dsjobs_lsp.core.auth.iam",
    "IssuedToken": "dsjobs_lsp.core.auth.iam",
    "METADATA_ADDR_ENV": "dsjobs_lsp.core.auth.metadata",
    "MetadataService": "dsjobs_lsp.core.auth.metadata",
    "SA_KEY_ENV": "dsjobs_lsp.core.auth.service_account",
    "ServiceAccountKey": "dsjobs_lsp.core.auth.service_account",
    "find_yc": "dsjobs_lsp.core.auth.yc",
    "yc_create_token": "dsjobs_lsp.core.auth.yc",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "IAM_TOKEN_ENV",
    "METADATA_ADDR_ENV",
    "SA_KEY_ENV",
    "AuthError",
    "IamTokenSource",
    "IssuedToken",
    "MetadataService",
    "RedactingFilter",
    "ServiceAccountKey",
    "ensure_grpc_environment",
    "find_yc",
    "install_redaction",
    "redact",
    "register_secret",
    "yc_create_token",
]
