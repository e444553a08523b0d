"""A service account's authorized key (the JSON `yc iam key create` writes) → a signed IAM token request.

The JWT (PS256, `kid` = the key id, `iss` = the service account) is made by yandexcloud's own auth helper
(`yandexcloud._auth_fabric.get_auth_token_requester`); this module only reads and checks the file.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from yandex.cloud.iam.v1 import iam_token_service_pb2

from dsjobs_lsp.core.auth.errors import AuthError

SA_KEY_ENV = "YC_SA_KEY_FILE"
REQUIRED_KEYS = ("id", "service_account_id", "private_key")


class ServiceAccountKey:
    """An authorized key file, read once; `request()` signs a fresh JWT for every exchange."""

    def __init__(self, path: Path, key: dict[str, Any]) -> None:
        self.path = path
        self.key_id = str(key["id"])
        self.service_account_id = str(key["service_account_id"])
        self._key = key

    def __repr__(self) -> str:
        return f"ServiceAccountKey(path={str(self.path)!r}, key_id={self.key_id!r})"

    @classmethod
    async def load(cls, path: Path) -> ServiceAccountKey:
        """Read and check the key file; `AuthError` names the file and what is wrong (never the key)."""
        try:
            text = await asyncio.to_thread(_read_text, path)
        except OSError as error:
            raise AuthError(f"cannot read the service account key file {path}: {error.strerror}") from None
        try:
            key = json.loads(text)
        except json.JSONDecodeError as error:
            raise AuthError(
                f"the service account key file {path} is not JSON (line {error.lineno}): expected what "
                "`yc iam key create --output key.json` writes"
            ) from None
        if not isinstance(key, dict):
            raise AuthError(f"the service account key file {path} must hold a JSON object")
        missing = [name for name in REQUIRED_KEYS if not key.get(name)]
        if missing:
            raise AuthError(f"the service account key file {path} lacks {', '.join(missing)}")
        return cls(path, key)

    async def request(self) -> iam_token_service_pb2.CreateIamTokenRequest:
        """A `CreateIamTokenRequest` carrying a JWT signed now (valid one hour), by yandexcloud's helper."""
        return await asyncio.to_thread(self._sign)

    def _sign(self) -> iam_token_service_pb2.CreateIamTokenRequest:
        from yandexcloud._auth_fabric import ServiceAccountAuth, get_auth_token_requester

        try:
            requester = get_auth_token_requester(service_account_key=self._key)
            assert isinstance(requester, ServiceAccountAuth)  # what a key alone gives
            request: iam_token_service_pb2.CreateIamTokenRequest = requester.get_token_request()
        except Exception as error:  # yandexcloud, PyJWT and cryptography raise several kinds
            raise AuthError(f"the service account key file {self.path} cannot sign: {error}") from None
        return request


def _read_text(path: Path) -> str:
    return path.expanduser().read_text(encoding="utf-8")
