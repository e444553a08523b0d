"""The bearer token for Yandex Cloud: ``YC_IAM_TOKEN``, a service account key or OAuth → IAM, the VM metadata
service, else ``yc iam create-token``."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

import grpc
import grpc.aio
from yandex.cloud.iam.v1 import iam_token_service_pb2, iam_token_service_pb2_grpc

from dsjobs_lsp.backends.cloud import IAM_ENDPOINT
from dsjobs_lsp.core.auth.errors import AuthError
from dsjobs_lsp.core.auth.grpc_env import ensure_grpc_environment
from dsjobs_lsp.core.auth.metadata import MetadataService
from dsjobs_lsp.core.auth.redaction import redact, register_secret
from dsjobs_lsp.core.auth.service_account import ServiceAccountKey
from dsjobs_lsp.core.auth.yc import find_yc, yc_create_token

logger = logging.getLogger(__name__)

IAM_TOKEN_ENV = "YC_IAM_TOKEN"
YC_TOKEN_LIFETIME_SECONDS = 12 * 3600.0
REFRESH_MARGIN_SECONDS = 300.0
IAM_CALL_TIMEOUT_SECONDS = 30.0
DEFAULT_RETRY_DELAYS = (0.5, 2.0, 5.0)
_PERMANENT_CODES = frozenset(
    {
        grpc.StatusCode.UNAUTHENTICATED,
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.PERMISSION_DENIED,
    }
)


@dataclass(frozen=True)
class IssuedToken:
    """A token and the time (``time.time()``) it stops being valid."""

    value: str
    expires_at: float

    def __repr__(self) -> str:
        return f"IssuedToken(value='***', expires_at={self.expires_at})"


class IamTokenSource:
    """Gives a valid IAM token on every call; usable directly as a ``TokenProvider``.

    Order: the ``YC_IAM_TOKEN`` environment variable (as-is, never renewed); a service account's authorized
    key file (a JWT signed by yandexcloud's helper) or else an OAuth token, exchanged through
    ``IamTokenService.Create``; the VM metadata service (``$YC_METADATA_ADDR``, asked with a 1 s timeout,
    not again once it did not answer; ``use_metadata=False`` skips it); the ``yc`` CLI (the reference's
    order). Tokens are cached until ``refresh_margin`` seconds before they
    expire (``yc`` tokens are assumed to live 12 h); concurrent callers share one renewal; a failed renewal is
    retried with backoff, and while the cached token is still valid it keeps being used.
    """

    def __init__(
        self,
        oauth_token: str | None = None,
        yc_path: str | None = None,
        *,
        iam_endpoint: str = IAM_ENDPOINT,
        channel_credentials: grpc.ChannelCredentials | None = None,
        insecure: bool = False,
        yc_profile: str | None = None,
        refresh_margin: float = REFRESH_MARGIN_SECONDS,
        retry_delays: tuple[float, ...] = DEFAULT_RETRY_DELAYS,
        service_account_key_file: Path | str | None = None,
        metadata_addr: str | None = None,
        use_metadata: bool = True,
    ) -> None:
        self._oauth_token = oauth_token or None
        if self._oauth_token:
            register_secret(self._oauth_token)
        self._key_file = Path(service_account_key_file) if service_account_key_file else None
        self._key: ServiceAccountKey | None = None
        self._metadata = MetadataService(metadata_addr) if use_metadata else None
        self._yc_path = yc_path
        self._yc_profile = yc_profile
        self._iam_endpoint = iam_endpoint
        self._credentials = channel_credentials
        self._insecure = insecure
        self._refresh_margin = refresh_margin
        self._retry_delays = retry_delays
        self._cached: IssuedToken | None = None
        self._renew_at = 0.0
        self._lock = asyncio.Lock()
        self.issued_count = 0
        """How many tokens were obtained from OAuth or ``yc`` (not the env var); for diagnostics."""

    def __repr__(self) -> str:
        source = "service-account" if self._key_file else "oauth" if self._oauth_token else "metadata-or-yc"
        return f"IamTokenSource(source={source!r}, iam_endpoint={self._iam_endpoint!r})"

    async def __call__(self) -> str:
        return await self.token()

    async def token(self) -> str:
        """A valid IAM token (see the class docstring for where it comes from)."""
        from_env = os.environ.get(IAM_TOKEN_ENV, "").strip()
        if from_env:
            register_secret(from_env)
            return from_env
        if self._cached is not None and time.time() < self._renew_at:
            return self._cached.value
        async with self._lock:
            if self._cached is not None and time.time() < self._renew_at:
                return self._cached.value
            return await self._renew()

    def invalidate(self) -> None:
        """Forget the cached token (e.g. after the service rejected it)."""
        self._cached = None
        self._renew_at = 0.0

    async def _renew(self) -> str:
        try:
            issued = await self._issue_with_retries()
        except AuthError as error:
            if self._cached is not None and time.time() < self._cached.expires_at:
                logger.warning("token renewal failed, using the current token until it expires: %s", error)
                self._renew_at = time.time() + min(30.0, self._cached.expires_at - time.time())
                return self._cached.value
            raise
        register_secret(issued.value)
        self.issued_count += 1
        self._cached = issued
        lifetime = max(0.0, issued.expires_at - time.time())
        self._renew_at = issued.expires_at - min(self._refresh_margin, lifetime / 2)
        return issued.value

    async def _issue_with_retries(self) -> IssuedToken:
        attempts = len(self._retry_delays) + 1
        for attempt in range(attempts):
            try:
                return await self._issue()
            except _PermanentAuthError as error:
                raise AuthError(str(error)) from None
            except AuthError as error:
                if attempt == attempts - 1:
                    raise AuthError(f"{error} (gave up after {attempts} attempts)") from None
                delay = self._retry_delays[attempt]
                logger.warning("getting an IAM token failed (%s); retrying in %.1f s", error, delay)
                await asyncio.sleep(delay)
        raise AssertionError("unreachable")

    async def _issue(self) -> IssuedToken:
        if self._key_file is not None:
            request = await self._service_account_request(self._key_file)
            return await self._exchange(request, f"the service account key {self._key_file}")
        if self._oauth_token:
            oauth = iam_token_service_pb2.CreateIamTokenRequest(yandex_passport_oauth_token=self._oauth_token)
            return await self._exchange(oauth, "the OAuth token")
        if self._metadata is not None:
            found = await self._metadata.token()
            if found is not None:
                return IssuedToken(*found)
        yc = find_yc(self._yc_path)
        if yc is None:
            refusal = self._metadata.refusal if self._metadata else None
            raise _PermanentAuthError(
                "no credentials: set a service account key file (--sa-key, YC_SA_KEY_FILE) or an OAuth "
                "token, run on a VM with a service account, install the Yandex Cloud CLI (`yc`) or point the "
                f"yc path setting at it, or set {IAM_TOKEN_ENV}" + (f" ({refusal})" if refusal else "")
            )
        value = await yc_create_token(yc, profile=self._yc_profile)
        return IssuedToken(value, time.time() + YC_TOKEN_LIFETIME_SECONDS)

    def _channel(self) -> grpc.aio.Channel:
        ensure_grpc_environment()
        if self._insecure:
            return grpc.aio.insecure_channel(self._iam_endpoint)
        credentials = self._credentials or grpc.ssl_channel_credentials()
        return grpc.aio.secure_channel(self._iam_endpoint, credentials)

    async def _service_account_request(self, path: Path) -> iam_token_service_pb2.CreateIamTokenRequest:
        """A freshly signed request; a missing, malformed or unusable key file is a permanent error."""
        try:
            if self._key is None:
                self._key = await ServiceAccountKey.load(path)
            return await self._key.request()
        except AuthError as error:
            raise _PermanentAuthError(str(error)) from None

    async def _exchange(self, request: iam_token_service_pb2.CreateIamTokenRequest, what: str) -> IssuedToken:
        async with self._channel() as channel:
            stub = iam_token_service_pb2_grpc.IamTokenServiceStub(channel)
            try:
                response = await stub.Create(request, timeout=IAM_CALL_TIMEOUT_SECONDS)
            except grpc.aio.AioRpcError as error:
                message = (
                    f"the IAM service at {self._iam_endpoint} refused to exchange {what}: "
                    f"{error.code().name}: {redact(error.details() or '')}"
                )
                if error.code() in _PERMANENT_CODES:
                    raise _PermanentAuthError(message) from None
                raise AuthError(message) from None
        if not response.iam_token:
            raise AuthError(f"the IAM service at {self._iam_endpoint} returned an empty token")
        expires_at = (
            response.expires_at.ToNanoseconds() / 1e9
            if response.HasField("expires_at")
            else time.time() + YC_TOKEN_LIFETIME_SECONDS
        )
        return IssuedToken(response.iam_token, expires_at)


class _PermanentAuthError(AuthError):
    """A failure retrying cannot fix (rejected credentials, an unusable key file, no credentials at all)."""
