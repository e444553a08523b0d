"""The cloud path on loopback: TLS channels, OAuth → IAM exchange over TLS, the IAM token as bearer.

The servers use a throwaway self-signed certificate; the client trusts it through gRPC's standard
`GRPC_DEFAULT_SSL_ROOTS_FILE_PATH` (what a user behind a TLS-inspecting proxy sets too), so the client
runs in a subprocess with that variable set before gRPC loads its roots.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import grpc.aio
import pytest
from yandex.cloud.datasphere.v2.jobs import jobs_pb2
from yandex.cloud.datasphere.v2.jobs import project_job_service_pb2 as service_pb2
from yandex.cloud.datasphere.v2.jobs import project_job_service_pb2_grpc as service_grpc
from yandex.cloud.iam.v1 import iam_token_service_pb2, iam_token_service_pb2_grpc

OAUTH = "y0_oauth-secret-for-test"
IAM = "t1.iam-issued-for-test"

CLIENT = textwrap.dedent(
    """
    import asyncio, json, sys
    from dsjobs_lsp.backends.endpoints import Endpoints
    from dsjobs_lsp.core.auth import IamTokenSource
    from dsjobs_lsp.core.client import JobsClient

    async def main(address: str, oauth: str) -> None:
        endpoints = Endpoints("cloud", address, address, address, True, "https://datasphere.example")
        source = IamTokenSource(oauth, iam_endpoint=address)
        async with JobsClient(endpoints, source) as client:
            job = await client.get("jobfortlstest0000000")
        print(json.dumps({"id": job.id, "status": job.status}))

    asyncio.run(main(sys.argv[1], sys.argv[2]))
    """
)


class _Iam(iam_token_service_pb2_grpc.IamTokenServiceServicer):  # type: ignore[misc]
    async def Create(
        self, request: iam_token_service_pb2.CreateIamTokenRequest, context: grpc.aio.ServicerContext
    ) -> iam_token_service_pb2.CreateIamTokenResponse:
        if request.yandex_passport_oauth_token != OAUTH:
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, "bad OAuth token")
        response = iam_token_service_pb2.CreateIamTokenResponse(iam_token=IAM)
        response.expires_at.GetCurrentTime()
        response.expires_at.seconds += 3600
        return response


class _Jobs(service_grpc.ProjectJobServiceServicer):  # type: ignore[misc]
    async def Get(
        self, request: service_pb2.GetProjectJobRequest, context: grpc.aio.ServicerContext
    ) -> jobs_pb2.Job:
        if ("authorization", f"Bearer {IAM}") not in tuple(context.invocation_metadata() or ()):
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, "no IAM bearer token")
        return jobs_pb2.Job(id=request.job_id, status=jobs_pb2.SUCCESS)


def _self_signed(directory: Path) -> tuple[bytes, bytes, Path]:
    key, cert = directory / "key.pem", directory / "cert.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return key.read_bytes(), cert.read_bytes(), cert


@pytest.fixture
async def tls_server(tmp_path: Path) -> AsyncIterator[tuple[int, Path]]:
    key, cert, cert_path = _self_signed(tmp_path)
    server = grpc.aio.server()
    iam_token_service_pb2_grpc.add_IamTokenServiceServicer_to_server(_Iam(), server)  # type: ignore[abstract]
    service_grpc.add_ProjectJobServiceServicer_to_server(_Jobs(), server)  # type: ignore[abstract]
    port = server.add_secure_port("127.0.0.1:0", grpc.ssl_server_credentials([(key, cert)]))
    await server.start()
    yield port, cert_path
    await server.stop(0)


async def _run_client(port: int, roots: Path, oauth: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GRPC_DEFAULT_SSL_ROOTS_FILE_PATH": str(roots)}
    env.pop("YC_IAM_TOKEN", None)
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-c", CLIENT, f"localhost:{port}", oauth],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


async def test_cloud_client_exchanges_oauth_for_iam_and_calls_over_tls(tls_server: tuple[int, Path]) -> None:
    port, roots = tls_server
    result = await _run_client(port, roots, OAUTH)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"id": "jobfortlstest0000000", "status": jobs_pb2.SUCCESS}


async def test_rejected_oauth_token_is_a_clear_error_without_the_token(tls_server: tuple[int, Path]) -> None:
    port, roots = tls_server
    wrong = "y0_wrong-oauth-token-value"
    result = await _run_client(port, roots, wrong)
    assert result.returncode != 0
    assert "refused to exchange the OAuth token" in result.stderr
    assert wrong not in result.stderr
