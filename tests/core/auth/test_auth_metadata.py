"""IAM tokens from the VM metadata service.

A metadata service on loopback (`YC_METADATA_ADDR=127.0.0.1:PORT`), tried in the reference's order (OAuth,
metadata, `yc`).
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from dsjobs_lsp.core.auth import AuthError, IamTokenSource
from dsjobs_lsp.core.auth.metadata import DEFAULT_METADATA_ADDR, TOKEN_PATH, metadata_address
from tests.core.auth.test_auth_iam import OAUTH, IamService, _write_yc
from tests.core.auth.test_auth_iam import iam as iam  # the IAM service fixture
from tests.support.isolation import CLOSED_METADATA_ADDR

YC_TOKEN = "t1.from-yc-cli-0123456789abcdef"


class MetadataServer(ThreadingHTTPServer):
    """Answers the token path like the metadata service: only with `Metadata-Flavor: Google`."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[tuple[str, str | None]] = []
        self.status = 200
        self.lifetime = 3600

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: MetadataServer

    def do_GET(self) -> None:
        server = self.server
        flavor = self.headers.get("Metadata-Flavor")
        server.requests.append((self.path, flavor))
        if flavor != "Google" or self.path != TOKEN_PATH:
            self.send_error(400)
            return
        if server.status != 200:
            self.send_error(server.status)
            return
        number = len(server.requests)
        body = {"access_token": f"t1.from-metadata-{number}-0123456789abcdef", "expires_in": server.lifetime}
        data = json.dumps({**body, "token_type": "Bearer"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def metadata(monkeypatch: pytest.MonkeyPatch) -> Iterator[MetadataServer]:
    server = MetadataServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("YC_METADATA_ADDR", server.address)
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def no_yc_nor_env_token(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("YC_IAM_TOKEN", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))


async def test_token_comes_from_the_metadata_service_and_is_renewed(metadata: MetadataServer) -> None:
    metadata.lifetime = 1
    source = IamTokenSource(refresh_margin=300.0)

    first = await source.token()
    assert first == "t1.from-metadata-1-0123456789abcdef"
    assert await source.token() == first, "cached while valid"
    assert metadata.requests == [(TOKEN_PATH, "Google")]

    await asyncio.sleep(0.6)
    assert await source.token() == "t1.from-metadata-2-0123456789abcdef"


async def test_metadata_comes_before_yc(metadata: MetadataServer, tmp_path: Path) -> None:
    _write_yc(tmp_path / "bin", f'echo "{YC_TOKEN}"')
    assert (await IamTokenSource().token()).startswith("t1.from-metadata-")


async def test_oauth_comes_before_metadata(metadata: MetadataServer, iam: tuple[IamService, str]) -> None:
    service, address = iam
    source = IamTokenSource(OAUTH, iam_endpoint=address, insecure=True)
    assert (await source.token()).startswith("t1.issued-token-number-1")
    assert metadata.requests == [] and service.calls == [OAUTH]


async def test_without_a_metadata_service_yc_is_used_and_the_probe_is_not_repeated(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("YC_METADATA_ADDR", CLOSED_METADATA_ADDR)
    _write_yc(tmp_path / "bin", f'echo "{YC_TOKEN}"')
    source = IamTokenSource(refresh_margin=0.0)
    assert await source.token() == YC_TOKEN
    source.invalidate()
    assert await source.token() == YC_TOKEN
    assert source._metadata is not None and source._metadata.reachable is False


async def test_a_metadata_service_without_a_service_account_leads_to_yc_or_a_clear_error(
    metadata: MetadataServer, tmp_path: Path
) -> None:
    metadata.status = 404
    with pytest.raises(AuthError, match=r"no credentials.*gave no token \(HTTP 404\); is a service account"):
        await IamTokenSource(retry_delays=()).token()
    _write_yc(tmp_path / "bin", f'echo "{YC_TOKEN}"')
    assert await IamTokenSource(retry_delays=()).token() == YC_TOKEN


def test_default_address_is_the_link_local_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("YC_METADATA_ADDR")
    assert metadata_address() == DEFAULT_METADATA_ADDR == "169.254.169.254"
    monkeypatch.setenv("YC_METADATA_ADDR", "10.0.0.1:8080")
    assert metadata_address() == "10.0.0.1:8080"
    assert metadata_address("127.0.0.1:1234") == "127.0.0.1:1234"
