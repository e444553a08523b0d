"""grpc.aio channels to a backend's addresses, with the reference CLI's options, and auth metadata."""

from __future__ import annotations

import json

import grpc
import grpc.aio

from dsjobs_lsp.backends.endpoints import Endpoints, TokenProvider
from dsjobs_lsp.core.auth.grpc_env import ensure_grpc_environment

MAX_MESSAGE_BYTES = 64 * 1024 * 1024
_RETRIED_SERVICES = (
    "yandex.cloud.datasphere.v2.jobs.ProjectJobService",
    "yandex.cloud.datasphere.v2.ProjectService",
    "yandex.cloud.operation.OperationService",
)
_SERVICE_CONFIG = {
    "methodConfig": [
        {
            "name": [{"service": name}],
            "retryPolicy": {
                "maxAttempts": 5,
                "initialBackoff": "1s",
                "maxBackoff": "5s",
                "backoffMultiplier": 1.0,
                "retryableStatusCodes": ["UNAVAILABLE"],
            },
        }
        for name in _RETRIED_SERVICES
    ]
}
CHANNEL_OPTIONS: list[tuple[str, int | str]] = [
    ("grpc.enable_retries", 1),
    ("grpc.http2.max_pings_without_data", 0),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.keepalive_time_ms", 5 * 60 * 1000),  # servers reject pings more frequent than every 5 min
    ("grpc.keepalive_timeout_ms", 10 * 1000),
    ("grpc.initial_reconnect_backoff_ms", 1000),
    ("grpc.min_reconnect_backoff_ms", 1000),
    ("grpc.max_reconnect_backoff_ms", 5000),
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
    ("grpc.service_config", json.dumps(_SERVICE_CONFIG)),
]

Metadata = tuple[tuple[str, str], ...]


class ChannelPool:
    """One channel per distinct address of ``endpoints`` (TLS when ``endpoints.secure``)."""

    def __init__(self, endpoints: Endpoints, *, user_agent: str | None = None) -> None:
        self.endpoints = endpoints
        self._options = list(CHANNEL_OPTIONS)
        if user_agent:
            self._options.append(("grpc.primary_user_agent", user_agent))
        self._channels: dict[str, grpc.aio.Channel] = {}

    def get(self, address: str) -> grpc.aio.Channel:
        """The channel to ``address``, created on first use."""
        channel = self._channels.get(address)
        if channel is None:
            ensure_grpc_environment()
            if self.endpoints.secure:
                credentials = grpc.ssl_channel_credentials()
                channel = grpc.aio.secure_channel(address, credentials, options=self._options)
            else:
                channel = grpc.aio.insecure_channel(address, options=self._options)
            self._channels[address] = channel
        return channel

    async def close(self) -> None:
        """Close every channel (in-flight calls are cancelled)."""
        channels, self._channels = list(self._channels.values()), {}
        for channel in channels:
            await channel.close()


async def auth_metadata(token: TokenProvider) -> Metadata:
    """Call metadata carrying ``authorization: Bearer <token>``; asked per call since tokens rotate."""
    return (("authorization", f"Bearer {await token()}"),)
