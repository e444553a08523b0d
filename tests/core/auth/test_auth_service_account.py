"""A service account's authorized key → IAM tokens, against a TLS IAM service on loopback that checks the JWT.

The IAM service verifies each JWT with the public half of the key (PS256, `kid`, `iss`, `aud` as Yandex
Cloud's IAM does) and issues short-lived tokens, so the client must renew; a jobs service accepts only the
tokens it issued. The client runs in a subprocess that trusts the throwaway certificate through
`GRPC_DEFAULT_SSL_ROOTS_FILE_PATH` (see tests/core/client/test_client_tls.py).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import grpc.aio
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from yandex.cloud.datasphere.v2.jobs import jobs_pb2
from yandex.cloud.datasphere.v2.jobs import project_job_service_pb2 as service_pb2
from yandex.cloud.datasphere.v2.jobs import project_job_service_pb2_grpc as service_grpc
from yandex.cloud.iam.v1 import iam_token_service_pb2, iam_token_service_pb2_grpc

from tests.core.client.test_client_tls import _self_signed

AUDIENCE = "https://iam.api.cloud.yandex.net/iam/v1/tokens"
SERVICE_ACCOUNT = "ajeserviceaccount000"
KEY_ID = "ajekeyid000000000000"
LIFETIME_S = 2.0

CLIENT = textwrap.dedent(
    """
    import asyncio, json, sys
    from dsjobs_lsp.backends.endpoints import Endpoints
    from dsjobs_lsp.core.auth import IamTokenSource
    from dsjobs_lsp.core.client import JobsClient

    async def main(address: str, key_file: str, pause: float) -> None:
        endpoints = Endpoints("cloud", address, address, address, True, "https://datasphere.example")
        source = IamTokenSource(service_account_key_file=key_file, iam_endpoint=address, retry_delays=())
        seen = []
        async with JobsClient(endpoints, source) as client:
            for _ in range(2):
                seen.append((await client.get("jobforsakeytest00000")).id)
                await asyncio.sleep(pause)
        print(json.dumps({"jobs": seen, "issued": source.issued_count}))

    asyncio.run(main(sys.argv[1], sys.argv[2], float(sys.argv[3])))
    """
)


@dataclass
class Iam(iam_token_service_pb2_grpc.IamTokenServiceServicer):  # type: ignore[misc]
    """Verifies the JWT with `public_pem`; issues `t1.sa-<n>` tokens living `LIFETIME_S` seconds."""

    public_pem: bytes
    issued: list[str] = field(default_factory=list)
    claims: list[dict[str, object]] = field(default_factory=list)

    async def Create(
        self, request: iam_token_service_pb2.CreateIamTokenRequest, context: grpc.aio.ServicerContext
    ) -> iam_token_service_pb2.CreateIamTokenResponse:
        try:
            header = jwt.get_unverified_header(request.jwt)
            claims = jwt.decode(request.jwt, self.public_pem, algorithms=["PS256"], audience=AUDIENCE)
        except jwt.PyJWTError as error:
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, f"bad JWT: {error}")
        if header.get("kid") != KEY_ID or claims.get("iss") != SERVICE_ACCOUNT:
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, "unknown key or service account")
        self.claims.append(claims)
        token = f"t1.sa-issued-token-{len(self.issued) + 1}-abcdefghijklmnop"
        self.issued.append(token)
        response = iam_token_service_pb2.CreateIamTokenResponse(iam_token=token)
        response.expires_at.FromNanoseconds(int((time.time() + LIFETIME_S) * 1e9))
        return response


@dataclass
class Jobs(service_grpc.ProjectJobServiceServicer):  # type: ignore[misc]
    """Answers Get only with a bearer token the IAM service issued; remembers the tokens used."""

    iam: Iam
    used: list[str] = field(default_factory=list)

    async def Get(
        self, request: service_pb2.GetProjectJobRequest, context: grpc.aio.ServicerContext
    ) -> jobs_pb2.Job:
        metadata = dict(context.invocation_metadata() or ())
        token = str(metadata.get("authorization", "")).removeprefix("Bearer ")
        if token not in self.iam.issued:
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, "not an issued IAM token")
        self.used.append(token)
        return jobs_pb2.Job(id=request.job_id, status=jobs_pb2.SUCCESS)


def _key_pair() -> tuple[str, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, public


def _write_key_file(path: Path, private_pem: str) -> Path:
    """An authorized key as `yc iam key create --output key.json` writes it."""
    path.write_text(
        json.dumps(
            {
                "id": KEY_ID,
                "service_account_id": SERVICE_ACCOUNT,
                "created_at": "2026-01-01T00:00:00Z",
                "key_algorithm": "RSA_2048",
                "public_key": "-----BEGIN PUBLIC KEY-----\n...\n-----END PUBLIC KEY-----\n",
                "private_key": private_pem,
            }
        )
    )
    return path


@dataclass
class Cloud:
    """The TLS services on loopback and the client's key file."""

    address: str
    roots: Path
    key_file: Path
    private_pem: str
    iam: Iam
    jobs: Jobs


@pytest.fixture
async def cloud(tmp_path: Path) -> AsyncIterator[Cloud]:
    private, public = _key_pair()
    key, cert, cert_path = _self_signed(tmp_path)
    iam = Iam(public)  # type: ignore[abstract]
    jobs = Jobs(iam)  # type: ignore[abstract]
    server = grpc.aio.server()
    iam_token_service_pb2_grpc.add_IamTokenServiceServicer_to_server(iam, server)
    service_grpc.add_ProjectJobServiceServicer_to_server(jobs, server)
    port = server.add_secure_port("127.0.0.1:0", grpc.ssl_server_credentials([(key, cert)]))
    await server.start()
    key_file = _write_key_file(tmp_path / "authorized_key.json", private)
    yield Cloud(f"localhost:{port}", cert_path, key_file, private, iam, jobs)
    await server.stop(0)


async def _run_client(cloud: Cloud, key_file: Path, pause: float) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GRPC_DEFAULT_SSL_ROOTS_FILE_PATH": str(cloud.roots)}
    env.pop("YC_IAM_TOKEN", None)
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-c", CLIENT, cloud.address, str(key_file), str(pause)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


async def test_key_file_is_exchanged_for_iam_tokens_over_tls_and_renewed(cloud: Cloud) -> None:
    result = await _run_client(cloud, cloud.key_file, pause=LIFETIME_S * 0.75)

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"jobs": ["jobforsakeytest00000"] * 2, "issued": 2}
    assert cloud.jobs.used == cloud.iam.issued and len(set(cloud.iam.issued)) == 2, "renewed before expiry"
    claims = cloud.iam.claims[0]
    assert claims["iss"] == SERVICE_ACCOUNT and claims["aud"] == AUDIENCE
    assert isinstance(claims["exp"], int) and isinstance(claims["iat"], int)
    assert claims["exp"] - claims["iat"] == 3600


async def test_a_key_the_service_does_not_know_is_refused_clearly(cloud: Cloud, tmp_path: Path) -> None:
    other_private, _ = _key_pair()
    stranger = _write_key_file(tmp_path / "other_key.json", other_private)

    result = await _run_client(cloud, stranger, pause=0)

    assert result.returncode != 0
    assert f"refused to exchange the service account key {stranger}: UNAUTHENTICATED" in result.stderr
    assert "PRIVATE KEY" not in result.stderr and other_private.splitlines()[1] not in result.stderr
    assert cloud.iam.issued == []


async def test_a_malformed_key_file_names_the_file_and_the_missing_keys(cloud: Cloud, tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({"id": KEY_ID, "private_key": cloud.private_pem}))

    result = await _run_client(cloud, broken, pause=0)

    assert result.returncode != 0
    assert f"the service account key file {broken} lacks service_account_id" in result.stderr
    assert cloud.private_pem.splitlines()[1] not in result.stderr
