"""IAM tokens from the VM metadata service (a VM or an Airflow worker with an attached service account).

`GET http://$YC_METADATA_ADDR/computeMetadata/v1/instance/service-accounts/default/token` with
`Metadata-Flavor: Google` (default address 169.254.169.254), with a short timeout, as the reference CLI and
yandexcloud do. A service that does not answer once is not asked again by the same `MetadataService`.
"""

from __future__ import annotations

import logging
import os
import time

import httpx

from dsjobs_lsp.core.auth.errors import AuthError

logger = logging.getLogger(__name__)

METADATA_ADDR_ENV = "YC_METADATA_ADDR"
DEFAULT_METADATA_ADDR = "169.254.169.254"
TOKEN_PATH = "/computeMetadata/v1/instance/service-accounts/default/token"
METADATA_TIMEOUT = httpx.Timeout(1.0)


def metadata_address(configured: str | None = None) -> str:
    """The configured address, else `$YC_METADATA_ADDR`, else 169.254.169.254."""
    return configured or os.environ.get(METADATA_ADDR_ENV, "").strip() or DEFAULT_METADATA_ADDR


class MetadataService:
    """Asks the metadata service for the attached service account's token; remembers that it is absent."""

    def __init__(self, address: str | None = None) -> None:
        self.address = metadata_address(address)
        self.reachable: bool | None = None  # None: not asked yet
        self.refusal: str | None = None
        """Why a service that answered gave no token (no service account attached?), for error messages."""

    async def token(self) -> tuple[str, float] | None:
        """`(token, expires_at)`, or None when there is no metadata service or it gave no token (then the
        next source is tried; `refusal` says why)."""
        if self.reachable is False:
            return None
        url = f"http://{self.address}{TOKEN_PATH}"
        try:
            async with httpx.AsyncClient(timeout=METADATA_TIMEOUT, trust_env=False) as client:
                response = await client.get(url, headers={"Metadata-Flavor": "Google"})
        except httpx.HTTPError as error:
            if self.reachable:
                logger.warning("the metadata service at %s was up but now fails: %s", self.address, error)
            self.reachable = False
            return None
        self.reachable = True
        if response.status_code != 200:
            self.refusal = (
                f"the metadata service at {self.address} gave no token (HTTP {response.status_code}); "
                "is a service account attached to this VM?"
            )
            logger.warning("%s", self.refusal)
            return None
        return _parse(response, self.address)


def _parse(response: httpx.Response, address: str) -> tuple[str, float]:
    try:
        body = response.json()
        token, lifetime = str(body["access_token"]), float(body["expires_in"])
    except (ValueError, KeyError, TypeError):
        raise AuthError(f"the metadata service at {address} answered without a token or lifetime") from None
    return token, time.time() + lifetime
