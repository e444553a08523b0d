"""A job's files as DataSphere lays them out: executable bits, paths outside the working dir, no escape."""

from __future__ import annotations

import io
import stat
import zipfile
from pathlib import Path

import grpc
import pytest
from yandex.cloud.datasphere.v2.jobs import jobs_pb2
from yandex.cloud.datasphere.v2.jobs import project_job_service_pb2 as service_pb2

from dsjobs_lsp.backends.local import LOCAL_PROJECT_ID
from tests.backends.local.local_backend_helpers import (
    Client,
    execute_response,
    file_entry,
    std_text,
    system_text,
)
from tests.support.local_backend import running_local_server

RUN_SH = b'#!/bin/sh\necho run.sh says "$@"\n'


def unix_zip(entries: dict[str, tuple[bytes, int]]) -> bytes:
    """A ZIP made on Unix: ``name -> (content, mode)``, the mode in ``external_attr`` as `zip` stores it."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, (content, mode) in sorted(entries.items()):
            info = zipfile.ZipInfo(name)
            info.create_system = 3
            info.external_attr = (stat.S_IFREG | mode) << 16
            archive.writestr(info, content)
    return buffer.getvalue()


def files_named(root: Path, name: str) -> list[Path]:
    """Every file called ``name`` under ``root``."""
    return list(root.rglob(name))


async def test_single_file_with_a_shebang_runs_as_a_program(client: Client) -> None:
    script = file_entry("run.sh", RUN_SH)
    tool = file_entry("bin/tool.py", b"#!/usr/bin/env python3\nimport sys\nprint('hello', sys.argv[1])\n")
    data = file_entry("data.txt", b"plain text\n")
    cmd = "./run.sh a b && ./bin/tool.py world && test ! -x data.txt && echo data not executable"
    job_id, operation = await client.run(cmd, [script, tool, data])
    logs = await client.all_logs(job_id)
    assert execute_response(operation).result.return_code == 0, system_text(logs) + std_text(logs, 2)
    assert std_text(logs) == "run.sh says a b\nhello world\ndata not executable\n"


async def test_a_single_file_cmd_runs_as_a_program_is_executable_without_a_shebang(client: Client) -> None:
    entry = file_entry("entry.sh", b'echo entry got "$@"\n')
    tool = file_entry("tools/tool.sh", b"echo tool ran\n", "TOOL")
    cmd = "./entry.sh a && (${TOOL}) && test ! -x README && echo readme plain"
    job_id, operation = await client.run(cmd, [entry, tool, file_entry("README", b"echo not run\n")])
    logs = await client.all_logs(job_id)
    assert execute_response(operation).result.return_code == 0, system_text(logs) + std_text(logs, 2)
    assert std_text(logs) == "entry got a\ntool ran\nreadme plain\n"


async def test_zip_entries_and_local_modules_keep_their_executable_bits(client: Client) -> None:
    folder = file_entry(
        "tools",
        unix_zip({"tools/go": (b"echo go ran\n", 0o755), "tools/notes.txt": (b"#!not a program\n", 0o644)}),
        "TOOLS",
        zip_=True,
    )
    module = file_entry("pkg", unix_zip({"pkg/cli.sh": (b"echo module script ran\n", 0o755)}), zip_=True)
    cmd = "${TOOLS}/go && ./pkg/cli.sh && test ! -x tools/notes.txt && echo notes not executable"
    job_id, operation = await client.run(cmd, [folder], modules=[module])
    logs = await client.all_logs(job_id)
    assert execute_response(operation).result.return_code == 0, system_text(logs) + std_text(logs, 2)
    assert std_text(logs) == "go ran\nmodule script ran\nnotes not executable\n"


async def test_inputs_and_outputs_outside_the_working_dir_are_reached_through_their_variables(
    client: Client, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    params = file_entry("/usr/share/params.json", b'{"lr": 0.1}', "PARAMS")
    sibling = file_entry("../shared/words.txt", b"up one\n", "WORDS")
    absolute_out = str(outside / "abs" / "result.txt")
    outputs = [
        jobs_pb2.FileDesc(path=absolute_out, var="RESULT"),
        jobs_pb2.FileDesc(path="../report.txt", var="REPORT"),
    ]
    cmd = "cat ${PARAMS} ${WORDS} && echo ${PARAMS} && echo done > ${RESULT} && echo up > ${REPORT} && pwd"
    job_id, operation = await client.run(cmd, [params, sibling], outputs=outputs)
    logs = await client.all_logs(job_id)
    response = execute_response(operation)
    assert response.result.return_code == 0, system_text(logs) + std_text(logs, 2)
    printed = std_text(logs).splitlines()
    assert printed[:2] == ['{"lr": 0.1}up one', printed[1]]
    job_dir = Path(printed[-1]).parent
    assert Path(printed[1]).is_relative_to(job_dir) and printed[1].endswith("/usr/share/params.json")
    assert sorted(f.file.desc.path for f in response.output_files) == sorted(o.path for o in outputs)
    assert not outside.exists()


async def test_no_file_path_or_archive_entry_reaches_outside_the_job(client: Client, tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.mkdir()
    double_slash = file_entry(f"/{victim}/input.txt", b"x", "IN")
    archive = file_entry(
        "bundle",
        unix_zip({f"/{victim}/zipped.txt": (b"z", 0o644), "bundle/ok.txt": (b"ok", 0o644)}),
        zip_=True,
    )
    (victim / "secret.txt").write_text("do not collect")
    output = jobs_pb2.FileDesc(path=f"/{victim}/secret.txt", var="SECRET")
    job_id, operation = await client.run(
        "ls ${IN} && echo ${SECRET}", [double_slash, archive], outputs=[output]
    )
    logs = await client.all_logs(job_id)
    response = execute_response(operation)
    assert response.result.return_code == 0, system_text(logs) + std_text(logs, 2)
    assert sorted(p.name for p in victim.iterdir()) == ["secret.txt"]
    assert not response.output_files
    assert [e.type for e in response.output_files_errors] == [jobs_pb2.FileUploadError.ErrorType.NOT_FOUND]


async def test_archive_entry_climbing_out_fails_the_job_naming_it(client: Client, tmp_path: Path) -> None:
    escaping = file_entry("bundle", unix_zip({"../../../escaped.txt": (b"z", 0o644)}), zip_=True)
    job_id, operation = await client.run("true", [escaping])
    job = await client.get(job_id)
    assert job.status == jobs_pb2.ERROR
    assert "../../../escaped.txt" in job.status_details
    assert not files_named(tmp_path, "escaped.txt")
    assert operation.done


@pytest.mark.parametrize("path", ["//etc/dsjobs-probe", "../up.txt", "/abs.txt"])
async def test_paths_leaving_the_working_dir_need_a_variable(client: Client, path: str) -> None:
    for params in (
        jobs_pb2.JobParameters(cmd="true", input_files=[file_entry(path, b"x")[0]]),
        jobs_pb2.JobParameters(cmd="true", output_files=[jobs_pb2.FileDesc(path=path)]),
    ):
        request = service_pb2.CreateProjectJobRequest(project_id=LOCAL_PROJECT_ID, job_parameters=params)
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await client.jobs.Create(request, metadata=client.md)
        assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "needs a variable" in (raised.value.details() or "")


async def test_variables_hold_absolute_paths_with_a_relative_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    async with (
        running_local_server(Path("relative-data")) as local,
        grpc.aio.insecure_channel(local.endpoints.jobs) as channel,
    ):
        client = Client(local, channel, local.token)
        files = [file_entry("in.txt", b"inside\n", "IN"), file_entry("../up.txt", b"up\n", "UP")]
        job_id, operation = await client.run("cat ${IN} ${UP}", files)
        logs = await client.all_logs(job_id)
    assert execute_response(operation).result.return_code == 0, system_text(logs) + std_text(logs, 2)
    assert std_text(logs) == "inside\nup\n"
