"""Contract: a job goes Create → upload → Execute → logs → outputs through the real gRPC server."""

from __future__ import annotations

import asyncio
import io
import zipfile

import grpc
import httpx
import pytest
from google.protobuf import duration_pb2
from yandex.cloud.datasphere.v2 import project_service_pb2
from yandex.cloud.datasphere.v2.jobs import jobs_pb2
from yandex.cloud.datasphere.v2.jobs import project_job_service_pb2 as service_pb2
from yandex.cloud.operation import operation_service_pb2

from dsjobs_lsp.backends.local import LOCAL_PROJECT_ID
from tests.backends.local.local_backend_helpers import (
    Client,
    download,
    execute_response,
    file_entry,
    std_text,
    system_text,
    zip_bytes,
)


async def test_job_runs_with_inputs_module_and_outputs(client: Client) -> None:
    data = file_entry("data/input.txt", b"hello from input\n", "DATA")
    module = file_entry(
        "/tmp/whatever.zip",
        zip_bytes({"helper.py": "GREETING = 'hi from module'\n"}),
        "_LOCAL_MODULE_0",
        zip_=True,
    )
    script = file_entry(
        "main.py",
        b"import sys, helper\n"
        b"text = open(sys.argv[1]).read()\n"
        b"print(helper.GREETING)\n"
        b"print('err line', file=sys.stderr)\n"
        b"open(sys.argv[2], 'w').write(text.upper())\n",
    )
    outputs = [jobs_pb2.FileDesc(path="out/result.txt", var="RESULT")]
    job_id, operation = await client.run(
        "python main.py ${DATA} ${RESULT}", [data, script], outputs=outputs, modules=[module]
    )
    assert not operation.HasField("error"), operation.error
    response = execute_response(operation)
    assert response.result.return_code == 0
    [output] = response.output_files
    assert output.file.desc.path == "out/result.txt"
    assert await download(output.url) == b"HELLO FROM INPUT\n"
    job = await client.get(job_id)
    assert job.status == jobs_pb2.SUCCESS
    assert job.started_at.seconds and job.finished_at.seconds
    messages = await client.all_logs(job_id)
    assert std_text(messages) == "hi from module\n"
    assert std_text(messages, service_pb2.ERR) == "err line\n"
    assert "exited with code 0" in system_text(messages)
    assert all(m.created_at.seconds > 0 for m in messages)


async def test_statuses_progress_through_the_lifecycle(client: Client) -> None:
    script = file_entry("slow.py", b"import time\nprint('started', flush=True)\ntime.sleep(0.6)\n")
    job_id, _ = await client.create("python slow.py", [script])
    assert (await client.get(job_id)).status == jobs_pb2.CREATING
    operation = await client.execute(job_id)
    seen: list[int] = []
    while not operation.done:
        metadata = service_pb2.ExecuteProjectJobMetadata()
        operation.metadata.Unpack(metadata)
        if not seen or seen[-1] != metadata.job.status:
            seen.append(metadata.job.status)
        operation = await client.operations.Get(
            operation_service_pb2.GetOperationRequest(operation_id=operation.id),
            metadata=client.md,
        )
        await asyncio.sleep(0.02)
    metadata = service_pb2.ExecuteProjectJobMetadata()
    operation.metadata.Unpack(metadata)
    seen.append(metadata.job.status)
    assert seen[0] == jobs_pb2.PREPARING
    assert jobs_pb2.EXECUTING in seen
    assert seen[-1] == jobs_pb2.SUCCESS
    assert seen.index(jobs_pb2.EXECUTING) < seen.index(jobs_pb2.SUCCESS)
    assert metadata.progress.progress == 100


async def test_failing_program_reports_exit_code_and_output_errors(client: Client) -> None:
    outputs = [jobs_pb2.FileDesc(path="never.txt", var="NEVER")]
    job_id, operation = await client.run("echo boom >&2; exit 3", outputs=outputs)
    assert not operation.HasField("error")
    response = execute_response(operation)
    assert response.result.return_code == 3
    [error] = response.output_files_errors
    assert error.output_file_desc.path == "never.txt"
    job = await client.get(job_id)
    assert job.status == jobs_pb2.ERROR
    assert "exited with code 3" in job.status_details


async def test_directory_input_and_output_round_trip_as_zip(client: Client) -> None:
    folder = file_entry(
        "dataset", zip_bytes({"dataset/a.txt": "A", "dataset/sub/b.txt": "B"}), "DS", zip_=True
    )
    cmd = "mkdir -p results && cat ${DS}/a.txt ${DS}/sub/b.txt > results/ab.txt"
    cmd += " && ls dataset/sub > results/ls.txt"
    _, operation = await client.run(cmd, [folder], outputs=[jobs_pb2.FileDesc(path="results")])
    [output] = execute_response(operation).output_files
    assert output.file.compression_type == jobs_pb2.ZIP
    archive = zipfile.ZipFile(io.BytesIO(await download(output.url)))
    assert sorted(archive.namelist()) == ["results/ab.txt", "results/ls.txt"]
    assert archive.read("results/ab.txt") == b"AB"


async def test_second_create_with_same_files_asks_for_no_upload(client: Client) -> None:
    files = [file_entry("a.bin", b"x" * 1000), file_entry("b.bin", b"y" * 10)]
    _, first = await client.create("true", files)
    assert len(first) == 2
    _, second = await client.create("true", files)
    assert second == []


async def test_execute_refuses_missing_uploads_naming_them(client: Client) -> None:
    job_id, _ = await client.create("true", [file_entry("needed.csv", b"1,2\n")], upload=False)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await client.execute(job_id)
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "needed.csv" in (caught.value.details() or "")


async def test_env_vars_and_project_home(client: Client) -> None:
    env = jobs_pb2.Environment(vars={"GREETING": "hello"})
    job_id, _ = await client.run(
        'echo "$GREETING" && echo x > "${DS_PROJECT_HOME}/f" && ls "$DS_PROJECT_HOME"',
        env=env,
        attach_project_disk=True,
    )
    assert std_text(await client.all_logs(job_id)) == "hello\nf\n"


async def test_list_pages_through_all_jobs_newest_first(client: Client) -> None:
    created = [(await client.create("true"))[0] for _ in range(5)]
    seen, token, pages = [], "", 0
    while True:
        page = await client.jobs.List(
            service_pb2.ListProjectJobRequest(project_id=LOCAL_PROJECT_ID, page_size=2, page_token=token),
            metadata=client.md,
        )
        pages += 1
        seen += [j.id for j in page.jobs]
        token = page.next_page_token
        if not token:
            break
    assert seen == list(reversed(created))
    assert pages == 3


async def test_job_page_shows_status_and_last_lines(client: Client) -> None:
    job_id, _ = await client.run("echo '<visible line>'")
    job = await client.get(job_id)
    project = await client.projects.Get(
        project_service_pb2.GetProjectRequest(project_id=job.project_id),
        metadata=client.md,
    )
    link = client.server.endpoints.job_link(project.community_id, job.project_id, job_id)
    async with httpx.AsyncClient() as http:
        page = await http.get(link)
        missing = await http.get(
            client.server.endpoints.job_link(project.community_id, job.project_id, "nope")
        )
    assert page.status_code == 200
    assert "SUCCESS" in page.text and "&lt;visible line&gt;" in page.text
    assert missing.status_code == 404


async def test_clone_reuses_parameters_with_overrides(client: Client) -> None:
    job_id, _ = await client.run("echo $WHO", env=jobs_pb2.Environment(vars={"WHO": "original"}))
    operation = await client.jobs.Clone(
        service_pb2.CloneProjectJobRequest(
            source_job_id=job_id,
            job_parameters_overrides=jobs_pb2.JobParameters(env=jobs_pb2.Environment(vars={"WHO": "clone"})),
        ),
        metadata=client.md,
    )
    response = service_pb2.CloneProjectJobResponse()
    operation.response.Unpack(response)
    assert response.upload_files == []
    await client.wait(await client.execute(response.job_id))
    assert std_text(await client.all_logs(response.job_id)) == "clone\n"
    assert (await client.get(response.job_id)).parent_job_id == job_id


async def test_data_ttl_sweep_clears_expired_data(client: Client) -> None:
    job_id, operation = await client.run("echo x > out.txt", outputs=[jobs_pb2.FileDesc(path="out.txt")])
    url = execute_response(operation).output_files[0].url
    await client.jobs.SetDataTtl(
        service_pb2.SetProjectJobDataTtlRequest(job_id=job_id, ttl=duration_pb2.Duration(nanos=1)),
        metadata=client.md,
    )
    await asyncio.sleep(0.01)
    assert await client.server.sweep() == 1
    job = await client.get(job_id)
    assert job.data_cleared
    async with httpx.AsyncClient() as http:
        assert (await http.get(url)).status_code == 404


async def test_delete_data_clears_files_and_logs_but_keeps_the_job(client: Client) -> None:
    job_id, _ = await client.run("echo kept > out.txt", outputs=[jobs_pb2.FileDesc(path="out.txt")])
    operation = await client.jobs.DeleteData(
        service_pb2.DeleteProjectJobDataRequest(job_id=job_id), metadata=client.md
    )
    assert operation.done
    assert (await client.get(job_id)).data_cleared
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await client.all_logs(job_id)
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    with pytest.raises(grpc.aio.AioRpcError) as download_refused:
        await client.jobs.DownloadJobFiles(
            service_pb2.DownloadProjectJobFilesRequest(job_id=job_id), metadata=client.md
        )
    assert download_refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION


async def test_download_job_files_gives_fresh_urls(client: Client) -> None:
    job_id, _ = await client.run("echo fresh > out.txt", outputs=[jobs_pb2.FileDesc(path="out.txt")])
    response = await client.jobs.DownloadJobFiles(
        service_pb2.DownloadProjectJobFilesRequest(job_id=job_id), metadata=client.md
    )
    [item] = response.download_files
    assert await download(item.url) == b"fresh\n"


async def test_config_args_are_substituted_into_cmd(client: Client) -> None:
    script = file_entry("main.py", b"import sys\nprint(sys.argv[1:])\n")
    arguments = [jobs_pb2.Argument(name="EPOCHS", value="3"), jobs_pb2.Argument(name="MSG", value="a b")]
    job_id, operation = await client.run("python main.py ${EPOCHS} ${MSG}", [script], arguments=arguments)
    assert execute_response(operation).result.return_code == 0
    assert std_text(await client.all_logs(job_id)) == "['3', 'a b']\n"


async def test_docker_image_is_reported_as_not_used_locally(client: Client) -> None:
    script = file_entry("main.py", b"print('ran')\n")
    environment = jobs_pb2.Environment(docker_image_resource_id="b1gdockerimage000000")
    job_id, operation = await client.run("python main.py", [script], env=environment)
    assert execute_response(operation).result.return_code == 0
    messages = await client.all_logs(job_id)
    assert "Docker image b1gdockerimage000000 is not used locally" in system_text(messages)
    assert std_text(messages) == "ran\n"
