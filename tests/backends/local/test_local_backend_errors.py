"""Contract: auth, malformed requests and presigned URLs are refused with the right codes."""

from __future__ import annotations

import hashlib
from urllib.parse import parse_qs, urlencode, urlsplit

import grpc
import httpx
import pytest
from google.protobuf import empty_pb2
from yandex.cloud.datasphere.v2 import project_service_pb2
from yandex.cloud.datasphere.v2.jobs import jobs_pb2
from yandex.cloud.datasphere.v2.jobs import project_job_service_pb2 as service_pb2
from yandex.cloud.operation import operation_service_pb2

from dsjobs_lsp.backends.local import LOCAL_PROJECT_ID, LocalServer
from dsjobs_lsp.backends.local.blobs import UrlSigner
from tests.backends.local.local_backend_helpers import Client, file_entry


@pytest.mark.parametrize(
    "metadata", [(), (("authorization", "Bearer wrong"),), (("authorization", "token"),)]
)
async def test_calls_without_the_token_are_unauthenticated(
    client: Client, metadata: tuple[tuple[str, str], ...]
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as unary:
        await client.jobs.Get(service_pb2.GetProjectJobRequest(job_id="x"), metadata=metadata)
    assert unary.value.code() == grpc.StatusCode.UNAUTHENTICATED
    with pytest.raises(grpc.aio.AioRpcError) as streaming:
        async for _ in client.jobs.ReadLogs(
            service_pb2.ReadProjectJobLogsRequest(job_id="x"), metadata=metadata
        ):
            pass
    assert streaming.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert client.token not in (unary.value.details() or "")


async def test_token_is_stored_private_and_stable(server: LocalServer) -> None:
    token_file = server.layout.token_file
    assert token_file.stat().st_mode & 0o777 == 0o600
    assert token_file.read_text().strip() == server.token


async def _code(call: object) -> grpc.StatusCode:
    try:
        result = await call  # type: ignore[misc]
        del result
    except grpc.aio.AioRpcError as error:
        return error.code()
    raise AssertionError("the call succeeded")


async def test_malformed_requests_get_specific_codes(client: Client) -> None:
    md = client.md
    jobs = client.jobs
    invalid, not_found = grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND
    assert await _code(jobs.Get(service_pb2.GetProjectJobRequest(job_id=""), metadata=md)) == invalid
    assert (
        await _code(jobs.Get(service_pb2.GetProjectJobRequest(job_id="nosuchjob"), metadata=md)) == not_found
    )
    assert (
        await _code(jobs.Execute(service_pb2.ExecuteProjectJobRequest(job_id="nosuchjob"), metadata=md))
        == not_found
    )
    assert (
        await _code(jobs.List(service_pb2.ListProjectJobRequest(project_id="Bad Project"), metadata=md))
        == invalid
    )
    assert (
        await _code(
            jobs.List(
                service_pb2.ListProjectJobRequest(project_id=LOCAL_PROJECT_ID, page_token="%%%garbage"),
                metadata=md,
            )
        )
        == invalid
    )
    assert (
        await _code(
            jobs.List(
                service_pb2.ListProjectJobRequest(project_id=LOCAL_PROJECT_ID, page_size=-1), metadata=md
            )
        )
        == invalid
    )
    bad_hash = jobs_pb2.File(desc=jobs_pb2.FileDesc(path="a.txt"), sha256="nothex")
    escaping = file_entry("../outside.txt", b"x")[0]
    for params in (
        jobs_pb2.JobParameters(cmd=""),
        jobs_pb2.JobParameters(cmd="true", input_files=[bad_hash]),
        jobs_pb2.JobParameters(cmd="true", input_files=[escaping]),
    ):
        create = service_pb2.CreateProjectJobRequest(project_id=LOCAL_PROJECT_ID, job_parameters=params)
        assert await _code(jobs.Create(create, metadata=md)) == invalid, params
    assert (
        await _code(
            client.operations.Get(operation_service_pb2.GetOperationRequest(operation_id="nope"), metadata=md)
        )
        == not_found
    )
    assert (
        await _code(
            client.projects.Get(project_service_pb2.GetProjectRequest(project_id="short"), metadata=md)
        )
        == invalid
    )
    finished, _ = await client.run("true")
    assert (
        await _code(jobs.Execute(service_pb2.ExecuteProjectJobRequest(job_id=finished), metadata=md))
        == grpc.StatusCode.FAILED_PRECONDITION
    )


async def test_project_get_returns_a_community_for_job_links(client: Client) -> None:
    project = await client.projects.Get(
        project_service_pb2.GetProjectRequest(project_id=LOCAL_PROJECT_ID), metadata=client.md
    )
    assert project.id == LOCAL_PROJECT_ID and project.community_id


async def test_delete_removes_a_finished_job(client: Client) -> None:
    job_id, _ = await client.run("true")
    operation = await client.jobs.Delete(
        service_pb2.DeleteProjectJobRequest(job_id=job_id), metadata=client.md
    )
    assert operation.done and operation.response.Is(empty_pb2.Empty.DESCRIPTOR)
    assert await _code(client.get(job_id)) == grpc.StatusCode.NOT_FOUND


def _replace_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()} | changes
    return parts._replace(query=urlencode(query)).geturl()


async def test_presigned_urls_refuse_tampering_expiry_and_wrong_bytes(client: Client) -> None:
    content = b"payload bytes"
    _, [upload] = await client.create("true", [file_entry("p.bin", content)], upload=False)
    other_sha = hashlib.sha256(b"other").hexdigest()
    async with httpx.AsyncClient() as http:
        forged_path = upload.url.replace(upload.file.sha256, other_sha)
        assert (await http.put(forged_path, content=b"other")).status_code == 403
        assert (
            await http.put(_replace_query(upload.url, signature="0" * 64), content=content)
        ).status_code == 403
        later = str(int(parse_qs(urlsplit(upload.url).query)["expires"][0]) + 3600)
        assert (await http.put(_replace_query(upload.url, expires=later), content=content)).status_code == 403
        assert (await http.get(upload.url)).status_code == 403  # signed for PUT, not GET
        key = client.server.layout.signing_key_file.read_text().strip().encode()
        expired = UrlSigner(key, client.server.endpoints.ui_base_url).url(
            "PUT", f"/blobs/{upload.file.sha256}", ttl=-1
        )
        refused = await http.put(expired, content=content)
        assert refused.status_code == 403 and "expired" in refused.text
        wrong = await http.put(upload.url, content=b"not the payload")
        assert wrong.status_code == 400
        assert (await http.put(upload.url, content=content)).status_code == 200
