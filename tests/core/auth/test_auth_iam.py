"""IamTokenSource against a real local IamTokenService and a real (scripted) `yc` executable."""

from __future__ import annotations

import asyncio
import os
import stat
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import grpc.aio
import pytest
from google.protobuf import timestamp_pb2
from yandex.cloud.iam.v1 import iam_token_service_pb2, iam_token_service_pb2_grpc

from dsjobs_lsp.core.auth import AuthError, IamTokenSource, redact

OAUTH = "y0_AgAAAAB0ZXN0b2F1dGh0b2tlbi1zZWNyZXQtdmFsdWU"


@dataclass
class IamService(iam_token_service_pb2_grpc.IamTokenServiceServicer):
    """Issues t1.<n> tokens living ``lifetime`` seconds; can fail the next ``failures`` calls."""

    lifetime: float = 3600.0
    delay: float = 0.0
    failures: int = 0
    failure_code: grpc.StatusCode = grpc.StatusCode.UNAVAILABLE
    calls: list[str] = field(default_factory=list)

    async def Create(
        self, request: iam_token_service_pb2.CreateIamTokenRequest, context: grpc.aio.ServicerContext
    ) -> iam_token_service_pb2.CreateIamTokenResponse:
        self.calls.append(request.yandex_passport_oauth_token)
        if self.failures:
            self.failures -= 1
            await context.abort(self.failure_code, f"cannot use {request.yandex_passport_oauth_token}")
        await asyncio.sleep(self.delay)
        expires = timestamp_pb2.Timestamp()
        expires.FromNanoseconds(int((time.time() + self.lifetime) * 1e9))
        token = f"t1.issued-token-number-{len(self.calls)}-abcdefghijklmnop"
        return iam_token_service_pb2.CreateIamTokenResponse(iam_token=token, expires_at=expires)


@pytest.fixture
async def iam() -> AsyncIterator[tuple[IamService, str]]:
    service = IamService()  # type: ignore[abstract]
    server = grpc.aio.server()
    iam_token_service_pb2_grpc.add_IamTokenServiceServicer_to_server(service, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    yield service, f"127.0.0.1:{port}"
    await server.stop(None)


@pytest.fixture(autouse=True)
def no_env_token(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("YC_IAM_TOKEN", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))


def _source(address: str, **kwargs: object) -> IamTokenSource:
    return IamTokenSource(OAUTH, iam_endpoint=address, insecure=True, retry_delays=(0.05, 0.05), **kwargs)  # type: ignore[arg-type]


async def test_env_token_wins_as_is(monkeypatch: pytest.MonkeyPatch, iam: tuple[IamService, str]) -> None:
    service, address = iam
    monkeypatch.setenv("YC_IAM_TOKEN", "t1.from-the-environment-0123456789")
    assert await _source(address).token() == "t1.from-the-environment-0123456789"
    assert service.calls == []


async def test_oauth_is_exchanged_once_and_cached(iam: tuple[IamService, str]) -> None:
    service, address = iam
    source = _source(address)
    first = await source.token()
    assert first.startswith("t1.issued-token-number-1")
    assert await source() == first
    assert service.calls == [OAUTH]


async def test_concurrent_callers_share_one_exchange(iam: tuple[IamService, str]) -> None:
    service, address = iam
    service.delay = 0.2
    source = _source(address)
    tokens = await asyncio.gather(*(source.token() for _ in range(20)))
    assert len(set(tokens)) == 1
    assert len(service.calls) == 1


async def test_token_is_renewed_before_it_expires(iam: tuple[IamService, str]) -> None:
    service, address = iam
    service.lifetime = 1.0
    source = _source(address, refresh_margin=300.0)  # margin is capped at half the lifetime
    first = await source.token()
    assert await source.token() == first
    await asyncio.sleep(0.6)
    second = await source.token()
    assert second != first and len(service.calls) == 2


async def test_transient_failures_are_retried(iam: tuple[IamService, str]) -> None:
    service, address = iam
    service.failures = 2
    assert (await _source(address).token()).startswith("t1.")
    assert len(service.calls) == 3


async def test_persistent_failure_is_reported_clearly_without_the_token(iam: tuple[IamService, str]) -> None:
    service, address = iam
    service.failures = 10
    with pytest.raises(AuthError) as caught:
        await _source(address).token()
    message = str(caught.value)
    assert "UNAVAILABLE" in message and "gave up after 3 attempts" in message
    assert OAUTH not in message and "***" in message


async def test_rejected_oauth_is_not_retried(iam: tuple[IamService, str]) -> None:
    service, address = iam
    service.failures, service.failure_code = 1, grpc.StatusCode.UNAUTHENTICATED
    with pytest.raises(AuthError, match="refused to exchange the OAuth token: UNAUTHENTICATED"):
        await _source(address).token()
    assert len(service.calls) == 1


async def test_failed_renewal_keeps_the_still_valid_token(iam: tuple[IamService, str]) -> None:
    service, address = iam
    service.lifetime = 2.0
    source = _source(address, refresh_margin=1.5)  # renew after 1 s, token valid 2 s
    first = await source.token()
    await asyncio.sleep(1.1)
    service.failures = 10
    assert await source.token() == first


def test_repr_never_shows_the_token() -> None:
    source = IamTokenSource(OAUTH)
    assert OAUTH not in repr(source) and OAUTH not in str(vars(source).get("__repr__", ""))
    assert redact(f"token={OAUTH}") == "token=***"


def _write_yc(folder: Path, body: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "yc"
    script.write_text(f"#!/bin/sh\n{body}\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


async def test_yc_on_path_gives_its_last_line(tmp_path: Path) -> None:
    _write_yc(tmp_path / "bin", 'echo "A new version is available"\necho "t1.from-yc-cli-0123456789abcdef"')
    source = IamTokenSource()
    assert await source.token() == "t1.from-yc-cli-0123456789abcdef"
    assert await source.token() == "t1.from-yc-cli-0123456789abcdef"
    assert source.issued_count == 1  # cached for its assumed 12 h life


async def test_yc_default_install_dir_and_configured_path(tmp_path: Path) -> None:
    _write_yc(tmp_path / "home" / "yandex-cloud" / "bin", 'echo "t1.default-install-0123456789abcdef"')
    assert await IamTokenSource().token() == "t1.default-install-0123456789abcdef"
    custom = _write_yc(tmp_path / "custom", 'echo "t1.custom-path-0123456789abcdef"')
    assert await IamTokenSource(yc_path=str(custom)).token() == "t1.custom-path-0123456789abcdef"


async def test_yc_printing_nothing_is_a_clear_error(tmp_path: Path) -> None:
    _write_yc(tmp_path / "bin", "echo 'please run yc init' >&2")
    with pytest.raises(AuthError, match=r"printed no token \(stderr: please run yc init\)"):
        await IamTokenSource(retry_delays=()).token()


async def test_yc_failing_is_a_clear_error_without_the_token(tmp_path: Path) -> None:
    _write_yc(tmp_path / "bin", "echo 'token t1.leaked-secret-0123456789abcdef expired' >&2\nexit 3")
    with pytest.raises(AuthError) as caught:
        await IamTokenSource(retry_delays=(0.01,)).token()
    message = str(caught.value)
    assert "failed with exit code 3" in message and "t1.leaked" not in message


async def test_no_credentials_at_all(tmp_path: Path) -> None:
    with pytest.raises(AuthError, match="no credentials"):
        await IamTokenSource().token()
    assert "yc" not in str(os.environ["PATH"]).split("/")


async def test_an_unreachable_iam_service_is_a_network_failure_not_a_refusal() -> None:
    server = grpc.aio.server()
    port = server.add_insecure_port("127.0.0.1:0")  # a port nobody listens on once the server is gone
    await server.start()
    await server.stop(None)
    with pytest.raises(AuthError) as caught:
        await _source(f"127.0.0.1:{port}").token()
    message = str(caught.value)
    assert f"cannot reach the IAM service at 127.0.0.1:{port}" in message, message
    assert "refused to exchange" not in message and OAUTH not in message
