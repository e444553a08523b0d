"""Authentication: service account keys and OAuth → IAM, the VM metadata service, the ``yc`` CLI,
``YC_IAM_TOKEN``, token caching and redaction.

``redact``/``RedactingFilter`` are light; the token source (which pulls in gRPC) loads on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dsjobs_lsp.core.auth.errors import AuthError
from dsjobs_lsp.core.auth.grpc_env import ensure_grpc_environment
from dsjobs_lsp.core.auth.redaction import RedactingFilter, install_redaction, redact, register_secret
from dsjobs_lsp.core.lazy import lazy_exports

if TYPE_CHECKING:
    from dsjobs_lsp.core.auth.iam import IAM_TOKEN_ENV, IamTokenSource, IssuedToken
    from dsjobs_lsp.core.auth.metadata import METADATA_ADDR_ENV, MetadataService
    from dsjobs_lsp.core.auth.service_account import SA_KEY_ENV, ServiceAccountKey
    from dsjobs_lsp.core.auth.yc import find_yc, yc_create_token

__getattr__ = lazy_exports(
    __name__,
    {
        "iam": ("IAM_TOKEN_ENV", "IamTokenSource", "IssuedToken"),
        "metadata": ("METADATA_ADDR_ENV", "MetadataService"),
        "service_account": ("SA_KEY_ENV", "ServiceAccountKey"),
        "yc": ("find_yc", "yc_create_token"),
    },
)


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
