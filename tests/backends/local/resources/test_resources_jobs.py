"""Jobs on the real local backend: datasets and S3 folders in, output datasets out, the project disk."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest
from yandex.cloud.datasphere.v2.jobs import jobs_pb2
from yandex.cloud.datasphere.v2.jobs import project_job_service_pb2 as service_pb2

from dsjobs_lsp.backends.local import LOCAL_PROJECT_ID, LocalServer
from dsjobs_lsp.backends.local.resources.isolation import read_only_binds_available
from tests.backends.local.local_backend_helpers import Client, execute_response, std_text, system_text


def folder(root: Path, files: dict[str, str]) -> Path:
    """A folder holding ``files`` (relative path -> text)."""
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def snapshot(root: Path) -> dict[str, str]:
    """Every file under ``root``, relative path -> text."""
    return {p.relative_to(root).as_posix(): p.read_text() for p in sorted(root.rglob("*")) if p.is_file()}


async def test_dataset_and_s3_in_output_dataset_out_then_a_second_job_reads_it(
    server: LocalServer, client: Client, tmp_path: Path
) -> None:
    source = folder(tmp_path / "source", {"a.txt": "alpha\n", "sub/b.txt": "beta\n"})
    bucket = folder(tmp_path / "bucket", {"in.txt": "from bucket\n"})
    dataset = server.engine.resources.create_dataset(LOCAL_PROJECT_ID, "inputs", source)
    connector = server.engine.resources.create_connector(LOCAL_PROJECT_ID, bucket)
    (source / "a.txt").write_text("changed after create\n")  # the dataset is a copy

    job_id, operation = await client.run(
        f"cat ${{{dataset.id}}}/a.txt ${{{dataset.id}}}/sub/b.txt ${{{connector.id}}}/in.txt"
        f" > ${{OUT}}/all.txt && echo written > ${{{connector.id}}}/from-job.txt",
        dataset_ids=[dataset.id],
        s3_mount_ids=[connector.id],
        output_datasets=[jobs_pb2.OutputDatasetDesc(name="combined", var="OUT", size_gb=1)],
    )

    assert not operation.HasField("error"), operation.error
    system = system_text(await client.all_logs(job_id))
    assert (
        f"dataset {dataset.id} (inputs) is at " in system
        and f"connector {connector.id} is the folder" in system
    )
    created = list(execute_response(operation).output_datasets)
    assert [(d.desc.name, len(d.id)) for d in created] == [("combined", 20)]
    assert list((await client.get(job_id)).output_datasets) == created
    assert (bucket / "from-job.txt").read_text() == "written\n"  # the mapping is live and read-write
    listed = {d.id: d for d in server.engine.resources.datasets(LOCAL_PROJECT_ID)}
    assert listed[created[0].id].name == "combined" and listed[created[0].id].job_id == job_id

    second, operation = await client.run(f"cat ${{{created[0].id}}}/all.txt", dataset_ids=[created[0].id])

    assert not operation.HasField("error"), operation.error
    assert std_text(await client.all_logs(second)) == "alpha\nbeta\nfrom bucket\n"


async def test_a_job_writing_into_a_dataset_leaves_it_unchanged_for_the_next_job(
    server: LocalServer, client: Client, tmp_path: Path
) -> None:
    source = folder(tmp_path / "source", {"a.txt": "original\n", "b.txt": "keep me\n"})
    dataset = server.engine.resources.create_dataset(LOCAL_PROJECT_ID, "fixed", source)
    before = snapshot(dataset.folder)
    path = f"${{{dataset.id}}}"

    writer, _ = await client.run(
        f"echo overwritten > {path}/a.txt; rm {path}/b.txt; echo new > {path}/c.txt; cat {path}/a.txt",
        dataset_ids=[dataset.id],
    )
    second, operation = await client.run(f"cat {path}/a.txt {path}/b.txt", dataset_ids=[dataset.id])

    assert not operation.HasField("error"), operation.error
    assert std_text(await client.all_logs(second)) == "original\nkeep me\n"
    assert snapshot(dataset.folder) == before
    if read_only_binds_available():  # a read-only view refuses the writes; a private copy takes them
        assert "Read-only file system" in std_text(await client.all_logs(writer), service_pb2.ERR)
    else:
        assert std_text(await client.all_logs(writer)) == "overwritten\n"


async def test_a_failed_job_creates_no_output_dataset(server: LocalServer, client: Client) -> None:
    _, operation = await client.run(
        "echo partial > ${OUT}/part.txt; exit 3",
        output_datasets=[jobs_pb2.OutputDatasetDesc(name="never", var="OUT", size_gb=1)],
    )

    assert list(execute_response(operation).output_datasets) == []
    assert server.engine.resources.datasets(LOCAL_PROJECT_ID) == []


async def test_the_project_disk_persists_between_jobs(client: Client) -> None:
    _, operation = await client.run("echo kept > ${DS_PROJECT_HOME}/note.txt", attach_project_disk=True)
    assert not operation.HasField("error"), operation.error

    second, operation = await client.run("cat ${DS_PROJECT_HOME}/note.txt", attach_project_disk=True)

    assert not operation.HasField("error"), operation.error
    assert std_text(await client.all_logs(second)) == "kept\n"


async def test_an_unknown_dataset_or_connector_is_refused_before_the_job_runs(client: Client) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await client.create(
            "cat ${ab000000000000000000}/x",
            dataset_ids=["ab000000000000000000"],
            s3_mount_ids=["cd000000000000000000"],
        )

    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    details = refused.value.details() or ""
    assert "dataset 'ab000000000000000000'" in details and "dsjobs local dataset create" in details
    assert "S3 connector 'cd000000000000000000'" in details and "dsjobs local s3 create" in details


async def test_a_dataset_deleted_after_create_fails_the_job_naming_it(
    server: LocalServer, client: Client, tmp_path: Path
) -> None:
    source = folder(tmp_path / "source", {"a": "1"})
    dataset = server.engine.resources.create_dataset(LOCAL_PROJECT_ID, "gone", source)
    job_id, _ = await client.create(f"cat ${{{dataset.id}}}/a", dataset_ids=[dataset.id])
    server.engine.resources.delete_dataset(LOCAL_PROJECT_ID, dataset.id)

    operation = await client.wait(await client.execute(job_id))

    assert (await client.get(job_id)).status == jobs_pb2.ERROR
    assert dataset.id in operation.error.message
    assert "dsjobs local dataset create" in system_text(await client.all_logs(job_id))
